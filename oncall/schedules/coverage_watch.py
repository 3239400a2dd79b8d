"""Coverage gaps of a team (the API) and the worker's watch that warns a team's admins of a new one. Never commits.

A gap is a stretch in which a rotation has nobody on call, computed from the same final shifts (overrides and
time off applied) that the API, the feeds and the dashboard show (coverage.gaps). The watch looks again at a
rotation after every change to it (its revision moved) and at least once a day; each gap that starts within
WARN_AHEAD and overlaps no gap already warned of is recorded once (a unique row per rotation and start, so two
workers warn once) and texted to the team's admins through the outbox.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, selectinload

from oncall.paging import outbox
from oncall.people.models import Team, TeamMember, User
from oncall.schedules import coverage, timeline
from oncall.schedules.models import CoverageCheck, CoverageWarning, Rotation, RotationVersion
from oncall.schedules.service import load_schedules

DEFAULT_SPAN = timedelta(days=14)  # the API's default window, from now
WARN_AHEAD = timedelta(days=7)  # gaps starting within this are texted to the team's admins
RECHECK_EVERY = timedelta(days=1)  # an unchanged rotation is looked at again after this
BATCH = 200  # rotations per pass of the watch


@dataclass(frozen=True, slots=True)
class Gap:
    rotation_id: int
    start_at: datetime
    end_at: datetime


def rotation_gaps(session: Session, rotations: list[Rotation], start_at: datetime, end_at: datetime) -> list[Gap]:
    """Gaps of `rotations` in [start_at, end_at), by start then rotation. Two queries whatever their number."""
    plans = load_schedules(session, rotations, start_at, end_at)
    found = [Gap(r.id, lo, hi) for r in rotations
             for lo, hi in coverage.gaps(timeline.shifts_between(plans[r.id], start_at, end_at), start_at, end_at)]
    return sorted(found, key=lambda g: (g.start_at, g.rotation_id))


def team_gaps(session: Session, team_id: int, start_at: datetime, end_at: datetime) -> list[Gap]:
    """Gaps of the team's rotations in force (archived ones page nobody and leave no gap); the window is at
    most timeline.MAX_WINDOW."""
    rotations = list(session.scalars(
        select(Rotation).where(Rotation.team_id == team_id, Rotation.archived_at.is_(None))
        .options(selectinload(Rotation.versions).selectinload(RotationVersion.participants)).order_by(Rotation.id)))
    return rotation_gaps(session, rotations, start_at, end_at)


# --- the watch ---------------------------------------------------------------------------------------------

def due_rotations(session: Session, now: datetime, limit: int = BATCH) -> list[Rotation]:
    """Rotations in force changed since their last check, or not checked for RECHECK_EVERY."""
    check = CoverageCheck
    return list(session.scalars(
        select(Rotation).outerjoin(check, check.rotation_id == Rotation.id)
        .where(Rotation.archived_at.is_(None),
               or_(check.rotation_id.is_(None), check.revision != Rotation.revision,
                   check.checked_at < now - RECHECK_EVERY))
        .options(selectinload(Rotation.versions).selectinload(RotationVersion.participants))
        .order_by(Rotation.id).limit(limit)))


def watch(session: Session, now: datetime, *, public_url: str) -> int:
    """One pass: check the due rotations, record and text each new gap. Returns the number of new gaps."""
    rotations = due_rotations(session, now)
    if not rotations:
        return 0
    gaps = rotation_gaps(session, rotations, now, now + WARN_AHEAD)
    ids = [r.id for r in rotations]
    warned = session.scalars(select(CoverageWarning).where(
        CoverageWarning.rotation_id.in_(ids), CoverageWarning.end_at > now,
        CoverageWarning.start_at < now + WARN_AHEAD)).all()
    by_id = {r.id: r for r in rotations}
    new = [g for g in gaps if not any(w.rotation_id == g.rotation_id and w.start_at < g.end_at and g.start_at < w.end_at
                                      for w in warned)]
    recorded = [g for g in new if _record(session, g, now)]
    if recorded:
        _text_admins(session, recorded, by_id, now, public_url)
    _mark_checked(session, rotations, now)
    return len(recorded)


def _record(session: Session, gap: Gap, now: datetime) -> bool:
    """Insert the warning unless another worker did (unique rotation and start): True if this one did."""
    table = CoverageWarning.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    inserted = session.execute(insert(table).values(rotation_id=gap.rotation_id, start_at=gap.start_at,
                                                    end_at=gap.end_at, warned_at=now)
                               .on_conflict_do_nothing(index_elements=[table.c.rotation_id, table.c.start_at])
                               .returning(table.c.id))
    return inserted.first() is not None


def _text_admins(session: Session, gaps: list[Gap], rotations: dict[int, Rotation], now: datetime,
                 public_url: str) -> None:
    team_ids = {rotations[g.rotation_id].team_id for g in gaps}
    admins: dict[int, list[User]] = {tid: [] for tid in team_ids}
    rows = session.execute(select(TeamMember.team_id, User).join(User, User.id == TeamMember.user_id)
                           .where(TeamMember.team_id.in_(team_ids), TeamMember.role == "admin")
                           .order_by(User.id)).all()
    for team_id, user in rows:
        admins[team_id].append(user)
    teams = {t.id: t for t in session.scalars(select(Team).where(Team.id.in_(team_ids)))}
    site_admins = None
    for gap in gaps:
        rotation = rotations[gap.rotation_id]
        people = admins[rotation.team_id]
        if not people:  # a team without admins: the site's administrators hear of it
            if site_admins is None:
                site_admins = list(session.scalars(select(User).where(User.is_admin.is_(True)).order_by(User.id)))
            people = site_admins
        for person in people:
            outbox.queue_message(session, user=person, now=now,
                                 body=gap_text(gap, rotation.name, teams[rotation.team_id].name, person.time_zone,
                                               f"{public_url}/rotations/{rotation.id}"))


def gap_text(gap: Gap, rotation_name: str, team_name: str, time_zone: str, link: str) -> str:
    """The SMS, times in the reader's own zone (pure)."""
    zone = ZoneInfo(time_zone)
    start, end = gap.start_at.astimezone(zone), gap.end_at.astimezone(zone)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %d %b %H:%M}"
    return (f"oncall: nobody is on call for {rotation_name} ({team_name}) {start:%a %d %b %H:%M}-{until} "
            f"{start.tzname()}. Add an override: {link}")


def _mark_checked(session: Session, rotations: list[Rotation], now: datetime) -> None:
    table = CoverageCheck.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.rotation_id],
        set_={"revision": statement.excluded.revision, "checked_at": statement.excluded.checked_at}),
        [{"rotation_id": r.id, "revision": r.revision, "checked_at": now} for r in rotations])



def prune(session: Session, now: datetime, keep: timedelta = timedelta(days=30)) -> int:
    """Forget warnings of gaps over for `keep` (no new gap can overlap them any more)."""
    return session.execute(delete(CoverageWarning).where(CoverageWarning.end_at < now - keep)).rowcount
