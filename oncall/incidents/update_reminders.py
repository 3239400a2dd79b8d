"""The worker's reminders of late status updates: while a SEV1 or SEV2 is open, each cadence slot that passes
without an update (incidents/cadence.py) texts one reminder through the outbox to the incident's commander,
else whoever acknowledged it, else the team's current on-call, and says so on the incident's timeline.
Never commits; `run` is the job and owns its transactions, one per incident.

A reminder row per incident and slot (unique) is written before the text is queued, so two workers, or a
worker retried after a crash, remind once per slot. Someone who texted STOP gets no reminder; the timeline
says so."""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from oncall.clock import database_now
from oncall.incidents import cadence, events, lifecycle
from oncall.incidents.models import RESOLVED, Incident, UpdateReminder
from oncall.paging import outbox
from oncall.people.models import User
from oncall.schedules import service as schedules

log = logging.getLogger(__name__)
SMALLEST = min(cadence.CADENCE.values())


def due_incident_ids(session: Session, now: datetime) -> list[int]:
    """Open incidents with a cadence, open for at least one slot: the ones that may have missed an update."""
    return list(session.scalars(select(Incident.id).where(
        Incident.status != RESOLVED, Incident.severity.in_(list(cadence.CADENCE)),
        Incident.created_at <= now - SMALLEST).order_by(Incident.id)))


def remind(session: Session, incident: Incident, *, now: datetime, public_url: str) -> int:
    """Remind of every slot of this incident missed up to `now` not reminded of yet; returns how many."""
    interval = cadence.interval_for(incident.severity)
    if interval is None or incident.status == RESOLVED:
        return 0
    since = lifecycle.cadence_since(session, incident)
    slots = cadence.missed_slots(since, interval, now)
    if not slots:
        return 0
    done = set(session.scalars(select(UpdateReminder.slot_at).where(UpdateReminder.incident_id == incident.id,
                                                                     UpdateReminder.slot_at >= slots[0])))
    todo = [slot for slot in slots if slot not in done]
    if not todo:
        return 0
    person, why = recipient(session, incident, now=now)
    count = 0
    for slot in todo:
        if not _record(session, incident.id, slot, now, person.id if person else None):
            continue  # another worker has this slot
        count += 1
        late = f"Status update due at {slot.astimezone(ZoneInfo('UTC')):%H:%M} UTC did not come " \
               f"(every {int(interval.total_seconds() // 60)} min for {incident.severity})"
        sent = False
        if person is None:
            message = f"{late}; nobody to remind ({why})."
        elif not person.pageable_phone:
            message = f"{late}; {person.name} ({why}) has no verified phone, so no reminder was sent."
        elif person.sms_opted_out:
            message = f"{late}; {person.name} ({why}) has opted out of SMS (texted STOP), so no reminder was sent."
        else:
            outbox.queue_message(session, user=person, now=now,
                                 body=reminder_text(incident, slot, person.time_zone, public_url))
            message, sent = f"{late}: reminded {person.name} ({why}) by SMS.", True
        events.record(session, incident, kind="update_reminder", now=now, user_id=person.id if person else None,
                      detail={"message": message, "slot_at": slot.isoformat(), "sent": sent})
    session.flush()
    return count


def recipient(session: Session, incident: Incident, *, now: datetime) -> tuple[User | None, str]:
    """Who is reminded, and as what: the commander, else whoever acknowledged, else the current on-call."""
    roles = lifecycle.roles_of(session, incident.id)
    if roles["commander"] is not None and (user := session.get(User, roles["commander"])) is not None:
        return user, "commander"
    if incident.acknowledged_by_id is not None and (user := session.get(User, incident.acknowledged_by_id)):
        return user, "acknowledged it"
    for _rotation, shift in schedules.team_on_call_at(session, team_id=incident.team_id, at=now):
        if shift.user_id is not None and (user := session.get(User, shift.user_id)) is not None:
            return user, "on call"
    return None, "no commander, nobody acknowledged and nobody is on call"


def reminder_text(incident: Incident, slot: datetime, time_zone: str, public_url: str) -> str:
    local = slot.astimezone(ZoneInfo(time_zone))
    return (f"oncall: {incident.severity} {incident.title[:80]}: a status update was due at {local:%H:%M %Z}. "
            f"Post one: {public_url}/incidents/{incident.id}")


def _record(session: Session, incident_id: int, slot: datetime, now: datetime, user_id: int | None) -> bool:
    """Insert the reminder row unless another worker did (unique incident and slot): True if this one did."""
    table = UpdateReminder.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    inserted = session.execute(insert(table).values(incident_id=incident_id, slot_at=slot, reminded_at=now,
                                                    user_id=user_id)
                               .on_conflict_do_nothing(index_elements=[table.c.incident_id, table.c.slot_at])
                               .returning(table.c.id))
    return inserted.first() is not None


def run(sessions: sessionmaker, *, public_url: str) -> int:
    """The worker's job: one pass over the incidents that may be late, a transaction each, on the database's
    clock. Returns the number of reminders (slots) recorded."""
    try:
        with sessions.begin() as session:
            now = database_now(session)
            ids = due_incident_ids(session, now)
    except DBAPIError:
        log.warning("update reminders: could not list incidents; the next pass retries", exc_info=True)
        return 0
    total = 0
    for incident_id in ids:
        try:
            with sessions.begin() as session:
                incident = session.get(Incident, incident_id, with_for_update={"key_share": True})
                if incident is not None:
                    total += remind(session, incident, now=database_now(session), public_url=public_url)
        except DBAPIError:
            log.warning("update reminders for incident %s failed; the next pass retries", incident_id,
                        exc_info=True)
    return total
