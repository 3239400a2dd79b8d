"""A team's reports from the database: the load per person and the response per severity. Never writes.

Both draw on what the rest of the service shows: final shifts (overrides and time off applied, as the API,
feeds and dashboard compute them) and the outbox's records of pages sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from oncall.escalation.policy import Snapshot
from oncall.incidents.models import Incident
from oncall.paging.models import Notification
from oncall.people.models import User
from oncall.reports import load, response
from oncall.schedules import timeline
from oncall.schedules.models import Rotation, RotationVersion
from oncall.schedules.service import load_schedules

DEFAULT_PERIOD = timedelta(weeks=4)


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime


def team_shifts(session: Session, team_id: int, period: Period) -> list[tuple[int, datetime, datetime]]:
    """(user_id, start, end) of every covered final shift of the team's rotations in the period; an archived
    rotation's shifts end when it was archived (it paged nobody after)."""
    rotations = list(session.scalars(
        select(Rotation).where(Rotation.team_id == team_id)
        .options(selectinload(Rotation.versions).selectinload(RotationVersion.participants)).order_by(Rotation.id)))
    out = []
    at = period.start
    while at < period.end:  # schedules answer at most timeline.MAX_WINDOW at once
        stop = min(period.end, at + timeline.MAX_WINDOW)
        plans = load_schedules(session, rotations, at, stop)
        for rotation in rotations:
            until = min(stop, rotation.archived_at) if rotation.archived_at else stop
            if until <= at:
                continue
            out.extend((s.user_id, s.start_at, min(s.end_at, until))
                       for s in timeline.shifts_between(plans[rotation.id], at, until) if s.user_id is not None)
        at = stop
    return out


def team_pages(session: Session, team_id: int, period: Period) -> list[tuple[int, datetime]]:
    """(user_id, sent_at) of every page (call or SMS about an incident of the team) sent in the period."""
    return [tuple(row) for row in session.execute(
        select(Notification.user_id, Notification.sent_at).join(Incident, Incident.id == Notification.incident_id)
        .where(Incident.team_id == team_id, Notification.sent_at >= period.start, Notification.sent_at < period.end))]


def load_report(session: Session, team_id: int, period: Period) -> list[load.PersonLoad]:
    shifts = team_shifts(session, team_id, period)
    pages = team_pages(session, team_id, period)
    people = {s[0] for s in shifts} | {p[0] for p in pages}
    zones = dict(session.execute(select(User.id, User.time_zone).where(User.id.in_(people))).all()) if people else {}
    return load.load_report(shifts, pages, zones, period.start, period.end)


def team_incidents(session: Session, team_id: int, period: Period) -> list[response.Answered]:
    """The team's incidents opened in the period, with the business hours a SEV4's pages waited for."""
    rows = session.execute(
        select(Incident.severity, Incident.created_at, Incident.acknowledged_at, Incident.resolved_at,
               Incident.policy)
        .where(Incident.team_id == team_id, Incident.created_at >= period.start, Incident.created_at < period.end)
        .order_by(Incident.created_at))
    return [response.Answered(r.severity, r.created_at, r.acknowledged_at, r.resolved_at,
                              Snapshot.from_json(r.policy).business_hours if r.severity == "SEV4" else None)
            for r in rows]


def response_report(session: Session, team_id: int, period: Period) -> list[dict]:
    return response.response_report(team_incidents(session, team_id, period))


def names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
