"""GET /healthz and `oncall status`: ok, degraded (no live worker, a page overdue), down (no database)."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from oncall import create_app
from oncall.clock import database_now
from oncall.db import get_engine
from oncall.incidents import service as incidents
from oncall.operations import health
from oncall.operations.heartbeats import Heartbeat, WorkerSeen
from oncall.operations.models import WorkerHeartbeat
from oncall.paging.models import PENDING, SENDING, SENT, Notification
from oncall.people import service as people

UTC = timezone.utc
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def seen(age: float, worker_id: str = "w1") -> WorkerSeen:
    last = NOW - timedelta(seconds=age)
    return WorkerSeen(worker_id, "host-a", 42, "1.0", last - timedelta(hours=1), last)


def facts(workers=(), page_due: float | None = None, step_due: float | None = None) -> health.Facts:
    at = lambda age: None if age is None else NOW - timedelta(seconds=age)  # noqa: E731
    return health.Facts(now=NOW, workers=list(workers), oldest_due_page_at=at(page_due),
                        oldest_due_step_at=at(step_due), outbox_pending=0)


@pytest.mark.parametrize("given,status,reasons", [
    (facts([seen(5)]), "ok", []),
    (facts([seen(60)]), "ok", []),  # "no heartbeat in the last 60 s": one 60 s ago still counts
    (facts([seen(60.5)]), "degraded", ["no worker heartbeat in the last 60 s"]),
    (facts([]), "degraded", ["no worker heartbeat in the last 60 s"]),
    (facts([seen(300, "old"), seen(2, "new")]), "ok", []),  # one live worker is enough
    (facts([seen(1)], page_due=60), "ok", []),
    (facts([seen(1)], page_due=61), "degraded", ["a page has been due for 61 s and is not sent"]),
    (facts([seen(1)], step_due=90), "degraded", ["an escalation step has been due for 90 s and has not paged"]),
    (facts([seen(100)], page_due=100), "degraded", ["no worker heartbeat in the last 60 s",
                                                     "a page has been due for 100 s and is not sent"]),
])
def test_assess(given, status, reasons):
    verdict = health.assess(given)
    assert (verdict.status, verdict.reasons, verdict.http_status) == (status, reasons, 200)


def test_assess_reports_ages_on_the_given_clock():
    verdict = health.assess(facts([seen(12.5)], page_due=7, step_due=30))
    assert verdict.workers == [{"id": "w1", "last_seen": "2026-03-04T14:59:47.500000Z", "age_seconds": 12.5,
                                "alive": True, "host": "host-a", "pid": 42, "version": "1.0",
                                "started": "2026-03-04T13:59:47.500000Z"}]
    # An escalation step not fired is a page not sent either, one stage earlier.
    assert (verdict.oldest_pending_page_seconds, verdict.escalation_lag_seconds) == (30, 30)


def test_thresholds_are_settings():
    verdict = health.assess(facts([seen(3)], page_due=2), worker_seconds=2, page_seconds=1)
    assert verdict.status == "degraded" and len(verdict.reasons) == 2


# --- through HTTP, against the real database ---------------------------------------------------------------

def _heartbeat(session, *, age: float, worker_id: str = "a" * 32) -> None:
    now = database_now(session)
    session.add(WorkerHeartbeat(id=worker_id, host="h", pid=1, version="v", started_at=now - timedelta(hours=1),
                                last_seen_at=now - timedelta(seconds=age)))
    session.commit()


def _incident(session, *, step_due_in: timedelta | None):
    user = people.create_user(session, name="Pat", email="pat@example.com", phone="+14155550100", time_zone="UTC")
    team = people.create_team(session, name="Ops", slug="ops", time_zone="UTC")
    people.set_members(session, team, user_ids=[user.id], admin_ids=[])
    now = database_now(session)
    incident, _ = incidents.create_incident(session, team_id=team.id, severity="SEV1", title="Down", now=now)
    incident.next_step_at = None if step_due_in is None else now + step_due_in
    session.commit()
    return incident, user


def test_healthz_without_any_worker_is_degraded(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "degraded" and body["database"] == "ok" and body["workers"] == []
    assert body["oldest_pending_page_seconds"] == 0
    assert response.headers["Cache-Control"] == "no-store"


def test_a_beating_worker_makes_it_ok(app, client):
    heartbeat = Heartbeat(app.extensions["oncall_db"]["sessions"])
    stamp = heartbeat.beat()
    body = client.get("/healthz").json
    assert body["status"] == "ok", body
    [worker] = body["workers"]
    assert worker["id"] == heartbeat.id and worker["alive"] and worker["age_seconds"] < 5
    assert worker["last_seen"] == stamp.isoformat().replace("+00:00", "Z")
    assert set(worker) >= {"id", "last_seen", "host", "pid", "started", "version"}
    heartbeat.beat()  # the same row again, not a second one
    assert len(client.get("/healthz").json["workers"]) == 1


def test_a_silent_worker_makes_it_degraded(session, client):
    _heartbeat(session, age=61)
    body = client.get("/healthz").json
    assert body["status"] == "degraded"
    assert body["workers"][0]["alive"] is False and body["workers"][0]["age_seconds"] >= 61


def test_an_overdue_page_makes_it_degraded(app, session, client):
    _heartbeat(session, age=0)
    incident, user = _incident(session, step_due_in=timedelta(minutes=5))
    now = database_now(session)
    for step, state, due in [(10, PENDING, now - timedelta(seconds=90)), (11, SENT, now - timedelta(hours=1)),
                             (12, SENDING, now + timedelta(seconds=30))]:  # in flight, lease running: not overdue
        session.add(Notification(incident_id=incident.id, step=step, round=0, user_id=user.id, channel="sms",
                                 state=state, next_attempt_at=due, created_at=due))
    session.commit()
    body = client.get("/healthz").json
    assert body["status"] == "degraded", body
    assert 90 <= body["oldest_pending_page_seconds"] < 100
    assert body["reasons"] == ["a page has been due for 90 s and is not sent"]


def test_an_escalation_step_overdue_makes_it_degraded(session, client):
    _heartbeat(session, age=0)
    _incident(session, step_due_in=-timedelta(seconds=120))
    body = client.get("/healthz").json
    assert body["status"] == "degraded"
    assert body["escalation_lag_seconds"] >= 120 and body["oldest_pending_page_seconds"] >= 120


def test_a_stale_heartbeat_row_is_pruned(app, session):
    _heartbeat(session, age=2 * 3600, worker_id="gone")
    _heartbeat(session, age=30 * 60, worker_id="recent")
    Heartbeat(app.extensions["oncall_db"]["sessions"]).beat()
    kept = set(session.scalars(select(WorkerHeartbeat.id)))
    assert "gone" not in kept and "recent" in kept and len(kept) == 2


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-directory/oncall.db",
                                 "postgresql+psycopg://nobody@127.0.0.1:1/none"])
def test_healthz_is_down_when_the_database_does_not_answer(url):
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})
    try:
        response = app.test_client().get("/healthz")
    finally:
        get_engine(app).dispose()
    assert response.status_code == 503
    assert response.json == {"status": "down", "database": "unreachable", "workers": [],
                             "oldest_pending_page_seconds": None, "escalation_lag_seconds": None,
                             "reasons": ["the database did not answer"], "checked_at": None}


# --- oncall status -----------------------------------------------------------------------------------------

def test_status_prints_the_verdict_and_exits_nonzero_unless_ok(app, session):
    from oncall.operations.cli import status_command

    runner = app.test_cli_runner()
    out = runner.invoke(status_command, [])
    assert out.exit_code == 1, out.output
    assert "status: DEGRADED" in out.output and "no worker heartbeat in the last 60 s" in out.output

    _heartbeat(session, age=3, worker_id="b" * 32)
    out = runner.invoke(status_command, [])
    assert out.exit_code == 0, out.output
    assert "status: OK" in out.output and "workers: 1 alive, 0 silent" in out.output and "b" * 32 in out.output

    out = runner.invoke(status_command, ["--json"])
    assert out.exit_code == 0
    import json

    assert json.loads(out.output)["status"] == "ok"


def test_status_exits_2_when_the_database_is_down():
    from oncall.operations.cli import status_command

    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite:////nonexistent-directory/oncall.db",
                      "SECRET_KEY": "test"})
    out = app.test_cli_runner().invoke(status_command, [])
    get_engine(app).dispose()
    assert out.exit_code == 2
    assert "status: DOWN" in out.output and "database: unreachable" in out.output
