"""Create, list and end maintenance windows; hold the incidents machines open inside one; release them when it
ends. Never commits.

An incident that an integration (Alertmanager, an integration token) or a heartbeat opens while a window of its
team is on is kept, marked suppressed and visible, and pages nobody. If it is still open when the window ends
(or the window is deleted), its escalation starts then: an alert still firing after planned maintenance is
a real problem, and Alertmanager's repeats of it would only retrigger the held incident. Incidents a person
opens through the API or the web always page.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from oncall.errors import Invalid, NotFound
from oncall.escalation import engine
from oncall.escalation import policy as rules
from oncall.incidents import events
from oncall.incidents.models import TRIGGERED, Incident
from oncall.maintenance.models import MaintenanceWindow
from oncall.people.service import get_team

MACHINE_VIAS = ("alertmanager", "heartbeat")  # plus anything carrying an integration token


def create_window(session: Session, *, team_id: int, start_at: datetime, end_at: datetime, reason: str | None,
                  created_by_id: int | None, now: datetime) -> MaintenanceWindow:
    get_team(session, team_id)
    if end_at <= start_at:
        raise Invalid("end must be after start", fields={"end": ["Must be after start."]})
    if end_at <= now:
        raise Invalid("a window must end in the future", fields={"end": ["Must be in the future."]})
    window = MaintenanceWindow(team_id=team_id, start_at=start_at, end_at=end_at, reason=reason,
                               created_by_id=created_by_id, created_at=now)
    session.add(window)
    session.flush()
    return window


def list_windows(session: Session, team_id: int, *, since: datetime) -> list[MaintenanceWindow]:
    """The team's windows that end after `since` (current and coming ones, and recent ones if `since` is past)."""
    get_team(session, team_id)
    return list(session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.team_id == team_id,
                                                                MaintenanceWindow.end_at > since)
                                .order_by(MaintenanceWindow.start_at, MaintenanceWindow.id)))


def get_window(session: Session, team_id: int, window_id: int) -> MaintenanceWindow:
    window = session.get(MaintenanceWindow, window_id)
    if window is None or window.team_id != team_id:
        raise NotFound(f"maintenance window {window_id} does not exist for team {team_id}")
    return window


def delete_window(session: Session, window: MaintenanceWindow, *, now: datetime) -> None:
    """End it now: its held incidents that are still open page from now (release_due, this transaction)."""
    release(session, now, window_ids=[window.id])
    session.delete(window)
    session.flush()


def active_window(session: Session, team_id: int, at: datetime) -> MaintenanceWindow | None:
    return session.scalar(select(MaintenanceWindow).where(
        MaintenanceWindow.team_id == team_id, MaintenanceWindow.start_at <= at, MaintenanceWindow.end_at > at)
        .order_by(MaintenanceWindow.end_at.desc()).limit(1))


def held_by_machine(via: str, integration_id: int | None) -> bool:
    return integration_id is not None or via in MACHINE_VIAS


def hold(session: Session, incident: Incident, window: MaintenanceWindow, now: datetime) -> None:
    """Keep a just-opened incident from paging until the window ends (create_incident writes it held already;
    this says so on its timeline)."""
    incident.held = True
    incident.suppressed_at = now
    incident.maintenance_window_id = window.id
    incident.next_step_at = None
    events.record(session, incident, kind="suppressed", now=now, detail={
        "message": f"Opened during maintenance window {window.id}"
                   f"{': ' + window.reason if window.reason else ''}; nobody is paged. If it is still open when "
                   f"the window ends ({window.end_at.isoformat()}), its escalation starts then.",
        "maintenance_window_id": window.id, "until": window.end_at.isoformat()})


def release(session: Session, now: datetime, *, window_ids: list[int] | None = None) -> int:
    """Start the escalation of held incidents whose window is over (or deleted, or in `window_ids`); those that
    were acknowledged meanwhile are simply no longer held. Returns how many started paging."""
    query = (select(Incident).outerjoin(MaintenanceWindow, MaintenanceWindow.id == Incident.maintenance_window_id)
             .where(Incident.held.is_(True)))
    if window_ids is not None:
        query = query.where(Incident.maintenance_window_id.in_(window_ids))
    else:
        query = query.where(or_(MaintenanceWindow.id.is_(None), MaintenanceWindow.end_at <= now))
    started = 0
    for incident in session.scalars(query.order_by(Incident.id).with_for_update(of=Incident, skip_locked=True)):
        incident.held = False
        if incident.status != TRIGGERED:
            continue
        state = rules.start(rules.Snapshot.from_json(incident.policy), now)
        engine.save_state(incident, state)
        events.record(session, incident, kind="released", now=now, detail={
            "message": "The maintenance window is over and this incident is still open: its escalation starts."})
        engine.advance(session, incident, now=now)
        started += 1
    session.flush()
    return started

