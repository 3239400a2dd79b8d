"""Escalation and paging (issue #4): how fast an incident reaches the notifier, how punctually steps fire.

1. Latency: incidents opened through the HTTP API and through the Alertmanager webhook, one every ~50 ms;
   for each, the time from sending the request to the notifier's first page for it (the moment the Twilio
   API request would be made). Target: p99 < 1 s.
2. Step timing: 10,000 open incidents in the database (their next steps hours away), plus incidents whose
   next step comes due at known instants over the following seconds; for each, how late the engine fired it
   and how late its first page reached the notifier. Target: every step within 2 s of its due time.

Pages go to a file notifier (ONCALL_NOTIFIER=file:...), which records when each request was made.
On SQLite: one gunicorn worker running the worker's jobs in-process (RUN_WORKER_IN_WEB, the quick start).
On PostgreSQL: gunicorn -w 2 and two `oncall worker` processes (production). Run from the repository root:
`python bench/bench_escalation.py [--incidents 200] [--open 10000] [--due 200] [--no-postgres]`.
Prints PASS/MISS against the targets and always exits 0: timings depend on the machine.
"""
import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_load import ensure_postgres_database, fresh_database, gunicorn  # noqa: E402

UTC = timezone.utc
POSTGRES_URL = os.environ.get("ONCALL_BENCH_ESCALATION_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/oncall_bench_escalation")
LATENCY_TARGET_MS = 1000.0
STEP_TARGET_MS = 2000.0
ONCALL = str(Path(sys.executable).parent / "oncall")


def seed(url: str, *, bulk: int) -> dict:
    """A team of three whose every severity pages them all by SMS and voice at once, an API token, an
    Alertmanager integration, and `bulk` open incidents of another team whose next steps are hours away."""
    from oncall.schema import upgrade

    from oncall import create_app
    from oncall.clock import utcnow
    from oncall.db import get_engine, get_sessionmaker
    from oncall.escalation import service as escalation
    from oncall.incidents import service as incidents
    from oncall.incidents.models import Incident
    from oncall.people import service as people
    from oncall.people.tokens import create_api_token

    fresh_database(url)
    app = create_app({"DATABASE_URL": url})
    now = utcnow()
    with app.app_context():
        upgrade(revision="heads")
        with get_sessionmaker().begin() as session:
            admin = people.ensure_user(session, email="bench@example.com", admin=True)
            token = create_api_token(session, user=admin, name="bench")
            teams = {}
            for slug in ("payments", "backlog"):
                users = [people.create_user(session, name=f"{slug} {i}", email=f"{slug}{i}@example.com",
                                            phone=f"+1{'415' if slug == 'payments' else '212'}555{i:04d}",
                                            time_zone="UTC") for i in range(3)]
                team = people.create_team(session, name=slug.title(), slug=slug, time_zone="UTC")
                people.set_members(session, team, user_ids=[u.id for u in users], admin_ids=[])
                for severity in ("SEV1", "SEV2"):
                    escalation.set_policy(session, team_id=team.id, severity=severity, user_id=None, now=now, data={
                        "repeat": 0, "steps": [
                            {"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["sms", "voice"]},
                            {"delay_minutes": 30, "targets": [{"type": "user", "id": users[0].id}],
                             "channels": ["voice"]}]})
                teams[slug] = team
            _, hook_token = incidents.create_integration(session, team_id=teams["payments"].id, type="alertmanager",
                                                         now=now)
            snapshot = escalation.snapshot_for(session, team=teams["backlog"], severity="SEV2").to_json()
            backlog_id = teams["backlog"].id
            payments_id = teams["payments"].id
        # The backlog: open incidents whose next step is between one and six hours away.
        rng = random.Random(4)
        for start in range(0, bulk, 2000):
            with get_sessionmaker().begin() as session:
                session.add_all(Incident(
                    code=10**6 + i, team_id=backlog_id, severity="SEV2", title=f"Backlog {i}", status="triggered",
                    source="api", trigger_count=1, last_triggered_at=now, created_at=now, policy=snapshot,
                    next_step=1, round=0, next_step_at=now + timedelta(seconds=rng.uniform(3600, 6 * 3600)))
                    for i in range(start, min(bulk, start + 2000)))
    get_engine(app).dispose()
    return {"token": token, "hook_token": hook_token, "team_id": payments_id, "snapshot": snapshot}


def schedule_due(url: str, team_id: int, snapshot: dict, count: int, *, first_in: float, spread: float) -> dict:
    """`count` incidents whose step 0 comes due at instants spread over [now + first_in, + spread]."""
    from oncall.clock import utcnow
    from oncall.db import make_engine
    from oncall.incidents.models import Incident
    from sqlalchemy.orm import Session

    engine = make_engine(url)
    now = utcnow()
    due = {}
    with Session(engine) as session, session.begin():
        rows = [Incident(code=2 * 10**6 + i, team_id=team_id, severity="SEV2", title=f"Due {i}", status="triggered",
                         source="api", trigger_count=1, last_triggered_at=now, created_at=now, policy=snapshot,
                         next_step=0, round=0, next_step_at=now + timedelta(seconds=first_in + spread * i / count))
                for i in range(count)]
        session.add_all(rows)
        session.flush()
        due = {r.id: r.next_step_at.timestamp() for r in rows}
    engine.dispose()
    return due


def step_times(url: str, ids) -> dict[int, float]:
    """When the engine fired step 0 of each incident (its timeline's first "step" event)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from oncall.db import make_engine
    from oncall.incidents.models import TimelineEvent

    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(TimelineEvent.incident_id, TimelineEvent.at)
                               .where(TimelineEvent.incident_id.in_(list(ids)), TimelineEvent.kind == "step")).all()
    engine.dispose()
    fired: dict[int, float] = {}
    for incident_id, at in rows:
        fired[incident_id] = min(fired.get(incident_id, float("inf")), at.timestamp())
    return fired


def first_pages(path: Path) -> dict[int, float]:
    """Incident id -> when the notifier was first asked to page for it."""
    first: dict[int, float] = {}
    if not path.exists():
        return first
    for line in path.read_text().splitlines():
        page = json.loads(line)
        body = page["body"]
        marker = "/incidents/" if page["channel"] == "sms" else "incident="
        if marker not in body:  # a digest SMS names codes, not ids; its incidents' calls went out anyway
            continue
        incident_id = int(body.split(marker, 1)[1].split('"', 1)[0].split("\n", 1)[0].split("&", 1)[0])
        first[incident_id] = min(first.get(incident_id, float("inf")), page["at"])
    return first


def post(url: str, body: dict, token: str) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def alert(i: int) -> dict:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {"version": "4", "status": "firing", "receiver": "oncall", "groupKey": f"bench-{i}", "truncatedAlerts": 0,
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager",
            "alerts": [{"status": "firing", "labels": {"alertname": f"Bench{i}", "severity": "critical"},
                        "annotations": {"summary": f"Bench alert {i}"}, "startsAt": now,
                        "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus",
                        "fingerprint": f"bench{i:08d}"}]}


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@contextmanager
def workers(env: dict, count: int):
    processes = [subprocess.Popen([ONCALL, "worker"], env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(count)]
    try:
        time.sleep(2)  # started and polling
        yield
    finally:
        for p in processes:
            os.killpg(p.pid, signal.SIGTERM)
        for p in processes:
            p.wait(timeout=20)


def percentiles(values_ms: list[float]) -> str:
    if not values_ms:
        return "no samples"
    ordered = sorted(values_ms)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return (f"p50 {statistics.median(ordered):7.1f} ms   p99 {p99:7.1f} ms   max {ordered[-1]:7.1f} ms   "
            f"(n={len(ordered)})")


def p99(values_ms: list[float]) -> float:
    ordered = sorted(values_ms)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))] if ordered else float("inf")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def run(url: str, label: str, args) -> None:
    print(f"\n== {label} ==")
    t0 = time.perf_counter()
    ids = seed(url, bulk=args.open)
    print(f"  seeded {args.open} open incidents in {time.perf_counter() - t0:.1f} s")
    pages = Path(tempfile.mkdtemp(prefix="oncall-bench-")) / "pages.jsonl"
    env = {"ONCALL_DATABASE_URL": url, "ONCALL_NOTIFIER": f"file:{pages}", "ONCALL_PUBLIC_URL": "http://bench"}
    sqlite = url.startswith("sqlite")
    if sqlite:
        setup = "gunicorn -w 1 with the worker's jobs in-process (RUN_WORKER_IN_WEB)"
        web_env, web_workers, worker_count = env | {"ONCALL_RUN_WORKER_IN_WEB": "true"}, 1, 0
    else:
        setup = "gunicorn -w 2 and 2 `oncall worker` processes"
        web_env, web_workers, worker_count = env, 2, 2
    print(f"  setup: {setup}")
    with gunicorn(web_env, workers=web_workers) as base, workers(env, worker_count):
        urllib.request.urlopen(f"{base}/healthz", timeout=5).read()  # starts the in-process worker on SQLite
        # 1. latency
        sent: dict[int, tuple[str, float]] = {}
        http_ms = []
        for i in range(args.incidents):
            started = time.time()
            if i % 2 == 0:
                body = post(f"{base}/api/v1/incidents", {"team_id": ids["team_id"], "severity": "SEV1",
                                                         "title": f"Bench incident {i}"}, ids["token"])
                sent[body["id"]] = ("api", started)
            else:
                body = post(f"{base}/api/v1/integrations/alertmanager", alert(i), ids["hook_token"])
                sent[body["results"][0]["incident_id"]] = ("alertmanager", started)
            http_ms.append((time.time() - started) * 1000)
            time.sleep(random.uniform(0.02, 0.08))
        wait_until(lambda: set(sent) <= set(first_pages(pages)), timeout=30)
        first = first_pages(pages)
        by_path = {"api": [], "alertmanager": []}
        for incident_id, (path, started) in sent.items():
            if incident_id in first:
                by_path[path].append((first[incident_id] - started) * 1000)
        missing = len(sent) - sum(len(v) for v in by_path.values())
        every = by_path["api"] + by_path["alertmanager"]
        print("  1. request -> first notifier request")
        print(f"     HTTP response alone     {percentiles(http_ms)}")
        print(f"     via POST /incidents     {percentiles(by_path['api'])}")
        print(f"     via Alertmanager hook   {percentiles(by_path['alertmanager'])}")
        print(f"     all                     {percentiles(every)}   target p99 < {LATENCY_TARGET_MS:.0f} ms "
              f"{verdict(not missing and p99(every) < LATENCY_TARGET_MS)}" + (f"  ({missing} never paged)"
                                                                             if missing else ""))
        # 2. step timing with the backlog in place
        due = schedule_due(url, ids["team_id"], ids["snapshot"], args.due, first_in=3.0, spread=args.spread)
        wait_until(lambda: len(step_times(url, due)) == len(due) and set(due) <= set(first_pages(pages)),
                   timeout=args.spread + 30)
        fired = step_times(url, due)
        first = first_pages(pages)
        late_engine = [(fired[i] - due[i]) * 1000 for i in due if i in fired]
        late_page = [(first[i] - due[i]) * 1000 for i in due if i in first]
        missing = len(due) - len(late_engine)
        print(f"  2. step timing, {args.due} steps due over {args.spread:.0f} s, {args.open} other open incidents")
        print(f"     engine fired after due  {percentiles(late_engine)}   target max < {STEP_TARGET_MS:.0f} ms "
              f"{verdict(not missing and max(late_engine, default=1e9) < STEP_TARGET_MS)}"
              + (f"  ({missing} never fired)" if missing else ""))
        print(f"     first page after due    {percentiles(late_page)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=200, help="incidents opened over HTTP (half via Alertmanager)")
    parser.add_argument("--open", type=int, default=10_000, help="open incidents waiting in the database")
    parser.add_argument("--due", type=int, default=200, help="steps coming due during the timing run")
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which those steps come due")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"bench_escalation: load average at start {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", "SQLite", args)
    if not args.no_postgres and ensure_postgres_database(POSTGRES_URL):
        run(POSTGRES_URL, "PostgreSQL", args)


if __name__ == "__main__":
    main()
