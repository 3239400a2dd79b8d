"""Shift maths for one rotation: base shifts, version changes, PTO substitution, overrides (pure)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from heapq import heappop, heappush
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_WINDOW",
    "UTC",
    "Override",
    "RotationVersion",
    "Schedule",
    "Shift",
    "ShiftLength",
    "TimeOff",
    "base_shift_at",
    "build_schedule",
    "handoffs_between",
    "on_call_at",
    "resolve_local",
    "rotation_start_at",
    "shifts_between",
]

UTC = timezone.utc
# A year of shifts plus slack for calendar feeds; bigger windows are a client bug or an attack.
MAX_WINDOW = timedelta(days=400)

UNITS = ("hours", "days", "weeks")
ROTATION = "rotation"
OVERRIDE = "override"
TIME_OFF = "time_off"
UNCOVERED = "uncovered"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


# ---------------------------------------------------------------------------
# Plain data


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"time_zone must be an IANA name, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _check_interval(obj: object, start_at: datetime, end_at: datetime) -> None:
    start_at = _utc(start_at, "start_at")
    end_at = _utc(end_at, "end_at")
    if end_at <= start_at:
        raise ValueError(
            f"end_at must be after start_at, got {start_at.isoformat()} .. {end_at.isoformat()}"
        )
    # Frozen, so normalise through object.__setattr__: every instant we hold is UTC.
    object.__setattr__(obj, "start_at", start_at)
    object.__setattr__(obj, "end_at", end_at)


@dataclass(frozen=True, slots=True)
class ShiftLength:
    unit: str  # 'hours' | 'days' | 'weeks'
    count: int  # >= 1

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"shift length unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise ValueError(f"shift length count must be an integer, got {self.count!r}")
        if self.count < 1:
            raise ValueError(f"shift length count must be at least 1, got {self.count}")


@dataclass(frozen=True, slots=True)
class RotationVersion:
    """One configuration of a rotation, in force from `effective_at` until the next version's."""

    effective_at: datetime | None  # None for the first version: it starts at its own first handoff
    time_zone: str  # IANA name
    handoff_time: time  # local wall clock, naive
    shift_length: ShiftLength
    start_date: date  # shift k=0 starts at start_date + handoff_time local
    participant_ids: tuple[int, ...]  # non-empty, in rotation order

    def __post_init__(self) -> None:
        if self.effective_at is not None:
            object.__setattr__(self, "effective_at", _utc(self.effective_at, "effective_at"))
        _zone(self.time_zone)
        if not isinstance(self.handoff_time, time):
            raise ValueError(f"handoff_time must be a time, got {self.handoff_time!r}")
        if self.handoff_time.tzinfo is not None:
            raise ValueError("handoff_time is a local wall-clock time and must be naive")
        if not isinstance(self.shift_length, ShiftLength):
            raise ValueError(f"shift_length must be a ShiftLength, got {self.shift_length!r}")
        # datetime is a date subclass; a datetime here would silently drop its time part.
        if not isinstance(self.start_date, date) or isinstance(self.start_date, datetime):
            raise ValueError(f"start_date must be a date, got {self.start_date!r}")
        participants = tuple(self.participant_ids)
        if not participants:
            raise ValueError("a rotation needs at least one participant")
        object.__setattr__(self, "participant_ids", participants)


@dataclass(frozen=True, slots=True)
class Override:
    user_id: int
    start_at: datetime
    end_at: datetime
    id: int | None = None

    def __post_init__(self) -> None:
        _check_interval(self, self.start_at, self.end_at)


@dataclass(frozen=True, slots=True)
class TimeOff:
    user_id: int
    start_at: datetime
    end_at: datetime
    id: int | None = None

    def __post_init__(self) -> None:
        _check_interval(self, self.start_at, self.end_at)


@dataclass(frozen=True, slots=True)
class Shift:
    start_at: datetime
    end_at: datetime
    user_id: int | None  # None only for source 'uncovered'
    source: str  # 'rotation' | 'override' | 'time_off' | 'uncovered'
    covering_for: int | None = None  # for 'time_off': whose PTO this covers
    override_id: int | None = None  # for 'override'


@dataclass(frozen=True, slots=True)
class _Plan:
    """A version prepared for index arithmetic, with the stretch of time it governs."""

    tz: ZoneInfo
    handoff_time: time
    start_date: date
    step_days: int  # 0 for hour-based shifts
    step: timedelta  # shift length, used only for hour-based shifts
    anchor_at: datetime  # handoff of shift k=0
    participant_ids: tuple[int, ...]
    begins_at: datetime
    ends_at: datetime | None  # None: open-ended (last version)

    def handoff(self, k: int) -> datetime:
        if self.step_days:
            # Whole-day shifts follow the wall clock, so the UTC instant moves with DST.
            day = self.start_date + timedelta(days=k * self.step_days)
            return _resolve(day, self.handoff_time, self.tz)
        return self.anchor_at + k * self.step

    def index_at(self, at: datetime) -> tuple[int, datetime, datetime]:
        """(k, start of shift k, start of shift k+1) for the base shift k containing `at`."""
        if not self.step_days:
            k = (at - self.anchor_at) // self.step
            start_at = self.anchor_at + k * self.step
            return k, start_at, start_at + self.step
        # The local date gives k up to one shift; the handoff instants settle it exactly.
        k = (at.astimezone(self.tz).date() - self.start_date).days // self.step_days
        start_at = self.handoff(k)
        if start_at > at:
            while True:
                k -= 1
                next_at, start_at = start_at, self.handoff(k)
                if start_at <= at:
                    return k, start_at, next_at
        next_at = self.handoff(k + 1)
        while next_at <= at:
            k += 1
            start_at, next_at = next_at, self.handoff(k + 1)
        return k, start_at, next_at


# (start_at, end_at, user_id, override_id): the part of the timeline where one override wins
_Segment = tuple[datetime, datetime, int, "int | None"]
# (starts, ends) of a user's merged time off, for bisect
_Away = tuple[tuple[datetime, ...], tuple[datetime, ...]]


@dataclass(frozen=True, slots=True)
class Schedule:
    """A rotation ready for queries. Build it with build_schedule(); the `_` fields are indexes."""

    versions: tuple[RotationVersion, ...]
    overrides: tuple[Override, ...]  # sorted by (start_at, end_at)
    time_off: tuple[TimeOff, ...]  # sorted by (start_at, end_at)
    rotation_start_at: datetime
    _plans: tuple[_Plan, ...] = field(repr=False, compare=False)
    _plan_starts: tuple[datetime, ...] = field(repr=False, compare=False)
    _segments: tuple[_Segment, ...] = field(repr=False, compare=False)
    _segment_starts: tuple[datetime, ...] = field(repr=False, compare=False)
    _segment_ends: tuple[datetime, ...] = field(repr=False, compare=False)
    _away: Mapping[int, _Away] = field(repr=False, compare=False)


# ---------------------------------------------------------------------------
# Local time


def resolve_local(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant of wall time `at` on `day` in `tz`.

    A wall time skipped by a spring-forward gap happens when the gap ends (the transition
    instant); an ambiguous fall-back time is its first occurrence.
    """
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"day must be a date, got {day!r}")
    if not isinstance(at, time) or at.tzinfo is not None:
        raise ValueError(f"at must be a naive wall-clock time, got {at!r}")
    if not isinstance(tz, tzinfo):
        raise ValueError(f"tz must be a tzinfo such as ZoneInfo, got {tz!r}")
    return _resolve(day, at, tz)


def _resolve(day: date, at: time, tz: tzinfo) -> datetime:
    naive = datetime.combine(day, at).replace(fold=0)  # fold=0 is the first occurrence
    first = naive.replace(tzinfo=tz).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # `naive` does not exist. Its two readings bracket the transition: the fold=1 one
    # (offset after the gap) is before it, the fold=0 one (offset before) after it.
    other = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo_at, hi_at = min(first, other), max(first, other)
    after = hi_at.astimezone(tz).utcoffset()
    # tzdata transitions fall on whole seconds, so search whole seconds since the epoch.
    lo = (lo_at - _EPOCH) // _SECOND  # floor: still before the transition
    hi = -((_EPOCH - hi_at) // _SECOND)  # ceil: still after it
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if (_EPOCH + mid * _SECOND).astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return _EPOCH + hi * _SECOND


# ---------------------------------------------------------------------------
# Building


def rotation_start_at(schedule_or_versions: Schedule | Sequence[RotationVersion]) -> datetime:
    """The first version's first handoff: nothing is scheduled before it."""
    if isinstance(schedule_or_versions, Schedule):
        return schedule_or_versions.rotation_start_at
    versions = tuple(schedule_or_versions)
    if not versions:
        raise ValueError("a rotation needs at least one version")
    first = versions[0]
    return _resolve(first.start_date, first.handoff_time, _zone(first.time_zone))


def build_schedule(
    versions: Sequence[RotationVersion],
    overrides: Iterable[Override] = (),
    time_off: Iterable[TimeOff] = (),
) -> Schedule:
    """Validate a rotation and precompute the indexes that keep queries off the start date."""
    versions = tuple(versions)
    if not versions:
        raise ValueError("a rotation needs at least one version")
    for v in versions:
        if not isinstance(v, RotationVersion):
            raise ValueError(f"versions must be RotationVersion, got {type(v).__name__}")
    if versions[0].effective_at is not None:
        raise ValueError("the first version takes effect at its first handoff; its effective_at must be None")
    for i, v in enumerate(versions[1:], start=1):
        if v.effective_at is None:
            raise ValueError(f"version {i} needs an effective_at (only the first version may omit it)")
        if i > 1 and v.effective_at <= versions[i - 1].effective_at:
            raise ValueError(f"versions must be in increasing effective_at order (version {i})")
    start_at = rotation_start_at(versions)

    # A version that took effect before the rotation started governs from the start; one
    # fully superseded before the start gets an empty stretch and is never consulted.
    begins = [start_at] + [max(v.effective_at, start_at) for v in versions[1:]]
    plans = tuple(
        _plan(v, begins[i], begins[i + 1] if i + 1 < len(versions) else None)
        for i, v in enumerate(versions)
    )

    overrides = list(overrides)
    for o in overrides:
        if not isinstance(o, Override):
            raise ValueError(f"overrides must be Override, got {type(o).__name__}")
    time_off = list(time_off)
    for t in time_off:
        if not isinstance(t, TimeOff):
            raise ValueError(f"time_off must be TimeOff, got {type(t).__name__}")

    segments = _flatten_overrides(overrides)
    return Schedule(
        versions=versions,
        overrides=tuple(sorted(overrides, key=lambda o: (o.start_at, o.end_at))),
        time_off=tuple(sorted(time_off, key=lambda t: (t.start_at, t.end_at))),
        rotation_start_at=start_at,
        _plans=plans,
        _plan_starts=tuple(begins),
        _segments=segments,
        _segment_starts=tuple(s[0] for s in segments),
        _segment_ends=tuple(s[1] for s in segments),
        _away=MappingProxyType(_merge_time_off(time_off)),
    )


def _plan(v: RotationVersion, begins_at: datetime, ends_at: datetime | None) -> _Plan:
    # Constant work per version whatever its size: who covers whom is worked out only when a query meets
    # time off (_candidates), never as a table of every participant's substitutes.
    tz = _zone(v.time_zone)
    length = v.shift_length
    return _Plan(
        tz=tz,
        handoff_time=v.handoff_time,
        start_date=v.start_date,
        step_days={"hours": 0, "days": 1, "weeks": 7}[length.unit] * length.count,
        step=timedelta(hours=length.count),
        anchor_at=_resolve(v.start_date, v.handoff_time, tz),
        participant_ids=v.participant_ids,
        begins_at=begins_at,
        ends_at=ends_at,
    )


def _flatten_overrides(overrides: list[Override]) -> tuple[_Segment, ...]:
    """Disjoint, sorted pieces where one override wins; on overlap the later input wins."""
    if not overrides:
        return ()
    order = sorted(range(len(overrides)), key=lambda i: overrides[i].start_at)
    bounds = sorted({o.start_at for o in overrides} | {o.end_at for o in overrides})
    active: list[tuple[int, datetime]] = []  # heap of (-input index, end_at)
    segments: list[list] = []
    nxt = 0
    for lo, hi in pairwise(bounds):
        while nxt < len(order) and overrides[order[nxt]].start_at <= lo:
            heappush(active, (-order[nxt], overrides[order[nxt]].end_at))
            nxt += 1
        while active and active[0][1] <= lo:
            heappop(active)
        if not active:
            continue
        winner = overrides[-active[0][0]]
        last = segments[-1] if segments else None
        # Merge what shifts_between would merge anyway, so a segment is always a whole piece.
        if last and last[1] == lo and last[2] == winner.user_id and last[3] == winner.id:
            last[1] = hi
        else:
            segments.append([lo, hi, winner.user_id, winner.id])
    return tuple(tuple(s) for s in segments)


def _merge_time_off(entries: list[TimeOff]) -> dict[int, _Away]:
    by_user: dict[int, list[tuple[datetime, datetime]]] = {}
    for t in entries:
        by_user.setdefault(t.user_id, []).append((t.start_at, t.end_at))
    away: dict[int, _Away] = {}
    for user, spans in by_user.items():
        spans.sort()
        merged = [list(spans[0])]
        for s, e in spans[1:]:
            if s <= merged[-1][1]:  # touching entries are one absence
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        away[user] = (tuple(m[0] for m in merged), tuple(m[1] for m in merged))
    return away


# ---------------------------------------------------------------------------
# Queries


def _window(start_at: datetime, end_at: datetime) -> tuple[datetime, datetime]:
    start_at = _utc(start_at, "start_at")
    end_at = _utc(end_at, "end_at")
    if end_at <= start_at:
        raise ValueError(f"end must be after start, got {start_at.isoformat()} .. {end_at.isoformat()}")
    if end_at - start_at > MAX_WINDOW:
        raise ValueError(f"window is longer than {MAX_WINDOW.days} days")
    return start_at, end_at


def shifts_between(schedule: Schedule, start_at: datetime, end_at: datetime) -> list[Shift]:
    """Final shifts (overrides and PTO applied) covering [max(start_at, rotation start), end_at)."""
    start_at, end_at = _window(start_at, end_at)
    lo = max(start_at, schedule.rotation_start_at)
    if lo >= end_at:
        return []
    pieces: list[tuple] = []
    for base_start, base_end, slot, plan in _base_shifts(schedule, lo, end_at):
        pieces.extend(_shift_pieces(schedule, plan, base_start, base_end, slot))
    i = bisect_right(schedule._segment_ends, lo)
    j = bisect_left(schedule._segment_starts, end_at)
    return [Shift(*p) for p in _overlay(pieces, schedule._segments[i:j], lo, end_at)]


def on_call_at(schedule: Schedule, at: datetime) -> Shift:
    """The final piece containing `at`, found by index arithmetic rather than expansion.

    Its bounds are that piece within its base shift, widened to the whole override if `at`
    falls in one; a shifts_between piece around `at` may be longer (merged neighbours).
    """
    at = _utc(at, "at")
    rotation_start = schedule.rotation_start_at
    if at < rotation_start:
        return Shift(at, rotation_start, None, UNCOVERED)

    segments = schedule._segments
    j = bisect_right(schedule._segment_starts, at) - 1
    if j >= 0 and segments[j][1] > at:
        # Segments never touch one with the same user and id, so this is the whole piece.
        seg_start, seg_end, user, override_id = segments[j]
        return Shift(max(seg_start, rotation_start), seg_end, user, OVERRIDE, None, override_id)

    plan, k, base_start, base_end = _base_at(schedule, at)
    pieces = _shift_pieces(schedule, plan, base_start, base_end, k % len(plan.participant_ids))
    i = bisect_right(schedule._segment_ends, base_start)
    j = bisect_left(schedule._segment_starts, base_end)
    if i == j and len(pieces) == 1:
        return Shift(*pieces[0])
    for p in _overlay(pieces, segments[i:j], base_start, base_end):
        if p[0] <= at < p[1]:
            return Shift(*p)
    raise AssertionError("pieces of a base shift must cover it")  # pragma: no cover


def base_shift_at(schedule: Schedule, at: datetime) -> Shift:
    """The rotation's own shift containing `at`, before PTO and overrides, cut at version changes."""
    at = _utc(at, "at")
    if at < schedule.rotation_start_at:
        return Shift(at, schedule.rotation_start_at, None, UNCOVERED)
    plan, k, base_start, base_end = _base_at(schedule, at)
    ids = plan.participant_ids
    return Shift(base_start, base_end, ids[k % len(ids)], ROTATION)


def handoffs_between(schedule: Schedule, start_at: datetime, end_at: datetime) -> list[datetime]:
    """Starts of base shifts in [start_at, end_at): rotation handoffs, version changes included."""
    start_at, end_at = _window(start_at, end_at)
    lo = max(start_at, schedule.rotation_start_at)
    if lo >= end_at:
        return []
    return [s for s, _e, _slot, _plan in _base_shifts(schedule, lo, end_at) if s >= start_at]


# ---------------------------------------------------------------------------
# Internals


def _base_at(schedule: Schedule, at: datetime) -> tuple[_Plan, int, datetime, datetime]:
    plan = schedule._plans[bisect_right(schedule._plan_starts, at) - 1]
    k, start_at, next_at = plan.index_at(at)
    # A version change cuts the shift in progress on both sides.
    if start_at < plan.begins_at:
        start_at = plan.begins_at
    if plan.ends_at is not None and next_at > plan.ends_at:
        next_at = plan.ends_at
    return plan, k, start_at, next_at


def _base_shifts(schedule: Schedule, lo: datetime, hi: datetime) -> list[tuple]:
    """(start_at, end_at, slot, plan) of every base shift meeting [lo, hi), lo >= rotation start.

    Shifts are cut at version changes but not at the window, so PTO stretches do not depend
    on the window asked for.
    """
    out = []
    plans = schedule._plans
    for i in range(bisect_right(schedule._plan_starts, lo) - 1, len(plans)):
        plan = plans[i]
        if plan.begins_at >= hi:
            break
        begins, ends = plan.begins_at, plan.ends_at
        a = lo if lo > begins else begins
        b = hi if ends is None or hi < ends else ends
        if a >= b:
            continue
        n = len(plan.participant_ids)
        k, start_at, next_at = plan.index_at(a)
        while True:
            s = start_at if start_at > begins else begins
            e = next_at if ends is None or next_at < ends else ends
            if e > s:  # a whole day skipped by a zone (Samoa 2011) can make a shift empty
                out.append((s, e, k % n, plan))
            if next_at >= b:
                break
            k += 1
            start_at, next_at = next_at, plan.handoff(k + 1)
    return out


def _free(away: Mapping[int, _Away], user: int, start_at: datetime, end_at: datetime) -> bool:
    spans = away.get(user)
    if spans is None:
        return True
    starts, ends = spans
    i = bisect_right(ends, start_at)
    return i == len(starts) or starts[i] >= end_at


def _shift_pieces(schedule: Schedule, plan: _Plan, start_at: datetime, end_at: datetime, slot: int) -> list[tuple]:
    """The base shift with its user's PTO handed to substitutes, as piece tuples."""
    user = plan.participant_ids[slot]
    spans = schedule._away.get(user)
    if spans is None:
        return [(start_at, end_at, user, ROTATION, None, None)]
    starts, ends = spans
    i = bisect_right(ends, start_at)
    if i == len(starts) or starts[i] >= end_at:
        return [(start_at, end_at, user, ROTATION, None, None)]
    pieces = []
    cur = start_at
    while i < len(starts) and starts[i] < end_at:
        s = starts[i] if starts[i] > start_at else start_at
        e = ends[i] if ends[i] < end_at else end_at
        if s > cur:
            pieces.append((cur, s, user, ROTATION, None, None))
        pieces.extend(_cover(schedule._away, plan.participant_ids, slot, s, e))
        cur = e
        i += 1
    if cur < end_at:
        pieces.append((cur, end_at, user, ROTATION, None, None))
    return pieces


def _candidates(ids: tuple[int, ...], slot: int) -> Iterator[int]:
    """Who covers the participant at `slot`: the others in rotation order after them, each once. Lazy, so
    the usual case (the next person is free) costs one step, not a pass over a long rotation."""
    n = len(ids)
    seen = {ids[slot]}
    for j in range(1, n):
        user = ids[(slot + j) % n]
        if user not in seen:
            seen.add(user)
            yield user


def _cover(
    away: Mapping[int, _Away], ids: tuple[int, ...], slot: int, start_at: datetime, end_at: datetime
) -> list[tuple]:
    """Hand [start_at, end_at), which the participant at `slot` is away for, to the next available ones."""
    absent = ids[slot]
    for c in _candidates(ids, slot):
        if _free(away, c, start_at, end_at):
            # One substitute for the whole stretch beats a relay of several.
            return [(start_at, end_at, c, TIME_OFF, absent, None)]
    return _relay(away, list(_candidates(ids, slot)), absent, start_at, end_at)


def _relay(
    away: Mapping[int, _Away], candidates: list[int], absent: int, start_at: datetime, end_at: datetime
) -> list[tuple]:
    """Nobody can take the whole stretch: cut it at every substitute's time-off edge, and give each piece to
    the first candidate free throughout it.

    One sweep over the edges with a heap of free candidates (by rank), so the cost is
    O((candidates + edges) log candidates) rather than a scan of every candidate for every piece."""
    events: list[tuple[datetime, int, int]] = []  # (instant, +1 away / -1 back, rank)
    for rank, c in enumerate(candidates):
        spans = away.get(c)
        if spans is None:
            continue
        starts, ends = spans
        i = bisect_right(ends, start_at)
        while i < len(starts) and starts[i] < end_at:
            events.append((starts[i] if starts[i] > start_at else start_at, 1, rank))
            events.append((ends[i] if ends[i] < end_at else end_at, -1, rank))
            i += 1
    events.sort()
    bounds = sorted({start_at, end_at} | {e[0] for e in events})
    busy = [0] * len(candidates)
    free = list(range(len(candidates)))  # a heap of ranks; stale entries (now busy) are dropped lazily
    pieces = []
    nxt = 0
    for a, b in pairwise(bounds):
        while nxt < len(events) and events[nxt][0] <= a:
            _at, delta, rank = events[nxt]
            busy[rank] += delta
            if busy[rank] == 0:
                heappush(free, rank)
            nxt += 1
        while free and busy[free[0]]:
            heappop(free)
        if free:
            pieces.append((a, b, candidates[free[0]], TIME_OFF, absent, None))
        else:
            pieces.append((a, b, None, UNCOVERED, None, None))
    return pieces


def _overlay(pieces: list[tuple], segments: Sequence[_Segment], lo: datetime, hi: datetime) -> list[tuple]:
    """Lay override segments over contiguous pieces, clip to [lo, hi) and merge equal neighbours."""
    out: list[list] = []
    oi = 0
    n_seg = len(segments)
    for p_start, p_end, user, source, covering_for, override_id in pieces:
        cur = p_start if p_start > lo else lo
        if p_end > hi:
            p_end = hi
        while cur < p_end:
            while oi < n_seg and segments[oi][1] <= cur:
                oi += 1
            if oi < n_seg and segments[oi][0] <= cur:
                seg = segments[oi]
                nxt = seg[1] if seg[1] < p_end else p_end
                attrs = (seg[2], OVERRIDE, None, seg[3])
            else:
                nxt = p_end if oi == n_seg or segments[oi][0] >= p_end else segments[oi][0]
                attrs = (user, source, covering_for, override_id)
            if out and out[-1][1] == cur and out[-1][2] == attrs[0] and out[-1][3] == attrs[1] \
                    and out[-1][4] == attrs[2] and out[-1][5] == attrs[3]:
                out[-1][1] = nxt
            else:
                out.append([cur, nxt, *attrs])
            cur = nxt
    return [tuple(p) for p in out]
