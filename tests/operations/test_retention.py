"""Retention: history past its age is pruned in batches; nothing of an open incident, and no notification still
to be sent, ever is."""
from datetime import timedelta

from sqlalchemy import func, select

from oncall.db import get_sessionmaker
from oncall.incidents.models import RESOLVED, TRIGGERED, Incident, TimelineEvent
from oncall.operations.retention import Retention, prune
from oncall.paging.models import CANCELLED, FAILED, PENDING, SENDING, SENT, Notification
from oncall.web.models import LoginFailure

DAY = timedelta(days=1)
RETENTION = Retention(history=timedelta(days=365), sign_in_failures=timedelta(hours=24), batch=2)


def _incident(session, team_id, user_id, *, code, opened, resolved=None, states=(SENT,)):
    incident = Incident(code=code, team_id=team_id, severity="SEV2", title=f"incident {code}", policy={},
                        status=RESOLVED if resolved else TRIGGERED, created_at=opened, last_triggered_at=opened,
                        resolved_at=resolved)
    session.add(incident)
    session.flush()
    for n in range(3):
        session.add(TimelineEvent(incident_id=incident.id, at=opened + n * timedelta(minutes=1), kind="note"))
    for n, state in enumerate(states):
        session.add(Notification(incident_id=incident.id, step=0, round=n, user_id=user_id, channel="sms",
                                 state=state, created_at=opened, next_attempt_at=opened))
    session.flush()
    return incident.id


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_old_history_is_pruned_in_batches_and_open_or_unsent_rows_are_kept(app, session, clock, make_team, make_user):
    now = clock()
    team, user = make_team()["id"], make_user()["id"]
    old = _incident(session, team, user, code=1001, opened=now - 400 * DAY, resolved=now - 399 * DAY,
                    states=(SENT, FAILED, CANCELLED))
    still_open = _incident(session, team, user, code=1002, opened=now - 500 * DAY)
    recently_resolved = _incident(session, team, user, code=1003, opened=now - 400 * DAY, resolved=now - 300 * DAY)
    # A retry still waiting and one being sent: never deleted, whatever their age (the incident was resolved
    # while they were due, and the outbox still owns them).
    unsent = _incident(session, team, user, code=1004, opened=now - 600 * DAY, resolved=now - 599 * DAY,
                       states=(PENDING, SENDING))
    session.add_all([Notification(incident_id=None, step=0, round=0, user_id=user, channel="sms", state=SENT,
                                  body="reminder", created_at=now - age, next_attempt_at=now - age)
                     for age in (366 * DAY, 10 * DAY)])
    session.add_all([LoginFailure(email="x@example.com", ip="192.0.2.1", at=now - age)
                     for age in (timedelta(hours=25), timedelta(hours=26), timedelta(hours=23))])
    session.commit()

    deleted = prune(get_sessionmaker(app), now=now, retention=RETENTION)

    assert deleted == {"timeline_events": 6, "notifications": 4, "login_failures": 2}
    assert _count(session, TimelineEvent, TimelineEvent.incident_id.in_([old, unsent])) == 0
    assert _count(session, TimelineEvent, TimelineEvent.incident_id.in_([still_open, recently_resolved])) == 6
    assert _count(session, Notification, Notification.incident_id == old) == 0
    assert sorted(session.scalars(select(Notification.state).where(Notification.incident_id == unsent))) == [
        PENDING, SENDING]
    assert _count(session, Notification, Notification.incident_id.in_([still_open, recently_resolved])) == 2
    assert _count(session, Notification, Notification.incident_id.is_(None)) == 1
    assert _count(session, LoginFailure) == 1
    assert _count(session, Incident, Incident.id.in_([old, unsent])) == 2  # the incidents themselves stay

    # A year later the recently resolved incident's history goes too; the open one's never does.
    clock.advance(100 * DAY)
    assert prune(get_sessionmaker(app), now=clock(), retention=RETENTION)["timeline_events"] == 3
    assert _count(session, TimelineEvent, TimelineEvent.incident_id == still_open) == 3


def test_retention_comes_from_the_settings_and_zero_keeps_everything():
    assert Retention.from_config({}) == Retention(history=365 * DAY, sign_in_failures=timedelta(hours=24))
    keep = Retention.from_config({"RETENTION_DAYS": "0", "SIGN_IN_FAILURE_RETENTION_HOURS": "0"})
    assert prune(None, now=None, retention=keep) == {"timeline_events": 0, "notifications": 0, "login_failures": 0}
