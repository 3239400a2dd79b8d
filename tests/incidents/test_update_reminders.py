"""Reminders of missed status updates, on a controlled clock: one per missed slot, to the commander, else whoever
acknowledged, else the on-call; none after resolve; STOP honoured; each on the timeline."""
from datetime import timedelta

import pytest

from oncall.incidents import lifecycle, service as incidents, update_reminders
from oncall.worker import Worker
from tests.incidents.conftest import PUBLIC_URL, T0, minutes


def run(world, clock, at) -> int:
    clock.set(at)
    return update_reminders.run(world.sessions, public_url=PUBLIC_URL)


def reminders(world) -> list[tuple[str, str]]:
    """(person, text) of the reminder texts in the outbox."""
    names = {u.id: n for n, u in world.users.items()}
    return [(names[n.user_id], n.body) for n in world.notifications() if n.incident_id is None
            and "status update" in (n.body or "")]


def reminder_events(world, incident_id) -> list[str]:
    return [e.detail["message"] for e in world.timeline(incident_id) if e.kind == "update_reminder"]


def test_one_reminder_per_missed_slot_to_the_on_call(world, clock):
    incident = world.open("SEV1")
    assert run(world, clock, T0 + minutes(14)) == 0
    assert run(world, clock, T0 + minutes(15)) == 1
    assert run(world, clock, T0 + minutes(16)) == 0  # the same slot is reminded once
    assert reminders(world) == [("alice", f"oncall: SEV1 Checkout errors: a status update was due at 10:15 EST. "
                                          f"Post one: {PUBLIC_URL}/incidents/{incident.id}")]
    assert reminder_events(world, incident.id) == [
        "Status update due at 15:15 UTC did not come (every 15 min for SEV1): reminded Alice (on call) by SMS."]
    assert run(world, clock, T0 + minutes(31)) == 1
    assert len(reminders(world)) == 2 and len(reminder_events(world, incident.id)) == 2


def test_a_late_pass_reminds_of_each_slot_missed_meanwhile_once(world, clock):
    incident = world.open("SEV2")
    assert run(world, clock, T0 + minutes(29)) == 0
    assert run(world, clock, T0 + minutes(95)) == 3  # 30, 60 and 90 minutes
    assert run(world, clock, T0 + minutes(96)) == 0
    assert [m.split(" did not")[0] for m in reminder_events(world, incident.id)] == [
        "Status update due at 15:30 UTC", "Status update due at 16:00 UTC", "Status update due at 16:30 UTC"]


def test_an_update_restarts_the_clock(world, clock):
    incident = world.open("SEV1")
    clock.set(T0 + minutes(10))
    lifecycle.add_status_update(world.session, world.incident(incident.id), status="investigating",
                                message="Looking", user_id=world.uid("alice"), via="api", now=T0 + minutes(10))
    world.session.commit()
    assert run(world, clock, T0 + minutes(20)) == 0
    assert run(world, clock, T0 + minutes(25)) == 1  # due 15 minutes after the update
    assert reminder_events(world, incident.id)[0].startswith("Status update due at 15:25 UTC")


def test_the_commander_then_whoever_acknowledged(world, clock):
    incident = world.open("SEV1")
    clock.set(T0 + minutes(2))
    incidents.acknowledge(world.session, world.incident(incident.id), user_id=world.uid("bob"), via="api", now=clock())
    world.session.commit()
    assert run(world, clock, T0 + minutes(15)) == 1
    lifecycle.set_roles(world.session, world.incident(incident.id), {"commander": world.uid("carol")},
                        user_id=world.uid("bob"), via="api", now=clock())
    world.session.commit()
    assert run(world, clock, T0 + minutes(30)) == 1
    assert [who for who, _ in reminders(world)] == ["bob", "carol"]
    assert "reminded Bob (acknowledged it)" in reminder_events(world, incident.id)[0]
    assert "reminded Carol (commander)" in reminder_events(world, incident.id)[1]


def test_stop_is_honoured_and_said_on_the_timeline(world, clock):
    incident = world.open("SEV1")
    world.users["alice"].sms_opted_out = True
    world.session.commit()
    assert run(world, clock, T0 + minutes(15)) == 1
    assert reminders(world) == []
    assert reminder_events(world, incident.id) == [
        "Status update due at 15:15 UTC did not come (every 15 min for SEV1); Alice (on call) has opted out of SMS "
        "(texted STOP), so no reminder was sent."]
    assert run(world, clock, T0 + minutes(16)) == 0  # not retried every pass


def test_no_reminder_after_resolve_nor_for_lower_severities(world, clock):
    sev1 = world.open("SEV1")
    sev3 = world.open("SEV3", title="Slow pages")
    assert run(world, clock, T0 + minutes(15)) == 1
    clock.set(T0 + minutes(20))
    incidents.resolve(world.session, world.incident(sev1.id), user_id=world.uid("alice"), via="api", now=clock())
    world.session.commit()
    assert run(world, clock, T0 + minutes(300)) == 0
    assert len(reminders(world)) == 1 and reminder_events(world, sev3.id) == []


def test_a_severity_change_restarts_the_clock(world, clock):
    incident = world.open("SEV3")
    clock.set(T0 + minutes(120))
    incidents.change_severity(world.session, world.incident(incident.id), severity="SEV1", user_id=world.uid("alice"),
                              via="api", now=T0 + minutes(120))
    world.session.commit()
    assert run(world, clock, T0 + minutes(130)) == 0  # not eight slots since the opening
    assert run(world, clock, T0 + minutes(135)) == 1


def test_the_worker_job_reminds_and_the_outbox_sends_it(app, world, clock):
    world.open("SEV1")
    world.dispatch(T0)  # the pages
    worker = Worker(app, notifier=world.notifier)
    clock.set(T0 + minutes(15))
    assert worker.remind_updates() == 1
    world.dispatch(T0 + minutes(15.1))
    texts = [s["body"] for s in world.notifier.to(world.phone("alice")) if "status update" in s["body"]]
    assert len(texts) == 1 and texts[0].startswith("oncall: SEV1 Checkout errors: a status update was due")


@pytest.mark.postgres
def test_two_workers_at_once_remind_of_a_slot_once(app, clock):
    """Two workers' passes at the same instant over committed data: one reminder row, one text."""
    import threading
    from datetime import date, time

    from sqlalchemy import select
    from sqlalchemy.orm import Session, sessionmaker

    from oncall.db import get_engine
    from oncall.incidents.models import UpdateReminder
    from oncall.paging.models import Notification
    from oncall.people import service as people
    from oncall.people.models import Team, User
    from oncall.schedules import service as schedules

    engine = get_engine(app)
    now = clock()
    with Session(engine) as s, s.begin():
        a, b = [people.create_user(s, name=f"Cadence {c}", email=f"cadence-race-{c}@example.com",
                                   phone=f"+1415555098{i}", time_zone="UTC") for i, c in enumerate("ab")]
        team = people.create_team(s, name="Cadence race", slug="cadence-race", time_zone="UTC")
        people.set_members(s, team, user_ids=[a.id, b.id], admin_ids=[])
        schedules.create_rotation(s, team_id=team.id, name="Cadence race", time_zone="UTC", handoff_time=time(9),
                                  shift_length={"unit": "days", "count": 1}, start_date=date(2026, 1, 5),
                                  participant_ids=[a.id, b.id])
        incident, _ = incidents.create_incident(s, team_id=team.id, severity="SEV1", title="Race",
                                                now=now - timedelta(minutes=16))
        ids = {"team": team.id, "users": [a.id, b.id], "incident": incident.id}
    barrier, found = threading.Barrier(2), []

    def run():
        barrier.wait()
        found.append(update_reminders.run(sessionmaker(engine, expire_on_commit=False), public_url="https://x"))

    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with Session(engine) as s:
            rows = s.scalars(select(UpdateReminder).where(UpdateReminder.incident_id == ids["incident"])).all()
            texts = s.scalars(select(Notification.body).where(Notification.incident_id.is_(None),
                                                              Notification.user_id.in_(ids["users"]))).all()
        assert sorted(found) == [0, 1] and len(rows) == 1 and len(texts) == 1, (found, texts)
    finally:
        with Session(engine) as s, s.begin():
            s.delete(s.get(Team, ids["team"]))
            s.flush()
            for uid in ids["users"]:
                s.execute(Notification.__table__.delete().where(Notification.user_id == uid))
                s.delete(s.get(User, uid))
