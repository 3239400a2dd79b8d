"""What one Alertmanager webhook costs in process (issue #8's alert storm): SQL statements and milliseconds per
request, by outcome (a new incident, a repeat, a resolve), on SQLite and on PostgreSQL when it answers.

Run from the repository root: `python bench/bench_webhook_cost.py [--teams 20] [--alerts 400] [--profile]
[--no-postgres]`. No HTTP server: requests go through Flask's test client, so the figures are the service's
own cost. Teams of two (SMS and voice to the whole team), like bench_paging_faults.py's storm."""
import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_load import ensure_postgres_database, fresh_database  # noqa: E402

POSTGRES_URL = os.environ.get("ONCALL_BENCH_WEBHOOK_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/oncall_bench_webhooks")

POLICY = [{"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["sms", "voice"]}]


def setup(url: str, teams: int):
    from oncall.schema import upgrade
    from sqlalchemy import event

    from oncall import create_app
    from oncall.clock import utcnow
    from oncall.db import get_engine, get_sessionmaker
    from oncall.escalation import service as escalation
    from oncall.incidents import service as incidents
    from oncall.people import service as people

    fresh_database(url)
    app = create_app({"DATABASE_URL": url, "PUBLIC_URL": "https://oncall.example.com", "NOTIFIER": "console"})
    with app.app_context():
        upgrade()
    tokens = []
    with get_sessionmaker(app).begin() as session:
        for t in range(teams):
            users = [people.create_user(session, name=f"Person {t}-{i}", email=f"p{t}-{i}@bench.example.com",
                                        phone=f"+1555{t:05d}{i:02d}", time_zone="UTC") for i in range(2)]
            team = people.create_team(session, name=f"team {t}", slug=f"team-{t}", time_zone="UTC")
            people.set_members(session, team, user_ids=[u.id for u in users], admin_ids=[])
            for severity in ("SEV1", "SEV2", "SEV3", "SEV4"):
                escalation.set_policy(session, team_id=team.id, severity=severity, user_id=None, now=utcnow(),
                                      data={"repeat": 0, "steps": POLICY})
            tokens.append(incidents.create_integration(session, team_id=team.id, type="alertmanager",
                                                       now=utcnow())[1])
    statements: list[str] = []
    event.listen(get_engine(app), "before_cursor_execute", lambda *a: statements.append(a[2]))
    return app, tokens, statements


def plan(tokens: list[str], alerts: int, rng: random.Random):
    firing: dict[str, list[str]] = {t: [] for t in tokens}
    for i in range(alerts):
        token = tokens[i % len(tokens)]
        mine, roll = firing[token], rng.random()
        if mine and roll < 0.15:
            yield token, rng.choice(mine), "firing"
        elif mine and roll < 0.25:
            yield token, mine.pop(rng.randrange(len(mine))), "resolved"
        else:
            mine.append(f"fp-{i:05d}")
            yield token, f"fp-{i:05d}", "firing"


def body(fingerprint: str, status: str) -> dict:
    alert = {"status": status, "fingerprint": fingerprint, "startsAt": "2026-01-01T00:00:00Z",
             "labels": {"alertname": fingerprint, "severity": "critical"},
             "annotations": {"summary": f"Storm alert {fingerprint}"}}
    return {"version": "4", "status": status, "receiver": "oncall", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.example.com", "alerts": [alert]}


def run(url: str, *, teams: int, alerts: int, profile: bool) -> None:
    app, tokens, statements = setup(url, teams)
    client = app.test_client()
    by_action: dict[str, list[tuple[int, float]]] = defaultdict(list)
    samples: dict[str, list[str]] = {}
    profiler = cProfile.Profile() if profile else None
    cpu_started = time.process_time()
    for token, fingerprint, status in plan(tokens, alerts, random.Random(8)):
        statements.clear()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        response = client.post("/api/v1/integrations/alertmanager", json=body(fingerprint, status),
                               headers={"Authorization": f"Bearer {token}"})
        if profiler:
            profiler.disable()
        took = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.json
        action = response.json["results"][0]["action"]
        by_action[action].append((len(statements), took))
        samples.setdefault(action, list(statements))
    cpu = (time.process_time() - cpu_started) * 1000 / alerts
    print(f"\n{url.split(':', 1)[0]}: {alerts} webhooks across {teams} teams; {cpu:.1f} ms CPU per webhook "
          "(this process: Flask, SQLAlchemy, the driver)")
    for action, rows in sorted(by_action.items(), key=lambda kv: -len(kv[1])):
        counts = Counter(n for n, _ in rows)
        print(f"  {action:11} x{len(rows):4}: statements {dict(sorted(counts.items()))}, "
              f"ms median {statistics.median(t for _, t in rows):.1f}")
    if os.environ.get("BENCH_SHOW_SQL"):
        for action, sql in samples.items():
            print(f"\n  --- {action} ---")
            for s in sql:
                print("   ", " ".join(s.split())[:160])
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--alerts", type=int, default=400)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/webhooks.db", teams=args.teams, alerts=args.alerts, profile=args.profile)
    if not args.no_postgres and ensure_postgres_database(POSTGRES_URL):
        run(POSTGRES_URL, teams=args.teams, alerts=args.alerts, profile=args.profile)


if __name__ == "__main__":
    main()
