"""The worker's handoff job: load every nearby shift change, ask reminder_rules.due what to send, and queue it
in the paging outbox, which sends it like every other message (one SMS per person per window, STOP, retries).
Reminders become outbox rows without an incident; re-pages are ordinary pages of the team's open incidents."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oncall.clock import database_now
from oncall.handoffs import reminder_rules as rules
from oncall.handoffs.models import Handoff, HandoffReminder
from oncall.handoffs.service import names_of, pass_incidents_due, people_at_change
from oncall.incidents import events
from oncall.incidents.models import ACKNOWLEDGED as INCIDENT_ACKNOWLEDGED, RESOLVED, Incident
from oncall.paging.models import PENDING, SMS, VOICE, Notification
from oncall.people.models import User
from oncall.schedules import service as schedules, timeline
from oncall.schedules.models import Rotation

_TICK = timedelta(microseconds=1)
# A re-page is an outbox row outside the team's escalation policy: step -1 marks it, and the round is the
# shift change's minute since the epoch, so the outbox's unique key keeps one per incident, person, channel
# and shift change.
HANDOFF_STEP = -1
REPAGE_SEVERITIES = ("SEV1", "SEV2")


def _public_url(public_url: str | None) -> str:
    if public_url:
        return public_url.rstrip("/")
    from flask import current_app

    return current_app.config["PUBLIC_URL"]


def handoff_tick(session: Session, *, now: datetime, public_url: str | None = None) -> list[HandoffReminder]:
    """Queue the reminders and re-pages due at `now` for every rotation's nearby shift changes (see
    reminder_rules.py for when). Each goes out once: a unique key per change and kind backs that even with
    several workers. The SMS and the re-pages are outbox rows, sent by the worker's dispatch job."""
    base = _public_url(public_url)
    lo, hi = now - rules.STALE_AFTER, now + rules.BEFORE_CHANGE + _TICK
    rotations = schedules.list_rotations(session, archived=False)
    if not rotations:
        return []
    plans = schedules.load_schedules(session, rotations, lo, hi)
    changes = {r.id: timeline.handoffs_between(plans[r.id], lo, hi) for r in rotations}
    if not any(changes.values()):
        return []
    ids = [rid for rid, found in changes.items() if found]
    handoffs = {(h.rotation_id, h.shift_change_at): h for h in session.scalars(
        select(Handoff).where(Handoff.rotation_id.in_(ids), Handoff.shift_change_at >= lo, Handoff.shift_change_at < hi))}
    sent: dict[tuple[int, datetime], set[str]] = {}
    for rid, at, kind in session.execute(select(HandoffReminder.rotation_id, HandoffReminder.shift_change_at,
                                                HandoffReminder.kind).where(
            HandoffReminder.rotation_id.in_(ids), HandoffReminder.shift_change_at >= lo,
            HandoffReminder.shift_change_at < hi)):
        sent.setdefault((rid, at), set()).add(kind)
    pairs = {(rotation.id, at): people_at_change(plans[rotation.id], at) for rotation in rotations
             for at in changes[rotation.id]}
    wanted = {uid for pair in pairs.values() for uid in pair if uid is not None}
    # One query for everyone involved in any nearby change, not one per change.
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))} if wanted else {}
    created: list[HandoffReminder] = []
    for rotation in rotations:
        for at in changes[rotation.id]:
            outgoing_id, incoming_id = pairs[(rotation.id, at)]
            handoff = handoffs.get((rotation.id, at))
            facts = rules.ChangeFacts(
                rotation_id=rotation.id, rotation_name=rotation.name, shift_change_at=at,
                outgoing=_person(people.get(outgoing_id)), incoming=_person(people.get(incoming_id)),
                handoff_id=handoff.id if handoff is not None else None,
                handoff_state=handoff.state if handoff is not None else None,
                sent=frozenset(sent.get((rotation.id, at), ())))
            for item in rules.due(facts, now, base):
                row = _queue(session, rotation.id, at, item, people.get(item.user_id), now)
                if row is None:
                    continue
                if item.kind == rules.REPAGE:
                    _repage(session, rotation=rotation, shift_change_at=at, user=people[item.user_id], now=now)
                created.append(row)
    session.flush()
    return created


def _person(user: User | None) -> rules.Person | None:
    return None if user is None else rules.Person(user.id, user.name, user.time_zone or "UTC")


def _queue(session: Session, rotation_id: int, at: datetime, item: rules.Due, user: User | None,
           now: datetime) -> HandoffReminder | None:
    """Record the reminder (once per change and kind) and put its SMS in the outbox; None if another worker
    recorded it first."""
    row = HandoffReminder(rotation_id=rotation_id, shift_change_at=at, kind=item.kind, user_id=item.user_id,
                          body=item.body, state="queued", created_at=now)
    if item.kind == rules.REPAGE:
        row.state = "done"
    elif user is None or not user.pageable_phone:
        row.state, row.last_error = "skipped", "no phone number" if user is None or not user.phone else \
            "phone number not verified"
    elif user.sms_opted_out:
        row.state, row.last_error = "skipped", "opted out of SMS (texted STOP)"
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another worker wrote it first
        return None
    if row.state == "queued":
        message = Notification(incident_id=None, step=0, round=0, user_id=user.id, channel=SMS, state=PENDING,
                               next_attempt_at=now, created_at=now, to=user.phone, body=item.body)
        session.add(message)
        session.flush()
        row.notification_id = message.id
    return row


def _repage(session: Session, *, rotation: Rotation, shift_change_at: datetime, user: User, now: datetime) -> list[int]:
    """Page the incoming on-call again about the team's open SEV1/SEV2 incidents. The outbox sends pages only
    for unacknowledged incidents, so those acknowledged by someone else (the outgoing on-call, typically) get
    a timeline line instead; the incoming one's reminder SMS asks them to take the handoff. Returns the ids
    of the incidents paged."""
    open_ones = session.scalars(
        select(Incident).where(Incident.team_id == rotation.team_id, Incident.status != RESOLVED,
                               Incident.severity.in_(REPAGE_SEVERITIES))
        .order_by(Incident.id)
    ).all()
    late = f"The {rotation.name} handoff was not acknowledged 30 minutes after the shift change"
    paged = []
    round_ = int(shift_change_at.timestamp() // 60)
    for incident in open_ones:
        if incident.status == INCIDENT_ACKNOWLEDGED:
            if incident.acknowledged_by_id != user.id:
                holder = names_of(session, {incident.acknowledged_by_id}).get(incident.acknowledged_by_id, "someone")
                events.record(session, incident, kind="note", now=now, via="handoff", detail={
                    "message": f"{late}: this incident is still with {holder}; {user.name}, the incoming on-call, "
                               "has been reminded.", "reason": "handoff_unacknowledged", "user_id": user.id})
            continue
        if not user.pageable_phone:
            missing = "no phone number" if not user.phone else "no verified phone number"
            events.record(session, incident, kind="unreachable", now=now, user_id=user.id, via="handoff", detail={
                "message": f"{late}; {user.name}, the incoming on-call, has {missing} and cannot be paged.",
                "reason": "handoff_unacknowledged"})
            continue
        channels = [VOICE] if user.sms_opted_out else [SMS, VOICE]
        for channel in channels:
            session.add(Notification(incident_id=incident.id, step=HANDOFF_STEP, round=round_, user_id=user.id,
                                     channel=channel, state=PENDING, next_attempt_at=now, created_at=now,
                                     to=user.phone))
        how = " and ".join({"sms": "SMS", "voice": "voice call"}[c] for c in channels)
        events.record(session, incident, kind="note", now=now, via="handoff", detail={
            "message": f"{late}: paging {user.name}, the incoming on-call, again by {how}.",
            "reason": "handoff_unacknowledged", "user_id": user.id, "channels": channels,
            "shift_change_at": shift_change_at.isoformat()})
        paged.append(incident.id)
    return paged


def run_reminders(sessions, *, public_url: str, now: datetime | None = None) -> int:
    """The worker's handoff job: queue what is due in one transaction (the worker's dispatch job sends it).
    `now` None reads the database's clock. Returns how many reminders and re-pages were queued."""
    with sessions() as session, session.begin():
        now = now or database_now(session)
        # Early acknowledgements pass their incidents at the shift change (handoffs/service.py).
        pass_incidents_due(session, now=now)
        return len(handoff_tick(session, now=now, public_url=public_url))
