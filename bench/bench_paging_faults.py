"""Paging under faults (issue #8), on PostgreSQL with real `oncall worker` processes and the Twilio SDK talking
to the tests' Twilio-compatible server (tests/paging/fake_twilio.py, which checks every request against
Twilio's API description in ../shared/data):

1. slow carrier: three workers, every carrier request answered 9 s late, 100 SEV1 incidents paging one person
   by voice. Target: every call requested exactly once (the first round called people twice here).
2. failing carrier: three workers, the carrier answering 500, 429 and hanging past the client's 10 s timeout
   for 60 s, 100 SEV1 incidents calling two people (a call that keeps failing falls back to SMS). Target: retried, fallen back per the
   rules, no page accepted twice, no incident left unreached.
3. alert storm: gunicorn -w 2 and three workers; 1,000 Alertmanager webhooks in 10 s across 50 teams (new
   alerts, repeats and resolves) with a carrier answering in 100 ms. Targets: each alert an incident or a
   dedup, first page p99 < 1 s after its webhook was sent, one SMS per person per 30 s (the rest bundled),
   no page lost or doubled.

Run from the repository root: `python bench/bench_paging_faults.py [--only slow,faults,storm]`. Uses the
database oncall_bench_outbox (ONCALL_BENCH_OUTBOX_POSTGRES_URL to point elsewhere), prints figures and
PASS/MISS, and always exits 0: timings depend on the machine.
"""
import argparse
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_load import ensure_postgres_database, fresh_database, gunicorn  # noqa: E402

POSTGRES_URL = os.environ.get("ONCALL_BENCH_OUTBOX_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/oncall_bench_outbox")
ONCALL = str(Path(sys.executable).parent / "oncall")
FROM = "+15005550006"
PUBLIC_URL = "https://oncall.example.com"
SECRET = "bench-secret-key-bench-secret-key"
VOICE = [{"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["voice"]}]
SMS_AND_VOICE = [{"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["sms", "voice"]}]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# --- the database ------------------------------------------------------------------------------------------

def migrate(url: str) -> None:
    from oncall.schema import upgrade

    from oncall import create_app
    from oncall.db import get_engine

    fresh_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
    get_engine(app).dispose()


class Db:
    phones = 0  # people made so far, across scenarios (emails and phones stay unique)

    def __init__(self, url: str) -> None:
        from sqlalchemy.orm import sessionmaker

        from oncall.db import make_engine

        self.engine = make_engine(url)
        self.sessions = sessionmaker(bind=self.engine, expire_on_commit=False)

    def teams(self, count: int, *, members: int, policy: list[dict]) -> list[dict]:
        """Teams whose every severity pages all their members at once; with an Alertmanager integration each."""
        from oncall.clock import utcnow
        from oncall.escalation import service as escalation
        from oncall.incidents import service as incidents
        from oncall.people import service as people

        made = []
        with self.sessions.begin() as session:
            for t in range(count):
                users = []
                for _ in range(members):
                    Db.phones += 1
                    users.append(people.create_user(session, name=f"Person {self.phones}",
                                                    email=f"p{self.phones}@bench.example.com",
                                                    phone=f"+1555{self.phones:07d}", time_zone="UTC"))
                slug = f"team-{len(made)}-{random.randrange(10**9)}"
                team = people.create_team(session, name=slug, slug=slug, time_zone="UTC")
                people.set_members(session, team, user_ids=[u.id for u in users], admin_ids=[])
                for severity in ("SEV1", "SEV2", "SEV3", "SEV4"):
                    escalation.set_policy(session, team_id=team.id, severity=severity, user_id=None, now=utcnow(),
                                          data={"repeat": 0, "steps": policy})
                _, token = incidents.create_integration(session, team_id=team.id, type="alertmanager", now=utcnow())
                made.append({"id": team.id, "token": token, "phones": [u.phone for u in users]})
        return made

    def closed_incidents(self, team_id: int, count: int) -> list[int]:
        """SEV1 incidents whose step 0 is not scheduled yet: open_gate makes them all due at once."""
        from oncall.clock import utcnow
        from oncall.escalation import service as escalation
        from oncall.incidents.models import Incident
        from oncall.people.models import Team

        with self.sessions.begin() as session:
            snapshot = escalation.snapshot_for(session, team=session.get(Team, team_id), severity="SEV1").to_json()
            rows = [Incident(code=10**6 + i + random.randrange(10**8), team_id=team_id, severity="SEV1",
                             title=f"Outage {i}", status="triggered", source="api", trigger_count=1,
                             last_triggered_at=utcnow(), created_at=utcnow(), policy=snapshot, next_step=0, round=0,
                             next_step_at=None) for i in range(count)]
            session.add_all(rows)
            session.flush()
            return [r.id for r in rows]

    def open_gate(self, ids: list[int]) -> None:
        from sqlalchemy import func, update

        from oncall.incidents.models import Incident

        with self.sessions.begin() as session:  # due now on the database's clock, which the workers read
            session.execute(update(Incident).where(Incident.id.in_(ids)).values(next_step_at=func.clock_timestamp()))

    def notifications(self, ids):
        from sqlalchemy import select

        from oncall.paging.models import Notification

        with self.sessions() as session:
            return list(session.scalars(select(Notification).where(Notification.incident_id.in_(list(ids)))))

    def outstanding(self, ids) -> int:
        from sqlalchemy import func, select

        from oncall.incidents.models import Incident
        from oncall.paging.models import PENDING, SENDING, Notification

        with self.sessions() as session:
            unfired = session.scalar(select(func.count()).select_from(Incident).where(
                Incident.id.in_(list(ids)), Incident.status == "triggered", Incident.next_step < 1))
            unsent = session.scalar(select(func.count()).select_from(Notification).where(
                Notification.incident_id.in_(list(ids)), Notification.state.in_((PENDING, SENDING))))
        return unfired + unsent


def wait_settled(db: Db, ids, *, timeout: float) -> float:
    started = time.monotonic()
    while db.outstanding(ids):
        if time.monotonic() - started > timeout:
            print(f"  (gave up waiting after {timeout:.0f} s: {db.outstanding(ids)} still outstanding)")
            break
        time.sleep(0.25)
    return time.monotonic() - started


# --- processes ---------------------------------------------------------------------------------------------

def env_for(url: str, twilio, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "TWILIO_"))}
    env |= {"ONCALL_DATABASE_URL": url, "ONCALL_PUBLIC_URL": PUBLIC_URL, "ONCALL_SECRET_KEY": SECRET,
            "TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_FROM_NUMBER": FROM, "ONCALL_TWILIO_BASE_URL": twilio.base_url,
            "ONCALL_WORKER_TICK_SECONDS": "0.2", "ONCALL_WORKER_DISPATCH_SECONDS": "0.1", "ONCALL_LOG_LEVEL": "WARNING"}
    return env | {f"ONCALL_{k}": str(v) for k, v in settings.items()}


@contextmanager
def workers(env: dict, count: int, log_dir: Path):
    procs = []
    try:
        for i in range(count):
            with open(log_dir / f"worker{i}.log", "ab") as log:
                procs.append(subprocess.Popen([ONCALL, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        time.sleep(3)  # imports, the SDK, the first connection
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def notification_of(request) -> int:
    return int(parse_qs(urlsplit(request["StatusCallback"]).query)["notification"][0])


def exactly_once(db: Db, twilio, ids) -> dict:
    """Accepted requests per page, and incidents nobody was reached for."""
    from oncall.paging.models import SENT

    rows = db.notifications(ids)
    sent = [r for r in rows if r.state == SENT]
    accepted = [r for r in twilio.requests if r.status == 201]
    per_page = Counter(notification_of(r) for r in accepted)
    recorded = {r.provider_id for r in sent}
    return {"rows": rows, "accepted": len(accepted), "doubled": sum(n - 1 for n in per_page.values() if n > 1),
            "unrecorded": sum(1 for r in accepted if r.sid not in recorded),
            "unreached": len(set(ids) - {r.incident_id for r in sent})}


# --- 1. slow carrier ---------------------------------------------------------------------------------------

def slow_carrier(url: str, twilio, log_dir: Path, *, incidents: int = 100, dispatchers: int = 3,
                 latency: float = 9.0) -> None:
    print(f"\n1. slow carrier: {dispatchers} workers, carrier {latency:.0f} s late, {incidents} SEV1 voice pages")
    db = Db(url)
    [team] = db.teams(1, members=1, policy=VOICE)
    ids = db.closed_incidents(team["id"], incidents)
    twilio.reset()
    twilio.latency = latency
    with workers(env_for(url, twilio), dispatchers, log_dir):
        db.open_gate(ids)
        elapsed = wait_settled(db, ids, timeout=600)
        time.sleep(latency + 1)  # a second request for any page would land by now
    result = exactly_once(db, twilio, ids)
    calls = Counter(r["To"] for r in twilio.calls)
    ideal = math.ceil(incidents / (dispatchers * 8)) * latency
    print(f"  calls requested: {len(twilio.calls)} for {incidents} pages; doubled: {result['doubled']}; "
          f"unreached incidents: {result['unreached']}  {verdict(len(twilio.calls) == incidents and not result['doubled'] and not result['unreached'])}")
    print(f"  all sent in {elapsed:.1f} s (ideal with 8 requests in flight per worker: {ideal:.0f} s; ratio "
          f"{elapsed / ideal:.2f}); calls per phone: {dict(calls)}")
    twilio.latency = 0
    db.engine.dispose()


# --- 2. failing carrier ------------------------------------------------------------------------------------

def failing_carrier(url: str, twilio, log_dir: Path, *, incidents: int = 100, dispatchers: int = 3,
                    fault_seconds: float = 60) -> None:
    print(f"\n2. failing carrier: 500, 429 and 12 s hangs (client timeout 10 s) for {fault_seconds:.0f} s; "
          f"{incidents} SEV1 incidents calling 2 people (falling back to SMS)")
    from oncall.paging.models import FAILED, SENT

    db = Db(url)
    [team] = db.teams(1, members=2, policy=VOICE)
    ids = db.closed_incidents(team["id"], incidents)
    twilio.reset()
    with workers(env_for(url, twilio), dispatchers, log_dir):
        twilio.fail_for(fault_seconds, kinds=(500, 429, "timeout"), hang=12)
        db.open_gate(ids)
        elapsed = wait_settled(db, ids, timeout=900)
        time.sleep(2)
    result = exactly_once(db, twilio, ids)
    rows = result["rows"]
    failures = Counter(r.status for r in twilio.requests if r.status != 201)
    retried = sum(1 for r in rows if r.attempts > 1)
    gave_up = [r for r in rows if r.state == FAILED]
    fallbacks = [r for r in rows if r.fallback_of_id is not None]
    print(f"  carrier answers: {len(twilio.requests)} requests, failures by status {dict(failures)} "
          f"(504 = hung past the client's timeout)")
    print(f"  pages: {len(rows)} ({len(fallbacks)} of them fallbacks); retried: {retried}; gave up after "
          f"retries: {len(gave_up)}, each fell back: {all(r.fell_back or r.fallback_of_id for r in gave_up)}; "
          f"fallbacks sent: {sum(1 for r in fallbacks if r.state == SENT)}")
    print(f"  accepted requests: {result['accepted']}; doubled: {result['doubled']}; accepted but unrecorded: "
          f"{result['unrecorded']}; unreached incidents: {result['unreached']}; settled in {elapsed:.1f} s  "
          f"{verdict(not result['doubled'] and not result['unrecorded'] and not result['unreached'])}")
    db.engine.dispose()


# --- 3. alert storm ----------------------------------------------------------------------------------------

def alert_plan(teams: list[dict], alerts: int, rng: random.Random) -> list[tuple[dict, dict]]:
    """(team, alert) in sending order: mostly new alerts, some repeats of a firing one, some resolves."""
    firing: dict[int, list[str]] = {t["id"]: [] for t in teams}
    plan = []
    for i in range(alerts):
        team = teams[i % len(teams)]
        mine = firing[team["id"]]
        roll = rng.random()
        if mine and roll < 0.15:
            fingerprint, status = rng.choice(mine), "firing"  # a repeat: dedup
        elif mine and roll < 0.25:
            fingerprint, status = mine.pop(rng.randrange(len(mine))), "resolved"
        else:
            fingerprint, status = f"fp-{i:05d}", "firing"
            mine.append(fingerprint)
        plan.append((team, {"status": status, "fingerprint": fingerprint, "startsAt": "2026-01-01T00:00:00Z",
                            "labels": {"alertname": f"Alert{i}", "severity": "critical"},
                            "annotations": {"summary": f"Storm alert {fingerprint}"}}))
    return plan


def post(url: str, token: str, alert: dict) -> dict:
    body = {"version": "4", "status": alert["status"], "receiver": "oncall", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.example.com", "alerts": [alert]}
    request = urllib.request.Request(f"{url}/api/v1/integrations/alertmanager", data=json.dumps(body).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def alert_storm(url: str, twilio, log_dir: Path, *, alerts: int = 1000, seconds: float = 10, teams: int = 50,
                dispatchers: int = 3) -> None:
    print(f"\n3. alert storm: {alerts} Alertmanager webhooks in {seconds:.0f} s across {teams} teams of 2 "
          f"(SMS and voice), carrier answering in 100 ms; gunicorn -w 2, {dispatchers} workers")
    from oncall.paging.models import CANCELLED, SENT

    db = Db(url)
    made = db.teams(teams, members=2, policy=SMS_AND_VOICE)
    plan = alert_plan(made, alerts, random.Random(8))
    twilio.reset()
    twilio.latency = 0.1
    env = env_for(url, twilio, OUTBOX_CONCURRENCY=16, LOG_LEVEL="WARNING")
    sent_at: dict[int, float] = {}
    actions: Counter = Counter()
    lock = threading.Lock()
    with gunicorn(env | {"ONCALL_NOTIFIER": "console"}, workers=2) as web, workers(env, dispatchers, log_dir):
        start = time.monotonic()

        def send(i: int) -> None:
            time.sleep(max(0.0, start + i * seconds / alerts - time.monotonic()))
            team, alert = plan[i]
            at = time.time()
            result = post(web, team["token"], alert)["results"][0]
            with lock:
                actions[result["action"]] += 1
                if result["action"] == "created":
                    sent_at[result["incident_id"]] = at

        with ThreadPoolExecutor(32) as pool:
            list(pool.map(send, range(alerts)))
        took = time.monotonic() - start
        ids = list(sent_at)
        wait_settled(db, ids, timeout=300)
        time.sleep(1)
    fired = sum(1 for _, a in plan if a["status"] == "firing")
    print(f"  sent in {took:.1f} s: {fired} firing ({len({a['fingerprint'] for _, a in plan})} distinct), "
          f"{alerts - fired} resolves; answers {dict(actions)}; every alert answered: "
          f"{sum(actions.values()) == alerts}  {verdict(sum(actions.values()) == alerts)}")
    result = exactly_once(db, twilio, ids)
    rows = result["rows"]
    first: dict[int, float] = {}
    for request in twilio.requests:
        if request.status == 201 and request.resource == "Calls":
            incident_id = int(request["Twiml"].split("incident=", 1)[1].split('"', 1)[0])
            first[incident_id] = min(first.get(incident_id, float("inf")), request.at)
    latencies = sorted((first[i] - sent_at[i]) * 1000 for i in ids if i in first)
    never = [i for i in ids if i not in first]
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    cancelled = {r.incident_id for r in rows if r.state == CANCELLED}
    print(f"  first page after its webhook (ms, {len(latencies)} incidents): p50 {p50:.0f}, p99 {p99:.0f}, max "
          f"{latencies[-1]:.0f}; target p99 < 1000, ratio {p99 / 1000:.2f}  {verdict(p99 < 1000)}")
    print(f"  incidents never called: {len(never)}, all resolved before their call: "
          f"{set(never) <= cancelled}")
    sms = Counter(r["To"] for r in twilio.messages)
    sms_rows = [r for r in rows if r.channel == "sms" and r.state == SENT]
    # One SMS per person per 30 s: the gaps between a person's messages, by when the carrier got them.
    times: dict[str, list[float]] = {}
    for request in twilio.messages:
        times.setdefault(request["To"], []).append(request.at)
    gaps = [b - a for ts in times.values() for a, b in zip(sorted(ts), sorted(ts)[1:])]
    print(f"  SMS: {len(sms_rows)} pages in {len(twilio.messages)} messages to {len(sms)} people (at most "
          f"{max(sms.values()) if sms else 0} per person; shortest gap between one person's SMS "
          f"{min(gaps, default=0):.1f} s, window 30 s)  {verdict(min(gaps, default=30) >= 29.5)}")
    print(f"  accepted requests {result['accepted']}: doubled {result['doubled']}, unrecorded {result['unrecorded']}"
          f"  {verdict(not result['doubled'] and not result['unrecorded'])}")
    twilio.latency = 0
    db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="slow,faults,storm")
    args = parser.parse_args()
    from tests.paging.fake_twilio import SPEC_PATH, FakeTwilio

    if not SPEC_PATH.exists():
        print(f"needs Twilio's API description at {SPEC_PATH}")
        return
    if not ensure_postgres_database(POSTGRES_URL):
        print(f"needs PostgreSQL at {POSTGRES_URL}")
        return
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    migrate(POSTGRES_URL)
    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_paging_faults_{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    with FakeTwilio() as twilio:
        if "slow" in args.only:
            slow_carrier(POSTGRES_URL, twilio, log_dir)
        if "faults" in args.only:
            failing_carrier(POSTGRES_URL, twilio, log_dir)
        if "storm" in args.only:
            alert_storm(POSTGRES_URL, twilio, log_dir)
    print(f"\nworker logs: {log_dir}")


if __name__ == "__main__":
    main()
