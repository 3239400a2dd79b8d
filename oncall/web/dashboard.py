"""The responder's dashboard as plain data: what is on fire, whether I am on call, who is on call now and
next in each rotation, coverage gaps and handoffs. A fixed number of queries, whatever the number of teams
and rotations: everything is loaded in batches first, then computed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.handoffs import service as handoffs
from oncall.handoffs.draft import LATE_WINDOW
from oncall.incidents.models import RESOLVED, Incident
from oncall.incidents.triage import triage
from oncall.paging.models import Notification
from oncall.people import phones
from oncall.people.models import Team, User
from oncall.postmortems import service as postmortems
from oncall.schedules import coverage, service as schedules, swaps, timeline
from oncall.schedules.models import Override, Rotation, SwapRequest
from oncall.web.shiftview import now_and_next

# How far the dashboard looks for the next person: a few weeks covers weekly rotations of two people.
NEXT_HORIZON = timedelta(days=35)
GAP_HORIZON = timedelta(days=7)


@dataclass
class Person:
    id: int
    name: str
    phone: str | None


@dataclass
class IncidentRow:
    incident: Incident
    team: Team
    holder_id: int | None  # who acknowledged it
    paged_ids: list[int]  # who was paged, in order, while nobody holds it


@dataclass
class RotationRow:
    rotation: Rotation
    now: timeline.Shift | None
    next: timeline.Shift | None
    gaps: list[tuple[datetime, datetime]]
    handoff: dict = field(default_factory=dict)


@dataclass
class TeamBlock:
    team: Team
    mine: bool
    rotations: list[RotationRow]


@dataclass
class MyShift:
    """The reader's own place: on call now in `rotation` until `until`, or next from `start`."""
    rotation: Rotation
    start: datetime
    until: datetime
    now: bool
    open_ended: bool = False  # `until` is only where the dashboard stops looking


@dataclass
class Dashboard:
    now: datetime
    incidents: list[IncidentRow]
    blocks: list[TeamBlock]
    mine: list[MyShift]
    handoffs_owed: list[RotationRow]
    people: dict[int, Person]
    reasons: dict[int, str | None]
    teams: list[Team]  # what the filter offers (site admins: every team)
    team_filter: int | None
    swap_requests: list[SwapRequest]  # open ones the reader may answer or is waiting on
    rotation_names: dict[int, str]
    # Per team: people on its rotations whom no page can reach (no verified phone), phones.unverified_on_rotations.
    unreachable: dict[int, list[dict]] = field(default_factory=dict)
    # The reader's open postmortem action items, soonest due first (postmortems.service.open_items_of).
    action_items: list[dict] = field(default_factory=list)

    @property
    def names(self) -> dict[int, str]:
        return {p.id: p.name for p in self.people.values()}

    @property
    def unacknowledged(self) -> int:
        return sum(1 for row in self.incidents if row.incident.status == "triggered")


def _until(shifts: list[timeline.Shift], i: int, user_id: int) -> datetime:
    """End of the reader's stretch starting at shifts[i]: adjacent pieces of theirs run on."""
    end = shifts[i].end_at
    for s in shifts[i + 1:]:
        if s.start_at != end or s.user_id != user_id:
            break
        end = s.end_at
    return end


def my_shifts(rows: list[RotationRow], shifts: dict[int, list[timeline.Shift]], user_id: int,
              now: datetime, horizon_end: datetime) -> list[MyShift]:
    """Where the reader is on call now (each rotation), else the first coming stretch of theirs (pure).
    `shifts` reach `horizon_end`; a stretch running to it is open-ended."""
    current, coming = [], []
    for row in rows:
        pieces = shifts[row.rotation.id]
        for i, s in enumerate(pieces):
            if s.user_id != user_id or s.end_at <= now:
                continue
            until = _until(pieces, i, user_id)
            entry = MyShift(row.rotation, s.start_at, until, s.start_at <= now, until >= horizon_end)
            (current if entry.now else coming).append(entry)
            break
    return current or sorted(coming, key=lambda m: m.start)[:1]


def load(session: Session, *, user: User, now: datetime, team_filter: int | None = None) -> Dashboard:
    member_of = {m.team_id for m in user.memberships}
    all_teams = list(session.scalars(select(Team).order_by(Team.name)))
    offered = all_teams if user.is_admin else [t for t in all_teams if t.id in member_of]
    shown = [t for t in offered if team_filter is None or t.id == team_filter]
    team_ids = [t.id for t in shown]
    teams_by_id = {t.id: t for t in shown}

    every_rotation = schedules.list_rotations(session, archived=False)
    rotation_names = {r.id: r.name for r in every_rotation}
    rotations = [r for r in every_rotation if r.team_id in teams_by_id]
    lo = now - LATE_WINDOW
    plans = schedules.load_schedules(session, rotations, lo, now + NEXT_HORIZON)
    status = handoffs.dashboard_status(session, rotations, plans, user=user, now=now)

    shifts: dict[int, list[timeline.Shift]] = {}
    rows_by_team: dict[int, list[RotationRow]] = {tid: [] for tid in team_ids}
    people: set[int] = {user.id}
    override_ids: set[int] = set()
    for rotation in rotations:
        schedule = plans[rotation.id]
        pieces = timeline.shifts_between(schedule, now, now + NEXT_HORIZON)
        shifts[rotation.id] = pieces
        current, upcoming = now_and_next(pieces, now)
        if current is None:  # the rotation starts later
            current = timeline.on_call_at(schedule, now)
        row = RotationRow(rotation, current, upcoming, coverage.gaps(pieces, now, now + GAP_HORIZON),
                          status.get(rotation.id, {}))
        rows_by_team[rotation.team_id].append(row)
        for s in (current, upcoming):
            if s is not None:
                people.update({s.user_id, s.covering_for})
                override_ids.add(s.override_id)
        h = row.handoff.get("pending")
        if h is not None:
            people.update({h.outgoing_user_id, h.incoming_user_id})

    open_incidents = list(session.scalars(select(Incident).where(Incident.team_id.in_(team_ids),
                                                                 Incident.status != RESOLVED))) if team_ids else []
    paged: dict[int, list[int]] = {i.id: [] for i in open_incidents}
    if open_incidents:
        for incident_id, user_id in session.execute(
                select(Notification.incident_id, Notification.user_id)
                .where(Notification.incident_id.in_(list(paged))).order_by(Notification.id)):
            if user_id not in paged[incident_id]:
                paged[incident_id].append(user_id)
    incident_rows = [IncidentRow(i, teams_by_id[i.team_id], i.acknowledged_by_id, paged[i.id])
                     for i in triage(open_incidents)]
    for row in incident_rows:
        people.add(row.holder_id)
        people.update(row.paged_ids)

    swap_requests = swaps.open_for(session, user=user, team_ids=member_of, now=now)
    for swap in swap_requests:
        people.update({swap.requester_id, swap.to_user_id})

    all_rows = [row for tid in team_ids for row in rows_by_team[tid]]
    mine = my_shifts([r for r in all_rows if r.rotation.team_id in member_of], shifts, user.id, now, now + NEXT_HORIZON)
    owed = [r for r in all_rows if r.handoff.get("pending_is_mine") or r.handoff.get("draft_is_mine")]

    blocks = [TeamBlock(t, t.id in member_of, rows_by_team[t.id]) for t in shown]
    blocks.sort(key=lambda b: (not b.mine, b.team.name.lower()))
    return Dashboard(now, incident_rows, blocks, mine, owed, _people(session, people),
                     _reasons(session, override_ids), offered, team_filter, swap_requests, rotation_names,
                     phones.unverified_on_rotations(session, team_ids=team_ids, now=now),
                     postmortems.open_items_of(session, user_id=user.id))


def _people(session: Session, ids: set) -> dict[int, Person]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name, User.phone).where(User.id.in_(ids)))
    return {r.id: Person(r.id, r.name, r.phone) for r in rows}


def _reasons(session: Session, ids: set) -> dict[int, str | None]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Override.id, Override.reason).where(Override.id.in_(ids))).all())
