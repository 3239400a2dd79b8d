"""handoffs/reminders.py: the worker's handoff job queues reminders and re-pages in the paging outbox, which
sends them like every other message (SMS window and bundling, STOP, retries)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from oncall.db import get_sessionmaker
from oncall.errors import DeliveryFailed, TransientDeliveryFailure
from oncall.handoffs import reminders, service
from oncall.handoffs.models import HandoffReminder
from oncall.incidents import service as incidents
from oncall.incidents.models import Incident
from oncall.paging import outbox
from oncall.paging.models import Notification
from tests.handoffs.test_handoffs_api import expected_change, people_at

URL = "https://oncall.example.com"
M = timedelta(minutes=1)


class FakeNotifier:
    name = "fake"

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail_with = fail_with

    def send_sms(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((to, body))
        return f"SM{len(self.sent):032d}"

    def place_call(self, *, to: str, twiml: str, status_callback: str | None = None) -> str:
        self.sent.append((to, twiml))
        return f"CA{len(self.sent):032d}"


def _kinds(rows):
    return sorted((r.kind, r.user_id) for r in rows)


def dispatch(app, notifier, at):
    return outbox.dispatch_due(get_sessionmaker(app), notifier, now=at, public_url=URL)


def message_of(session, reminder) -> Notification:
    session.expire_all()
    return session.get(Notification, session.get(HandoffReminder, reminder.id).notification_id)


def test_the_reminders_of_one_shift_change(app, scenario, session):
    change = expected_change(scenario)
    outgoing, incoming = people_at(scenario, change)

    assert reminders.handoff_tick(session, now=change - 31 * M, public_url=URL) == []
    rows = reminders.handoff_tick(session, now=change - 30 * M, public_url=URL)
    session.commit()
    assert _kinds(rows) == [("outgoing_form", outgoing.id)]
    assert reminders.handoff_tick(session, now=change - 29 * M, public_url=URL) == []  # once
    message = message_of(session, rows[0])
    assert (message.incident_id, message.channel, message.state, message.to, message.body) == (
        None, "sms", "pending", outgoing.phone, rows[0].body)
    assert f"{URL}/rotations/{scenario.rotation_id}/handoff" in rows[0].body

    notifier = FakeNotifier()
    assert dispatch(app, notifier, change - 29 * M) == 1
    assert notifier.sent == [(outgoing.phone, rows[0].body)]
    message = message_of(session, rows[0])
    assert message.state == "sent" and message.provider_id.startswith("SM") and message.attempts == 1
    assert dispatch(app, notifier, change - 28 * M) == 0  # nothing left

    handoff = service.save_handoff(session, rotation_id=scenario.rotation_id, user=outgoing, now=change - 10 * M,
                                   public_url=URL, notes="all quiet")
    session.commit()
    rows = reminders.handoff_tick(session, now=change, public_url=URL)
    session.commit()
    assert _kinds(rows) == [("incoming_note", incoming.id)]
    assert rows[0].body.endswith(f"{URL}/handoffs/{handoff.id}")

    sev1, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV1", title="Down",
                                        now=change + 20 * M)
    sev3, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV3", title="Slow",
                                        now=change + 20 * M)
    mine, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="Already mine",
                                        now=change + 20 * M)
    incidents.acknowledge(session, mine, user_id=incoming.id, via="web", now=change + 21 * M)
    held, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="Held over",
                                        now=change - 20 * M)
    incidents.acknowledge(session, held, user_id=outgoing.id, via="sms", now=change - 19 * M)
    session.commit()
    rows = reminders.handoff_tick(session, now=change + 30 * M, public_url=URL)
    session.commit()
    assert _kinds(rows) == [("ack_reminder", incoming.id), ("repage", incoming.id)]
    repages = session.scalars(select(Notification).where(Notification.step == reminders.HANDOFF_STEP)).all()
    assert sorted((n.incident_id, n.user_id, n.channel) for n in repages) == [
        (sev1.id, incoming.id, "sms"), (sev1.id, incoming.id, "voice")]
    assert all(n.state == "pending" and n.to == incoming.phone for n in repages)
    note = session.get(Incident, sev1.id).events[-1]
    assert note.via == "handoff" and note.detail["message"] == (
        f"The Web primary handoff was not acknowledged 30 minutes after the shift change: paging {incoming.name}, "
        "the incoming on-call, again by SMS and voice call.")
    # the outbox pages only unacknowledged incidents: the one still with the outgoing on-call gets a line
    assert session.get(Incident, held.id).events[-1].detail["message"] == (
        f"The Web primary handoff was not acknowledged 30 minutes after the shift change: this incident is still "
        f"with {outgoing.name}; {incoming.name}, the incoming on-call, has been reminded.")
    assert session.get(Incident, mine.id).events[-1].kind == "acknowledged"  # theirs already: nothing added
    assert reminders.handoff_tick(session, now=change + 31 * M, public_url=URL) == []


def test_a_reminder_and_pages_for_one_person_travel_in_one_sms(app, scenario, session):
    """The reminder waits its turn in the person's SMS window like any page, and goes first in the bundle so
    the SMS still ends with the reply instructions."""
    change = expected_change(scenario)
    outgoing, incoming = people_at(scenario, change)
    service.save_handoff(session, rotation_id=scenario.rotation_id, user=outgoing, now=change - 10 * M,
                         public_url=URL)
    incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV1", title="Down hard",
                                            now=change + 25 * M)
    session.commit()
    notifier = FakeNotifier()
    dispatch(app, notifier, change + 25 * M)  # the policy's own pages
    reminders.handoff_tick(session, now=change + 30 * M, public_url=URL)
    session.commit()
    notifier.sent.clear()
    dispatch(app, notifier, change + 30 * M)
    dispatch(app, notifier, change + 30 * M + outbox.SMS_WINDOW)
    sms = [body for to, body in notifier.sent if to == incoming.phone and not body.startswith("<?xml")]
    # The note and the acknowledgement reminder (both due now) and the re-page: one SMS.
    assert len(sms) == 1, sms
    assert sms[0].startswith("oncall: you are on call for Web primary") and "oncall: please acknowledge" in sms[0]
    assert "[SEV1] Down hard" in sms[0]
    assert sms[0].endswith(f"Reply {incident.code}A to ack, {incident.code}R to resolve, {incident.code}E to escalate")


def test_unwritten_handoff_reminds_the_outgoing_on_call(scenario, session):
    change = expected_change(scenario)
    outgoing, incoming = people_at(scenario, change)
    rows = reminders.handoff_tick(session, now=change + 30 * M, public_url=URL)
    assert _kinds(rows) == [("ack_reminder", outgoing.id), ("repage", incoming.id)]
    ack = next(r for r in rows if r.kind == "ack_reminder")
    assert "is not written yet" in ack.body


def test_people_without_a_phone_or_opted_out_are_skipped(scenario, session):
    change = expected_change(scenario)
    outgoing, _ = people_at(scenario, change)
    outgoing.phone = None
    session.commit()
    [row] = reminders.handoff_tick(session, now=change - 30 * M, public_url=URL)
    assert (row.state, row.last_error, row.notification_id) == ("skipped", "no phone number", None)


def test_opted_out_is_skipped_and_repaged_by_voice(scenario, session):
    change = expected_change(scenario)
    outgoing, incoming = people_at(scenario, change)
    incoming.sms_opted_out = True
    session.commit()
    incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="x",
                                            now=change)
    service.save_handoff(session, rotation_id=scenario.rotation_id, user=outgoing, now=change - M, public_url=URL)
    session.commit()
    rows = reminders.handoff_tick(session, now=change + 30 * M, public_url=URL)
    reminder = next(r for r in rows if r.kind == "ack_reminder")
    assert reminder.state == "skipped" and "opted out" in reminder.last_error
    channels = session.scalars(select(Notification.channel).where(Notification.step == reminders.HANDOFF_STEP,
                                                                  Notification.incident_id == incident.id)).all()
    assert channels == ["voice"]


def test_texting_stop_after_a_reminder_was_queued_stops_it(app, scenario, session):
    change = expected_change(scenario)
    outgoing, _ = people_at(scenario, change)
    [row] = reminders.handoff_tick(session, now=change - 30 * M, public_url=URL)
    outgoing.sms_opted_out = True
    session.commit()
    notifier = FakeNotifier()
    dispatch(app, notifier, change - 29 * M)
    dispatch(app, notifier, change - 28 * M)
    assert notifier.sent == []  # neither the SMS nor a call instead: a reminder is not a page
    message = message_of(session, row)
    assert message.state == "failed" and "opted out" in message.last_error


def test_run_reminders_queues_what_is_due(app, scenario, session):
    change = expected_change(scenario)
    outgoing, _ = people_at(scenario, change)
    assert reminders.run_reminders(get_sessionmaker(app), now=change - 30 * M, public_url=URL) == 1
    assert reminders.run_reminders(get_sessionmaker(app), now=change - 29 * M, public_url=URL) == 0
    notifier = FakeNotifier()
    dispatch(app, notifier, change - 29 * M)
    assert [to for to, _ in notifier.sent] == [outgoing.phone]


@pytest.mark.parametrize("error, state", [
    (TransientDeliveryFailure("Twilio said 503"), "pending"),
    (DeliveryFailed("Twilio rejected the SMS (error 21211)"), "failed"),
])
def test_send_failures(app, scenario, session, error, state):
    change = expected_change(scenario)
    [row] = reminders.handoff_tick(session, now=change - 30 * M, public_url=URL)
    session.commit()
    dispatch(app, FakeNotifier(error), change - 29 * M)
    message = message_of(session, row)
    assert message.state == state and message.last_error == str(error)
    # a transient failure is tried again later; a permanent one is not (and a reminder has no fallback)
    notifier = FakeNotifier()
    dispatch(app, notifier, change + timedelta(hours=1))
    assert len(notifier.sent) == (1 if state == "pending" else 0)
    assert session.scalars(select(Notification).where(Notification.fallback_of_id == message.id)).all() == []


def test_transient_failures_give_up_after_a_few_attempts(app, scenario, session):
    change = expected_change(scenario)
    [row] = reminders.handoff_tick(session, now=change - 30 * M, public_url=URL)
    session.commit()
    now = change - 29 * M
    for _ in range(outbox.MAX_ATTEMPTS):
        dispatch(app, FakeNotifier(TransientDeliveryFailure("busy")), now)
        now += timedelta(hours=2)
    message = message_of(session, row)
    assert (message.state, message.attempts) == ("failed", outbox.MAX_ATTEMPTS)


@pytest.mark.postgres
def test_two_workers_write_one_reminder(app, clock):
    """Two ticks in separate transactions at once: the unique key lets exactly one reminder through."""
    import threading
    from datetime import time

    from sqlalchemy.orm import Session

    from oncall.db import get_engine
    from oncall.people import service as people
    from oncall.people.models import Team, User
    from oncall.schedules import service as schedules

    engine = get_engine(app)  # real connections: the test's rolled-back transaction is invisible to them
    now = clock().replace(second=0, microsecond=0)
    change = now + timedelta(hours=3)
    with Session(engine) as s, s.begin():
        a = people.create_user(s, name="Race A", email="race-a@example.com", phone="+14155550991", time_zone="UTC")
        b = people.create_user(s, name="Race B", email="race-b@example.com", phone="+14155550992", time_zone="UTC")
        team = people.create_team(s, name="Race", slug="race-team", time_zone="UTC")
        schedules.create_rotation(s, team_id=team.id, name="Race", time_zone="UTC",
                                  handoff_time=time(change.hour, change.minute), shift_length={"unit": "days", "count": 1},
                                  start_date=(now - timedelta(days=4)).date(), participant_ids=[a.id, b.id])
        team_id, user_ids = team.id, [a.id, b.id]
    try:
        barrier = threading.Barrier(2)
        results = []

        def work():
            with Session(engine) as s:
                barrier.wait()
                try:
                    rows = reminders.handoff_tick(s, now=change - 30 * M, public_url=URL)
                    s.commit()
                    results.append(len(rows))
                except Exception as exc:  # reported by the assertion below
                    results.append(repr(exc))

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [0, 1]
    finally:
        with Session(engine) as s, s.begin():
            s.delete(s.get(Team, team_id))
            s.flush()
            for uid in user_ids:
                s.delete(s.get(User, uid))


def test_the_outbox_sends_a_repage(app, scenario, session):
    """The re-page rows are ordinary outbox rows: the paging outbox sends them to the incoming on-call."""
    from oncall.paging import outbox

    change = expected_change(scenario)
    _, incoming = people_at(scenario, change)
    incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV1", title="Down hard",
                                            now=change + 25 * M)
    session.commit()
    sessions = get_sessionmaker(app)
    outbox.dispatch_due(sessions, FakeNotifier(), now=change + 25 * M, public_url=URL)  # the policy's own pages
    reminders.handoff_tick(session, now=change + 30 * M, public_url=URL)
    session.commit()
    notifier = FakeNotifier()
    outbox.dispatch_due(sessions, notifier, now=change + 31 * M, public_url=URL)
    to_incoming = [body for to, body in notifier.sent if to == incoming.phone]
    assert len(to_incoming) == 2  # SMS and voice call (the outgoing on-call gets the unwritten-handoff reminder)
    assert all("Down hard" in body for body in to_incoming)
    session.expire_all()
    states = session.scalars(select(Notification.state).where(Notification.step == reminders.HANDOFF_STEP)).all()
    assert states == ["sent", "sent"]
    assert incident.id
