"""Read models for the web pages (rotation page, time off): load, ask the pure cores, shape."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.people.models import Team, User
from oncall.schedules import calendar, service as schedules, timeline
from oncall.schedules.models import Override, Rotation, TimeOff

_TICK = timedelta(microseconds=1)


def user_names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def override_reasons(session: Session, ids) -> dict[int, str | None]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Override.id, Override.reason).where(Override.id.in_(ids))).all())


def next_shift_change(schedule: timeline.Schedule, now: datetime) -> datetime | None:
    """The next rotation handoff after `now` (always within one shift length)."""
    span = schedules.longest_shift(list(schedule.versions))
    changes = timeline.handoffs_between(schedule, now + _TICK, now + span + _TICK)
    return changes[0] if changes else None


@dataclass
class RotationPage:
    rotation: Rotation
    team: Team
    shifts: list[timeline.Shift]
    overrides: list[Override]
    names: dict[int, str]
    reasons: dict[int, str | None]
    members: list[User]
    next_change_at: datetime | None
    emails: dict[int, str]


def rotation_page(session: Session, *, rotation_id: int, now: datetime, weeks: int) -> RotationPage:
    rotation = schedules.get_rotation(session, rotation_id)
    team = session.get(Team, rotation.team_id)
    end = now + timedelta(weeks=weeks)
    schedule = schedules.load_schedules(session, [rotation], now, end)[rotation.id]
    shifts = timeline.shifts_between(schedule, now, end)
    overrides = schedules.list_overrides(session, rotation.id, now, end)
    members = sorted((m.user for m in team.members), key=lambda u: u.name.lower())
    ids = {s.user_id for s in shifts} | {s.covering_for for s in shifts} | {o.user_id for o in overrides}
    ids |= set(rotation.current.participant_ids)
    participants = rotation.current.participant_ids
    emails = dict(session.execute(select(User.id, User.email).where(User.id.in_(participants))).all())
    return RotationPage(rotation, team, shifts, overrides, user_names(session, ids),
                        override_reasons(session, {s.override_id for s in shifts}), members,
                        next_shift_change(schedule, now), emails)


@dataclass
class Coverage:
    rotation: Rotation
    shift: timeline.Shift


@dataclass
class TimeOffRow:
    entry: TimeOff
    coverage: list[Coverage]


def time_off_page(session: Session, *, user: User, now: datetime) -> tuple[list[TimeOffRow], dict[int, str]]:
    """The user's current and coming time off (and the last month's), with who covers each of their shifts."""
    entries = [t for t in schedules.list_time_off(session, user.id) if t.end_at > now - timedelta(days=30)]
    rotations = [schedules.get_rotation(session, rid) for rid in schedules.rotations_of_user(session, user.id)]
    rows: list[TimeOffRow] = []
    people: set[int] = set()
    for entry in entries:
        end = min(entry.end_at, entry.start_at + timeline.MAX_WINDOW)
        plans = schedules.load_schedules(session, rotations, entry.start_at, end)
        coverage: list[Coverage] = []
        for rotation in rotations:
            schedule = plans[rotation.id]
            for piece in timeline.shifts_between(schedule, entry.start_at, end):
                if piece.source == timeline.TIME_OFF and piece.covering_for == user.id:
                    coverage.append(Coverage(rotation, piece))
                    people.add(piece.user_id)
                elif piece.source == timeline.UNCOVERED and \
                        timeline.base_shift_at(schedule, piece.start_at).user_id == user.id:
                    coverage.append(Coverage(rotation, piece))
        rows.append(TimeOffRow(entry, coverage))
    return rows, user_names(session, people)


@dataclass
class CalendarLane:
    rotation: Rotation
    weeks: list[calendar.Week]


@dataclass
class CalendarView:
    """Week or month grid of some rotations' final shifts in one zone."""
    view: str  # "week" | "month"
    anchor: date  # a day of the week or month shown
    zone: str
    firsts: list[date]  # each row's Monday
    lanes: list[CalendarLane]
    names: dict[int, str]
    reasons: dict[int, str | None]

    @property
    def previous(self) -> date:
        if self.view == "week":
            return self.anchor - timedelta(weeks=1)
        return (self.anchor.replace(day=1) - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        if self.view == "week":
            return self.anchor + timedelta(weeks=1)
        return (self.anchor.replace(day=28) + timedelta(days=4)).replace(day=1)


def calendar_view(session: Session, rotations: list[Rotation], *, view: str, anchor: date, zone: str) -> CalendarView:
    """The grid for `rotations` (already loaded): two queries for their overrides and time off, one for names,
    one for override reasons, whatever their number."""
    tz = ZoneInfo(zone)
    firsts = [calendar.week_start(anchor)] if view == "week" else calendar.month_first_days(anchor.year, anchor.month)
    lo, hi = calendar.window(firsts, tz)
    plans = schedules.load_schedules(session, rotations, lo, hi)
    lanes, people, override_ids = [], set(), set()
    for rotation in rotations:
        shifts = timeline.shifts_between(plans[rotation.id], lo, hi)
        lanes.append(CalendarLane(rotation, calendar.grid(shifts, firsts, tz)))
        for s in shifts:
            people.update({s.user_id, s.covering_for})
            override_ids.add(s.override_id)
    return CalendarView(view, anchor, zone, firsts, lanes, user_names(session, people),
                        override_reasons(session, override_ids))


@dataclass
class ShiftPage:
    rotation: Rotation
    team: Team
    start_at: datetime
    end_at: datetime
    pieces: list[timeline.Shift]  # who is on call in [start_at, end_at), overrides and PTO applied
    names: dict[int, str]
    reasons: dict[int, str | None]
    members: list[User]

    @property
    def holders(self) -> set[int | None]:
        return {p.user_id for p in self.pieces}


def shift_page(session: Session, rotation: Rotation, start_at: datetime, end_at: datetime) -> ShiftPage:
    if end_at - start_at > timeline.MAX_WINDOW:
        end_at = start_at + timeline.MAX_WINDOW
    team = session.get(Team, rotation.team_id)
    schedule = schedules.load_schedules(session, [rotation], start_at, end_at)[rotation.id]
    pieces = timeline.shifts_between(schedule, start_at, end_at)
    members = sorted((m.user for m in team.members), key=lambda u: u.name.lower())
    ids = {p.user_id for p in pieces} | {p.covering_for for p in pieces}
    return ShiftPage(rotation, team, start_at, end_at, pieces, user_names(session, ids),
                     override_reasons(session, {p.override_id for p in pieces}), members)
