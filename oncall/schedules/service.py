"""Load rotations, overrides and time off, ask timeline.py, write changes. Never commits."""
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, selectinload

from oncall.clock import database_now
from oncall.errors import Conflict, Invalid, NotFound
from oncall.people.models import Team, TeamMember, User
from oncall.schedules import cache, timeline
from oncall.schedules.cache import CachedSchedule
from oncall.schedules.models import Override, Rotation, RotationParticipant, RotationVersion, TimeOff

# How far around the asked instant a cached schedule is built: one build serves a couple of weeks of
# queries, while a shift (and any PTO stretch deciding its substitute) always fits inside the margin.
CACHE_REACH = timedelta(days=14)


# --- loading ---------------------------------------------------------------------------------

def get_rotation(session: Session, rotation_id: int) -> Rotation:
    rotation = session.scalar(
        select(Rotation)
        .where(Rotation.id == rotation_id)
        .options(selectinload(Rotation.versions).selectinload(RotationVersion.participants))
    )
    if rotation is None:
        raise NotFound(f"rotation {rotation_id} does not exist")
    return rotation


def list_rotations(session: Session, *, team_id: int | None = None, archived: bool = True) -> list[Rotation]:
    """Rotations by id; `archived` False leaves archived ones out (pages, reminders)."""
    query = select(Rotation).options(selectinload(Rotation.versions).selectinload(RotationVersion.participants))
    if team_id is not None:
        query = query.where(Rotation.team_id == team_id)
    if not archived:
        query = query.where(Rotation.archived_at.is_(None))
    return list(session.scalars(query.order_by(Rotation.id)))


def longest_shift(versions: list[timeline.RotationVersion]) -> timedelta:
    # +2h absorbs DST: a "day" can be 25 hours and Lord Howe's week 167.5.
    longest = timedelta(0)
    for v in versions:
        unit = {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}
        longest = max(longest, unit[v.shift_length.unit] * v.shift_length.count)
    return longest + timedelta(hours=2)


def _overrides_between(session: Session, rotation_ids: list[int], start: datetime, end: datetime) -> list[Override]:
    return list(
        session.scalars(
            select(Override)
            .where(Override.rotation_id.in_(rotation_ids), Override.start_at < end, Override.end_at > start)
            .order_by(Override.start_at, Override.id)
        )
    )


def _time_off_between(session: Session, user_ids: set[int], start: datetime, end: datetime) -> list[TimeOff]:
    if not user_ids:
        return []
    return list(
        session.scalars(
            select(TimeOff)
            .where(TimeOff.user_id.in_(user_ids), TimeOff.start_at < end, TimeOff.end_at > start)
            .order_by(TimeOff.start_at, TimeOff.id)
        )
    )


def load_schedules(
    session: Session, rotations: list[Rotation], start: datetime, end: datetime
) -> dict[int, timeline.Schedule]:
    """Build the pure schedules of `rotations` with everything that can matter in [start, end).

    Two queries for all rotations together, whatever their number (a team page, a user's feed)."""
    if not rotations:
        return {}
    plains = {r.id: r.to_plain() for r in rotations}
    margin = max(longest_shift(p) for p in plains.values())
    # A substitute must be free for the whole PTO stretch of a base shift, which can reach a shift
    # length beyond the window on either side.
    lo, hi = start - margin, end + margin
    overrides = _overrides_between(session, list(plains), lo, hi)
    people = {uid for r in rotations for uid in r.participant_ids_ever}
    time_off = [t.to_plain() for t in _time_off_between(session, people, lo, hi)]
    by_rotation: dict[int, list[timeline.Override]] = {rid: [] for rid in plains}
    for o in overrides:
        by_rotation[o.rotation_id].append(o.to_plain())
    return {
        rid: timeline.build_schedule(plain, by_rotation[rid], time_off) for rid, plain in plains.items()
    }


def shifts_between(session: Session, *, rotation_id: int, start: datetime, end: datetime) -> list[timeline.Shift]:
    rotation = get_rotation(session, rotation_id)
    schedule = load_schedules(session, [rotation], start, end)[rotation.id]
    return timeline.shifts_between(schedule, start, end)


# Built once: these run on every on-call request (see cache.py for why the stamp is enough).
_TEAM_STAMPS = (select(Rotation.id, Rotation.revision, Rotation.updated_at)
                .where(Rotation.team_id == bindparam("team_id")).order_by(Rotation.id))
_ROTATION_STAMPS = (select(Rotation.id, Rotation.revision, Rotation.updated_at)
                    .where(Rotation.id.in_(bindparam("ids", expanding=True))))


def _stamps(rows) -> dict[int, tuple]:
    return {row.id: (row.revision, row.updated_at) for row in rows}


def on_call_at(session: Session, *, rotation_id: int, at: datetime) -> timeline.Shift:
    rotation, shift = on_call_for(session, rotation_ids=[rotation_id], at=at)[0]
    return shift


def team_on_call_at(session: Session, *, team_id: int, at: datetime) -> list[tuple[CachedSchedule, timeline.Shift]]:
    stamps = _stamps(session.connection().execute(_TEAM_STAMPS, {"team_id": team_id}))
    if not stamps and session.get(Team, team_id) is None:
        raise NotFound(f"team {team_id} does not exist")
    return on_call_for(session, rotation_ids=list(stamps), at=at, stamps=stamps)


def on_call_for(
    session: Session, *, rotation_ids: list[int], at: datetime, stamps: dict[int, tuple] | None = None
) -> list[tuple[CachedSchedule, timeline.Shift]]:
    """Who is on call at `at` in each rotation (in the given order), from cached schedules when their
    stamp is current: one small query on the hot path (none when the caller already read the stamps)."""
    if not rotation_ids:
        return []
    if stamps is None:
        stamps = _stamps(session.connection().execute(_ROTATION_STAMPS, {"ids": rotation_ids}))
    missing_ids = [rid for rid in rotation_ids if rid not in stamps]
    if missing_ids:
        raise NotFound(f"rotation {missing_ids[0]} does not exist")
    found: dict[int, CachedSchedule] = {}
    for rid in rotation_ids:
        entry = cache.schedules.get(rid, stamps[rid], at)
        if entry is not None:
            found[rid] = entry
    stale = [rid for rid in rotation_ids if rid not in found]
    if stale:
        rotations = list(session.scalars(
            select(Rotation).where(Rotation.id.in_(stale))
            .options(selectinload(Rotation.versions).selectinload(RotationVersion.participants))
        ))
        margin = max(longest_shift(r.to_plain()) for r in rotations) + timedelta(days=1)
        start, end = at - margin - CACHE_REACH, at + margin + CACHE_REACH
        built = load_schedules(session, rotations, start, end)
        people = contact_details(session, {uid for r in rotations for uid in r.participant_ids_ever}
                                 | {o.user_id for sched in built.values() for o in sched.overrides})
        for r in rotations:
            entry = CachedSchedule(rotation_id=r.id, name=r.name, team_id=r.team_id, stamp=(r.revision, r.updated_at),
                                   built_from=start, built_until=end, margin=margin, schedule=built[r.id],
                                   people=people)
            # Keyed by the stamp read with the rows, so a concurrent write shows up as a new stamp next time.
            cache.schedules.put(entry)
            found[r.id] = entry
    return [(found[rid], timeline.on_call_at(found[rid].schedule, at)) for rid in rotation_ids]


_CONTACTS = select(User.id, User.name, User.email, User.phone).where(User.id.in_(bindparam("ids", expanding=True)))


def contact_details(session: Session, user_ids: set[int]) -> dict[int, dict]:
    if not user_ids:
        return {}
    rows = session.connection().execute(_CONTACTS, {"ids": sorted(user_ids)})
    return {row.id: row._asdict() for row in rows}


# --- rotations -------------------------------------------------------------------------------

def _check_participants(session: Session, team_id: int, participant_ids: list[int]) -> None:
    if len(set(participant_ids)) != len(participant_ids):
        raise Invalid("a participant is listed twice", fields={"participant_ids": ["Each user may appear once."]})
    # FOR SHARE: a concurrent time off or deletion of one of them (FOR UPDATE in touch_rotations_of_user) either
    # commits first, so this rotation's stamp is bumped after it, or waits and then sees this rotation to touch.
    found = set(session.scalars(select(User.id).where(User.id.in_(participant_ids)).with_for_update(read=True)))
    missing = [uid for uid in participant_ids if uid not in found]
    if missing:
        raise Invalid(f"unknown users {missing}", fields={"participant_ids": [f"Unknown user ids: {missing}"]})
    # A rotation's participants belong to its team: add anyone who is not a member yet.
    members = set(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)))
    for uid in participant_ids:
        if uid not in members:
            session.add(TeamMember(team_id=team_id, user_id=uid, role="member"))


def _new_version(data: dict, effective_at: datetime | None) -> RotationVersion:
    version = RotationVersion(
        effective_at=effective_at,
        time_zone=data["time_zone"],
        handoff_time=data["handoff_time"],
        shift_unit=data["shift_length"]["unit"],
        shift_count=data["shift_length"]["count"],
        start_date=data["start_date"],
    )
    version.participants = [
        RotationParticipant(position=i, user_id=uid) for i, uid in enumerate(data["participant_ids"])
    ]
    return version


def _plain(data: dict, effective_at: datetime | None) -> timeline.RotationVersion:
    return timeline.RotationVersion(
        effective_at=effective_at, time_zone=data["time_zone"], handoff_time=data["handoff_time"],
        shift_length=timeline.ShiftLength(data["shift_length"]["unit"], data["shift_length"]["count"]),
        start_date=data["start_date"], participant_ids=tuple(data["participant_ids"]))


def create_rotation(session: Session, *, team_id: int, name: str, **schedule) -> Rotation:
    if session.get(Team, team_id) is None:
        raise Invalid(f"team {team_id} does not exist", fields={"team_id": ["Unknown team."]})
    _check_participants(session, team_id, schedule["participant_ids"])
    rotation = Rotation(team_id=team_id, name=name)
    rotation.versions = [_new_version(schedule, None)]
    session.add(rotation)
    session.flush()
    return rotation


_SCHEDULE_FIELDS = ("time_zone", "handoff_time", "shift_length", "start_date", "participant_ids")


def _config(version: RotationVersion) -> dict:
    return {key: getattr(version, key) for key in _SCHEDULE_FIELDS}


def update_rotation(session: Session, rotation: Rotation, changes: dict, *, now: datetime) -> Rotation:
    """Rename in place; schedule changes take effect from `effective_at` without rewriting the past.

    A change lands on the configuration in force at `effective_at`; changes already scheduled after it
    still happen when they were scheduled, each keeping what it changed (so scheduling an earlier
    change second neither drops a later one nor pulls it forward)."""
    effective_at = changes.pop("effective_at", None)
    name = changes.pop("name", None)
    if changes:
        effective_at = effective_at or now
        if effective_at < now - timedelta(minutes=1):
            raise Invalid("changes cannot start in the past", fields={"effective_at": ["Must not be in the past."]})
        start_at = timeline.rotation_start_at(rotation.to_plain())
        versions = list(rotation.versions)
        if effective_at <= start_at:
            # Nothing has happened yet: the change amends the first configuration itself.
            effective_at, at = None, 0
        else:
            at = max(i for i, v in enumerate(versions) if v.effective_at is None or v.effective_at <= effective_at)
        configs = [_config(v) for v in versions]
        replace = (at == 0 and effective_at is None) or versions[at].effective_at == effective_at
        rebuilt = [(effective_at, configs[at] | changes)]
        for j in range(at + 1, len(versions)):
            delta = {k: value for k, value in configs[j].items() if value != configs[j - 1][k]}
            rebuilt.append((versions[j].effective_at, rebuilt[-1][1] | delta))
        kept = versions[:at] if replace else versions[:at + 1]
        # The pure core rejects an impossible plan before any row is locked (_check_participants), so no
        # lock is held while it works.
        try:
            timeline.build_schedule([v.to_plain() for v in kept] + [_plain(config, when) for when, config in rebuilt])
        except ValueError as exc:
            raise Invalid(str(exc), fields={"effective_at": [str(exc)]}) from exc
        if "participant_ids" in changes:
            _check_participants(session, rotation.team_id, changes["participant_ids"])
        # Versions are read in id order, so the ones from the change on are written anew.
        rotation.versions = kept + [_new_version(config, when) for when, config in rebuilt]
    if name is not None:
        # Written after the participants' row locks, so every writer takes user rows before rotation rows.
        rotation.name = name
    touch_rotations(session, [rotation.id])
    session.flush()
    return rotation


def touch_rotations(session: Session, rotation_ids: list[int]) -> None:
    """Mark rotations changed: revision + 1 (what caches and feed ETags compare) and updated_at from the
    database's clock (what feeds show as LAST-MODIFIED), not from this host's, which may be behind another's."""
    if rotation_ids:
        session.execute(update(Rotation).where(Rotation.id.in_(rotation_ids))
                        .values(updated_at=database_now(session), revision=Rotation.revision + 1))


def touch_rotations_of_user(session: Session, user_id: int) -> None:
    """A user's details or time off changed: every rotation they can appear in must look changed.

    The user's row is locked first, so a rotation change adding them or an override given to them (both
    lock the row FOR SHARE) cannot commit unseen between this lookup and our commit: a cache filled in
    between would keep the newer stamp without this change."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    overridden = session.scalars(select(Override.rotation_id).where(Override.user_id == user_id).distinct())
    touch_rotations(session, sorted(set(rotations_of_user(session, user_id)) | set(overridden)))


def rotations_of_user(session: Session, user_id: int) -> list[int]:
    return list(
        session.scalars(
            select(RotationVersion.rotation_id)
            .join(RotationParticipant, RotationParticipant.version_id == RotationVersion.id)
            .where(RotationParticipant.user_id == user_id)
            .distinct()
        )
    )


# --- overrides -------------------------------------------------------------------------------

def list_overrides(session: Session, rotation_id: int, start: datetime | None = None, end: datetime | None = None):
    query = select(Override).where(Override.rotation_id == rotation_id)
    if start is not None:
        query = query.where(Override.end_at > start)
    if end is not None:
        query = query.where(Override.start_at < end)
    return list(session.scalars(query.order_by(Override.start_at)))


def get_override(session: Session, rotation_id: int, override_id: int) -> Override:
    override = session.get(Override, override_id)
    if override is None or override.rotation_id != rotation_id:
        raise NotFound(f"override {override_id} does not exist on rotation {rotation_id}")
    return override


def _check_override(session: Session, rotation_id: int, user_id: int, start_at, end_at, except_id=None) -> None:
    if end_at <= start_at:
        raise Invalid("end must be after start", fields={"end": ["Must be after start."]})
    # FOR SHARE: see _check_participants (a user being deleted meanwhile is then simply unknown).
    if session.scalar(select(User.id).where(User.id == user_id).with_for_update(read=True)) is None:
        raise Invalid(f"user {user_id} does not exist", fields={"user_id": ["Unknown user."]})
    clash = session.scalar(
        select(Override.id).where(
            Override.rotation_id == rotation_id,
            Override.start_at < end_at,
            Override.end_at > start_at,
            Override.id != (except_id or -1),
        )
    )
    if clash is not None:
        raise Conflict(
            f"overlaps override {clash} on this rotation; change or delete that one first",
            fields={"start": [f"Overlaps override {clash}."]},
        )


def add_override(session: Session, *, rotation_id: int, user_id: int, start_at, end_at, reason=None,
                 created_by_id: int | None = None, now: datetime) -> Override:
    get_rotation(session, rotation_id)
    _check_override(session, rotation_id, user_id, start_at, end_at)
    override = Override(rotation_id=rotation_id, user_id=user_id, start_at=start_at, end_at=end_at,
                        reason=reason, created_by_id=created_by_id)
    session.add(override)
    touch_rotations(session, [rotation_id])
    session.flush()
    return override


def update_override(session: Session, override: Override, changes: dict, *, now: datetime) -> Override:
    merged = {"user_id": override.user_id, "start_at": override.start_at, "end_at": override.end_at} | changes
    _check_override(session, override.rotation_id, merged["user_id"], merged["start_at"], merged["end_at"],
                    except_id=override.id)
    for key, value in changes.items():
        setattr(override, key, value)
    touch_rotations(session, [override.rotation_id])
    session.flush()
    return override


def delete_override(session: Session, override: Override, *, now: datetime) -> None:
    touch_rotations(session, [override.rotation_id])
    session.delete(override)
    session.flush()


# --- time off --------------------------------------------------------------------------------

def list_time_off(session: Session, user_id: int) -> list[TimeOff]:
    return list(session.scalars(select(TimeOff).where(TimeOff.user_id == user_id).order_by(TimeOff.start_at)))


def get_time_off(session: Session, user_id: int, time_off_id: int) -> TimeOff:
    entry = session.get(TimeOff, time_off_id)
    if entry is None or entry.user_id != user_id:
        raise NotFound(f"time off {time_off_id} does not exist for user {user_id}")
    return entry


def add_time_off(session: Session, *, user_id: int, start_at, end_at, reason=None, now: datetime) -> TimeOff:
    if session.get(User, user_id) is None:
        raise NotFound(f"user {user_id} does not exist")
    if end_at <= start_at:
        raise Invalid("end must be after start", fields={"end": ["Must be after start."]})
    entry = TimeOff(user_id=user_id, start_at=start_at, end_at=end_at, reason=reason)
    session.add(entry)
    touch_rotations_of_user(session, user_id)
    session.flush()
    return entry


def update_time_off(session: Session, entry: TimeOff, changes: dict, *, now: datetime) -> TimeOff:
    start_at = changes.get("start_at", entry.start_at)
    end_at = changes.get("end_at", entry.end_at)
    if end_at <= start_at:
        raise Invalid("end must be after start", fields={"end": ["Must be after start."]})
    for key, value in changes.items():
        setattr(entry, key, value)
    touch_rotations_of_user(session, entry.user_id)
    session.flush()
    return entry


def delete_time_off(session: Session, entry: TimeOff, *, now: datetime) -> None:
    touch_rotations_of_user(session, entry.user_id)
    session.delete(entry)
    session.flush()


def preview_update(session: Session, rotation: Rotation, changes: dict, *, now: datetime,
                   weeks: int = 4) -> tuple[list[timeline.Shift], list[timeline.Shift]]:
    """The rotation's coming shifts in rotation order (overrides and time off not applied), as they are and as
    they would be after update_rotation(changes), which is tried inside a savepoint and undone: nothing is
    saved, and the same checks refuse the same changes."""
    end = now + timedelta(weeks=weeks)
    before = timeline.shifts_between(timeline.build_schedule(rotation.to_plain()), now, end)
    savepoint = session.begin_nested()
    try:
        update_rotation(session, rotation, dict(changes), now=now)
        proposed = rotation.to_plain()
    finally:
        savepoint.rollback()
    return before, timeline.shifts_between(timeline.build_schedule(proposed), now, end)


def archive_rotation(session: Session, rotation: Rotation, *, now: datetime) -> Rotation:
    """Stop a rotation: it pages nobody from now on (escalation steps naming it reach nobody and move on), leaves
    the team's pages, its default policies and handoff reminders; what happened on it stays readable."""
    if rotation.archived_at is None:
        rotation.archived_at = now
        touch_rotations(session, [rotation.id])
    session.flush()
    return rotation
