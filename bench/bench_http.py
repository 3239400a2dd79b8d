"""`GET /api/v1/teams/{id}/oncall` through the real HTTP stack: gunicorn with 2 workers, token auth on,
8 concurrent clients (wrk -t2 -c8), on SQLite and PostgreSQL, against a bare Flask+SQLAlchemy baseline.

Run from the repo root: python bench/bench_http.py  [--seconds 10]
Needs wrk (apt-get install wrk); without it a slower Python client is used and says so."""
import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_load import POSTGRES_BENCH_URL, ensure_postgres_database, gunicorn, seed_team, wrk  # noqa: E402

TARGET_RPS, TARGET_P99_MS = 2000, 15.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    databases = [("SQLite", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")]
    if ensure_postgres_database(POSTGRES_BENCH_URL):
        databases.append(("PostgreSQL", POSTGRES_BENCH_URL))
    print(f"GET /api/v1/teams/{{id}}/oncall, gunicorn -w 2, {args.seconds}s per run, 8 connections")
    print(f"targets: >= {TARGET_RPS} requests/s, p99 < {TARGET_P99_MS} ms")
    for label, url in databases:
        ids = seed_team(url)
        headers = {"Authorization": f"Bearer {ids['token']}"}
        path = f"/api/v1/teams/{ids['team_id']}/oncall"
        env = {"ONCALL_DATABASE_URL": url}
        with gunicorn(env) as base:
            wrk(base + path, headers=headers, seconds=2)  # warm-up: imports, connection pools
            ours = wrk(base + path, headers=headers, seconds=args.seconds)
        with gunicorn(env, app="bench.baseline_app:app") as base:
            wrk(base + path, headers=headers, seconds=2)
            baseline = wrk(base + path, headers=headers, seconds=args.seconds)
        verdict = "PASS" if ours["rps"] >= TARGET_RPS and ours["p99"] < TARGET_P99_MS else "MISS"
        print(f"{label:<10} oncall:   {ours['rps']:8.0f} req/s  p50 {ours['p50']:6.2f} ms  p99 {ours['p99']:6.2f} ms"
              f"  errors {ours['errors']}  [{verdict}] ({ours['tool']})")
        print(f"{label:<10} baseline: {baseline['rps']:8.0f} req/s  p50 {baseline['p50']:6.2f} ms"
              f"  p99 {baseline['p99']:6.2f} ms  (bare Flask+SQLAlchemy, two indexed lookups)")
        print(f"{label:<10} ratio:    {ours['rps'] / baseline['rps']:.2f}x of the baseline's throughput")


if __name__ == "__main__":
    main()
