"""Several `oncall worker` processes against one PostgreSQL database: row locks make every escalation step and
every page happen exactly once, and a worker killed with SIGKILL loses nothing.

These commit real data (the workers are other processes), so they use their own engine and delete what
they created afterwards."""
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from oncall.clock import utcnow
from oncall.escalation import engine
from oncall.incidents import service as incidents
from oncall.incidents.models import Incident, TimelineEvent
from oncall.paging import outbox
from oncall.paging.models import PENDING, SENDING, Notification
from tests.conftest import POSTGRES_URL
from tests.escalation import processes

pytestmark = [pytest.mark.postgres, pytest.mark.host_clock]  # the workers are processes on the host's clock

INCIDENTS = 500
TEAMS = 10
FAST = {"WORKER_TICK_SECONDS": 0.1, "WORKER_DISPATCH_SECONDS": 0.05, "SMS_BATCH_SECONDS": 1}
# Step 0 texts and calls both people of the team; the workers fire it for all 500 incidents the moment the
# gate opens. Step 1 would follow a minute later, after the test.
POLICY = [{"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["sms", "voice"]},
          {"delay_minutes": 1, "targets": [{"type": "team"}], "channels": ["voice"]}]


@pytest.fixture()
def db(_migrated_app, tmp_path):
    fixture = processes.Fixture(POSTGRES_URL)
    try:
        ids = []
        for t in range(TEAMS):
            team_id = fixture.team(members=2, policy=POLICY, slug=f"procs-{t}-{tmp_path.name[-12:].lower()}")
            # Closed gate: nothing is due until the workers are up, so they all start on the same work.
            ids += fixture.open_many(team_id, INCIDENTS // TEAMS, due_at=None)
        fixture.incident_ids = ids
        yield fixture
    finally:
        fixture.cleanup()


def open_gate(db) -> None:
    with db.sessions.begin() as session:
        session.execute(update(Incident).where(Incident.id.in_(db.incident_ids)).values(next_step_at=utcnow()))


def outstanding(db) -> tuple[int, int]:
    """(incidents whose step 0 has not fired, notifications not yet sent)."""
    unfired = db.scalar(select(func.count()).select_from(Incident)
                        .where(Incident.id.in_(db.incident_ids), Incident.next_step < 1))
    unsent = db.scalar(select(func.count()).select_from(Notification)
                       .where(Notification.incident_id.in_(db.incident_ids),
                              Notification.state.in_((PENDING, SENDING))))
    return unfired, unsent


def wait_until_started(logs, timeout=20):
    processes.wait_for(lambda: all("started" in log.read_text() for log in logs if log.exists())
                       and all(log.exists() for log in logs), timeout=timeout, what="workers to start")


def check_everything_happened_once(db, pages, *, allowed_duplicates=0):
    rows = db.all(select(Notification.channel, Notification.state, Notification.provider_id, Notification.sent_at,
                         Notification.user_id).where(Notification.incident_id.in_(db.incident_ids)))
    assert len(rows) == INCIDENTS * 2 * 2  # two people, one SMS and one call each
    assert {r.state for r in rows} == {"sent"}
    recorded = {r.provider_id for r in rows}
    sent = Counter(p["id"] for p in pages)
    assert recorded <= set(sent), "a recorded page never reached the notifier"
    # Every send has its own id, so a page sent twice leaves an id that no notification recorded.
    unrecorded = set(sent) - recorded  # sent by a worker that died before recording it
    assert len(unrecorded) <= allowed_duplicates
    # Each escalation step fired once per incident: one "step" event each, not two.
    step_events = db.all(select(TimelineEvent.incident_id, TimelineEvent.detail)
                         .where(TimelineEvent.incident_id.in_(db.incident_ids), TimelineEvent.kind == "step"))
    steps = Counter((row.incident_id, row.detail["step"]) for row in step_events)
    assert len(steps) == INCIDENTS and set(steps.values()) == {1}
    # The SMS window held across processes: one SMS per person per second at most.
    by_user: dict[int, set] = {}
    for r in rows:
        if r.channel == "sms":
            by_user.setdefault(r.user_id, set()).add(r.sent_at)
    for times in by_user.values():
        ordered = sorted(times)
        assert all(b - a >= timedelta(seconds=1) for a, b in zip(ordered, ordered[1:]))
    return sent


@pytest.mark.slow
def test_two_workers_send_each_page_exactly_once(db, tmp_path):
    pages = tmp_path / "pages.jsonl"
    env = processes.env_for(POSTGRES_URL, pages, **FAST)
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [processes.start(["worker"], env, log) for log in logs]
    try:
        wait_until_started(logs)
        open_gate(db)
        processes.wait_for(lambda: outstanding(db) == (0, 0), timeout=60, interval=0.2, what="all work done")
        time.sleep(0.5)  # anything still in flight would show up as a duplicate below
    finally:
        codes = [processes.stop(w) for w in workers]
    assert codes == [0, 0]
    sent = check_everything_happened_once(db, processes.read_pages(pages))
    by_worker = Counter(p["pid"] for p in processes.read_pages(pages))
    assert len(by_worker) == 2, f"both workers should have sent pages: {by_worker}"
    assert len(sent) >= INCIDENTS * 2  # the calls, plus SMS digests


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing(db, tmp_path):
    """Two workers; one is killed with SIGKILL mid-run and started again. The other and the restarted one finish
    everything. The only pages sent twice are requests the killed one had in flight (handed to the notifier,
    answer never recorded): at most its CONCURRENCY requests, each sent again once its lease ran out."""
    pages = tmp_path / "pages.jsonl"
    env = processes.env_for(POSTGRES_URL, pages, OUTBOX_LEASE_SECONDS=2, **FAST)
    logs = [tmp_path / "victim.log", tmp_path / "other.log"]
    victim, other = (processes.start(["worker"], env, log) for log in logs)
    restarted = None
    try:
        wait_until_started(logs)
        open_gate(db)
        processes.wait_for(lambda: len(processes.read_pages(pages)) >= 100, timeout=30, interval=0.01,
                           what="the first pages")
        processes.stop(victim, signal.SIGKILL)
        unfired, unsent = outstanding(db)
        assert unfired or unsent, "the workers finished before one was killed; the test proves nothing"
        restarted = processes.start(["worker"], env, tmp_path / "restarted.log")
        processes.wait_for(lambda: outstanding(db) == (0, 0), timeout=60, interval=0.2, what="the rest")
        time.sleep(0.5)
    finally:
        codes = [processes.stop(p) for p in (other, restarted) if p is not None]
    assert codes == [0, 0]
    sent = processes.read_pages(pages)
    check_everything_happened_once(db, sent, allowed_duplicates=outbox.CONCURRENCY)
    recorded = {r.provider_id for r in db.all(select(Notification.provider_id)
                                               .where(Notification.incident_id.in_(db.incident_ids)))}
    assert {p["pid"] for p in sent if p["id"] not in recorded} <= {victim.pid}


# --- the locks themselves, in two sessions of one process ------------------------------------------------

def test_incidents_one_worker_claimed_are_skipped_by_another(db):
    open_gate(db)
    now = utcnow()
    with db.sessions.begin() as first, db.sessions.begin() as second:
        mine = engine.claim_due(first, now=now, limit=25)
        theirs = engine.claim_due(second, now=now, limit=25)
        assert len(mine) == len(theirs) == 25
        assert not {i.id for i in mine} & {i.id for i in theirs}


def test_two_triggers_with_one_key_racing_open_one_incident(db):
    team_id = db.team_ids[0]
    with db.sessions() as first:
        created, was_new = incidents.create_incident(first, team_id=team_id, severity="SEV3", title="Disk full",
                                                     dedup_key="disk-full", now=utcnow())
        assert was_new
        # The second trigger waits on the unique index for the first transaction, then joins its incident.
        with ThreadPoolExecutor(1) as pool:
            racing = pool.submit(_trigger, db, team_id)
            time.sleep(0.3)
            assert not racing.done()
            first.commit()
            joined_id, joined_new = racing.result(timeout=10)
    assert (joined_id, joined_new) == (created.id, False)
    events = db.all(select(TimelineEvent.kind).where(TimelineEvent.incident_id == created.id))
    assert [e.kind for e in events].count("retriggered") == 1


def _trigger(db, team_id):
    with db.sessions.begin() as session:
        incident, created = incidents.create_incident(session, team_id=team_id, severity="SEV3", title="Disk full",
                                                      dedup_key="disk-full", now=utcnow())
        return incident.id, created
