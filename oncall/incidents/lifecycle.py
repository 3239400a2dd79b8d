"""The framework's lifecycle of a major incident: its roles and its status updates. Never commits.

A status update with the status "resolved" resolves the incident too (stakeholders are told it is over, so it
is), which ends the update cadence and, for a SEV1 or SEV2, starts the postmortem draft."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncall.errors import Conflict, Invalid
from oncall.incidents import cadence, events, service
from oncall.incidents.models import RESOLVED, ROLES, Incident, IncidentRoles, StatusUpdate, TimelineEvent
from oncall.people.models import TeamMember, User

ROLE_NAMES = {"commander": "commander", "tech_lead": "technical lead", "comms_lead": "communications lead"}
RESOLVED_UPDATE = "resolved"


def roles_of(session: Session, incident_id: int) -> dict:
    row = session.get(IncidentRoles, incident_id)
    return row.as_dict() if row is not None else {role: None for role in ROLES}


def set_roles(session: Session, incident: Incident, changes: dict, *, user_id: int | None, via: str,
              now: datetime) -> Incident:
    """Name (or clear, with None) the roles in `changes`; roles left out keep their holder. Everyone named
    must be a member of the incident's team. The change is on the timeline."""
    named = {v for v in changes.values() if v is not None}
    members = set(session.scalars(select(TeamMember.user_id).where(
        TeamMember.team_id == incident.team_id, TeamMember.user_id.in_(named)))) if named else set()
    wrong = {role: ["Choose a member of the incident's team."] for role, v in changes.items()
             if v is not None and v not in members}
    if wrong:
        raise Invalid("only members of the incident's team can hold its roles", fields=wrong)
    service.lock(session, incident)  # two requests naming roles at once: one row, written one after the other
    row = session.get(IncidentRoles, incident.id, populate_existing=True)
    before = row.as_dict() if row is not None else {role: None for role in ROLES}
    if row is None:
        row = IncidentRoles(incident_id=incident.id, updated_at=now)
        session.add(row)
    for role, value in changes.items():
        setattr(row, f"{role}_id", value)
    after = {role: changes.get(role, before.get(role)) for role in ROLES}
    changed = [role for role in ROLES if after[role] != before.get(role)]
    if changed:
        row.updated_at = now
        names = _names(session, {after[r] for r in changed})
        said = "; ".join(f"{ROLE_NAMES[r]}: {names.get(after[r], 'nobody')}" for r in changed)
        events.record(session, incident, kind="roles", now=now, user_id=user_id, via=via, detail={
            "message": f"Roles: {said}.", "roles": after})
    session.flush()
    return incident


def _names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def updates_of(session: Session, incident_id: int) -> list[StatusUpdate]:
    """Newest first."""
    return list(session.scalars(select(StatusUpdate).where(StatusUpdate.incident_id == incident_id)
                                .order_by(StatusUpdate.created_at.desc(), StatusUpdate.id.desc())))


def add_status_update(session: Session, incident: Incident, *, status: str, message: str, user_id: int | None,
                      via: str, now: datetime) -> StatusUpdate:
    if status not in cadence.UPDATE_STATUSES:
        raise Invalid(f"unknown status {status!r}",
                      fields={"status": [f"One of {', '.join(cadence.UPDATE_STATUSES)}."]})
    message = (message or "").strip()
    if not message:
        raise Invalid("a status update needs a message", fields={"message": ["Must not be blank."]})
    if incident.status == RESOLVED:
        raise Conflict(f"incident {incident.id} is resolved; its status updates are over")
    update = StatusUpdate(incident_id=incident.id, status=status, message=message, user_id=user_id, via=via,
                          created_at=now)
    session.add(update)
    events.record(session, incident, kind="status_update", now=now, user_id=user_id, via=via, detail={
        "message": f"Status update ({status.capitalize()}): {message}", "status": status})
    session.flush()
    if status == RESOLVED_UPDATE:
        service.resolve(session, incident, user_id=user_id, via=via, now=now)
    return update


def cadence_since(session: Session, incident: Incident) -> datetime:
    """Where the incident's update clock last restarted: its latest status update, or its latest change of
    severity, or its opening."""
    latest_update = session.scalar(select(func.max(StatusUpdate.created_at))
                                   .where(StatusUpdate.incident_id == incident.id))
    latest_change = session.scalar(select(func.max(TimelineEvent.at)).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "severity_changed"))
    return max(t for t in (incident.created_at, latest_update, latest_change) if t is not None)


def next_update_due(session: Session, incident: Incident, *, now: datetime) -> dict | None:
    """For the incident page: when the next update is due and whether one is late; None without a cadence."""
    interval = cadence.interval_for(incident.severity)
    if interval is None or incident.status == RESOLVED:
        return None
    since = cadence_since(session, incident)
    due = since + interval
    return {"due_at": due, "late": due <= now, "interval_minutes": int(interval.total_seconds() // 60)}
