"""Several dispatchers sending one outbox through the real Twilio SDK to the fake Twilio, on PostgreSQL, with a
slow carrier, a failing carrier and database connections killed under them: every page is requested from the
carrier exactly once and none is lost. (bench/bench_paging_faults.py runs the full-size versions: a 9 s
carrier and 100 pages, and an alert storm.)

The dispatchers are threads with database connections of their own (their application_name names them), so
the data is committed for real and deleted afterwards."""
import threading
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from oncall.clock import utcnow
from oncall.db import make_engine
from oncall.paging import outbox
from oncall.paging.gateway import TwilioGateway
from oncall.paging.models import FAILED, PENDING, SENDING, SENT, Notification
from tests.conftest import POSTGRES_URL
from tests.escalation import processes
from tests.paging.conftest import OUR_NUMBER

pytestmark = [pytest.mark.postgres, pytest.mark.host_clock]  # the dispatchers are processes on the host's clock

PUBLIC_URL = "https://oncall.example.com"
VOICE_TO_TEAM = [{"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["voice"]}]


@pytest.fixture()
def db(_migrated_app, tmp_path):
    fixture = processes.Fixture(POSTGRES_URL)
    fixture.slug = f"disp-{tmp_path.name[-12:].lower()}"
    try:
        yield fixture
    finally:
        fixture.cleanup()


def open_incidents(db, *, incidents: int, members: int) -> list[int]:
    """`incidents` SEV1 incidents of a new team whose policy calls all `members` at once: their pages are in the
    outbox, due now, when this returns."""
    team_id = db.team(members=members, policy=VOICE_TO_TEAM, slug=db.slug, severity="SEV1")
    return db.open(team_id, incidents, at=utcnow(), severity="SEV1")


class Dispatchers:
    """`count` dispatcher threads, each with its own engine and Twilio gateway, calling dispatch_due in a loop
    (as the worker's job does) until stopped."""

    def __init__(self, twilio, count: int, *, timeout: float = 10.0, **settings) -> None:
        self.twilio, self.settings, self.timeout = twilio, settings, timeout
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(f"dispatcher-{i}",), daemon=True)
                        for i in range(count)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self, name: str) -> None:
        engine = make_engine(f"{POSTGRES_URL}?application_name={name}")
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        gateway = TwilioGateway.from_config({
            "TWILIO_ACCOUNT_SID": self.twilio.account_sid, "TWILIO_AUTH_TOKEN": self.twilio.auth_token,
            "TWILIO_FROM_NUMBER": OUR_NUMBER, "TWILIO_BASE_URL": self.twilio.base_url,
            "TWILIO_TIMEOUT_SECONDS": self.timeout})
        try:
            while not self.stopping.is_set():
                try:
                    outbox.dispatch_due(sessions, gateway, public_url=PUBLIC_URL, **self.settings)
                except DBAPIError:  # the worker's job logs this and runs again
                    pass
                except BaseException as exc:  # reported by the test
                    self.errors.append(exc)
                    raise
                self.stopping.wait(0.05)
        finally:
            gateway.close()
            engine.dispose()


def rows_of(db, incident_ids):
    return db.all(select(Notification).where(Notification.incident_id.in_(incident_ids)).order_by(Notification.id))


def unfinished(db, incident_ids) -> int:
    return sum(1 for (row,) in rows_of(db, incident_ids) if row.state in (PENDING, SENDING))


def accepted(twilio) -> Counter:
    """How many requests the carrier accepted (201) for each notification (named by the StatusCallback)."""
    return Counter(int(parse_qs(urlsplit(r["StatusCallback"]).query)["notification"][0])
                   for r in twilio.requests if r.status == 201)


def assert_each_page_accepted_once(db, twilio, incident_ids) -> list[Notification]:
    rows = [row for (row,) in rows_of(db, incident_ids)]
    sent = [r for r in rows if r.state == SENT]
    counts = accepted(twilio)
    # Every accepted request is recorded on the page it was for, and no page was accepted twice.
    assert {r.sid for r in twilio.requests if r.status == 201} == {r.provider_id for r in sent}
    assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n > 1}
    # Nothing lost: every incident reached its person.
    assert {r.incident_id for r in sent} == set(incident_ids)
    return rows


def test_three_dispatchers_and_a_slow_carrier_request_each_call_once(db, fake_twilio):
    """The first round's bug: a lease computed from a clock read once per dispatch pass was already expired for
    rows claimed late in a slow pass, so another dispatcher called the same person again while the first call
    was still in flight. A 2 s carrier with a 5 s lease and two requests per dispatcher: with leases from such a
    stale clock (or from claims bigger than the free request slots) later pages would be called twice. (A 3 s
    lease left too little room for the test's own process under CI's parallel load: a request recorded 1 s
    late is a lease that ran out, not a bug.)"""
    ids = open_incidents(db, incidents=20, members=1)
    fake_twilio.latency = 2.0
    started = time.monotonic()
    with Dispatchers(fake_twilio, 3, lease=outbox.timedelta(seconds=5), concurrency=2) as dispatchers:
        processes.wait_for(lambda: unfinished(db, ids) == 0, timeout=60, interval=0.2, what="every call sent")
        time.sleep(0.5)  # a duplicate in flight would land now
    assert not dispatchers.errors
    rows = assert_each_page_accepted_once(db, fake_twilio, ids)
    assert len(fake_twilio.calls) == len(rows) == 20 and all(r.attempts == 1 for r in rows)
    # 20 calls, 6 at a time, 2 s each: four rounds (8 s, longer than a lease, so a lease read at the start of a
    # pass would run out in it), not ten (the three dispatchers shared the work).
    assert time.monotonic() - started < 14


def test_a_failing_carrier_is_retried_and_fallen_back_and_nothing_is_lost_or_doubled(db, fake_twilio, monkeypatch):
    """Twilio's Calls API answers 500 and 429 and hangs past the client's timeout: for one person long enough
    that every call gives up after MAX_ATTEMPTS and falls back to SMS (bundled), for the other only for their
    first few calls, which are retried with backoff and go through. Each page the carrier accepts is recorded
    and none is accepted twice."""
    monkeypatch.setattr(outbox, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(outbox, "BACKOFF_FIRST", outbox.timedelta(seconds=0.5))
    ids = open_incidents(db, incidents=10, members=2)
    unlucky, lucky = sorted({r.to for (r,) in rows_of(db, ids)})
    fake_twilio.fail_for(60, kinds=(500, 429, "timeout"), hang=1.5, resources=("Calls",), to=unlucky)
    fake_twilio.fail_for(60, kinds=(500, 429), resources=("Calls",), to=lucky, count=5)
    with Dispatchers(fake_twilio, 3, timeout=1.0, concurrency=2, lease=outbox.timedelta(seconds=5),
                     sms_window=outbox.timedelta(seconds=1)) as dispatchers:
        processes.wait_for(lambda: unfinished(db, ids) == 0, timeout=60, interval=0.2, what="every page settled")
        time.sleep(0.5)
    assert not dispatchers.errors
    rows = assert_each_page_accepted_once(db, fake_twilio, ids)
    failures = Counter(r.status for r in fake_twilio.requests if r.resource == "Calls" and r.status != 201)
    assert set(failures) == {500, 429, 504}, failures
    calls = {to: [r for r in rows if r.channel == "voice" and r.to == to] for to in (unlucky, lucky)}
    # The lucky one's calls all went through, some after a retry.
    assert {r.state for r in calls[lucky]} == {SENT}
    assert any(r.attempts > 1 for r in calls[lucky])
    # The unlucky one's calls gave up and fell back to SMS, which reached them.
    fallbacks = {r.fallback_of_id: r for r in rows if r.fallback_of_id is not None}
    for call in calls[unlucky]:
        assert call.state == FAILED and call.fell_back and "gave up after 3 attempts" in call.last_error
        assert (fallbacks[call.id].channel, fallbacks[call.id].state, fallbacks[call.id].to) == ("sms", SENT, unlucky)
    assert len(fallbacks) == 10
    # Bundled: one SMS per person per window, not one per fallback.
    assert len(fake_twilio.messages) < 10


def test_killed_database_connections_lose_nothing_and_double_nothing(db, fake_twilio):
    """pg_terminate_backend on one dispatcher's connections, again and again while it claims and records: its
    claims either did not happen or are handed back after their lease, and its records are retried on a new
    connection, so every page is still requested once."""
    ids = open_incidents(db, incidents=10, members=3)
    fake_twilio.latency = 0.3
    killed = []
    with Dispatchers(fake_twilio, 3, concurrency=2, lease=outbox.timedelta(seconds=4)) as dispatchers:
        with db.engine.connect() as admin:
            for _ in range(12):
                time.sleep(0.25)
                killed += admin.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dispatcher-0' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()")).scalars().all()
        processes.wait_for(lambda: unfinished(db, ids) == 0, timeout=60, interval=0.2, what="every call sent")
        time.sleep(0.5)
    assert not dispatchers.errors
    assert any(killed), "no connection of dispatcher-0 was killed; the test proves nothing"
    rows = assert_each_page_accepted_once(db, fake_twilio, ids)
    assert len(rows) == 30 and len(fake_twilio.calls) == 30
