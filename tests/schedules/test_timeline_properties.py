"""Properties of timeline.py over random rotations, checked against a brute-force reading of the rules."""
from bisect import bisect_right
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncall.schedules import timeline

UTC = timezone.utc
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
]
# Days on which one of ZONES changes its offset in 2026; rotations starting near them cross DST.
DST_DAYS = [date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5),
            date(2026, 9, 27), date(2026, 10, 4), date(2026, 10, 25), date(2026, 11, 1)]
# No example database: the suite must not write into the repository.
SETTINGS = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
TICK = timedelta(microseconds=1)


# --- an independent reading of the rules ------------------------------------------------------

@cache
def ref_resolve(day: date, at: time, zone: str) -> datetime:
    """Wall time -> UTC by trying every offset the zone uses nearby: first reading, else the gap's end."""
    tz = ZoneInfo(zone)
    naive = datetime.combine(day, at)
    around = naive.replace(tzinfo=UTC)
    offsets = {(around + timedelta(hours=h)).astimezone(tz).utcoffset() for h in range(-48, 49, 6)}
    readings = [
        (naive - offset).replace(tzinfo=UTC)
        for offset in offsets
        if (naive - offset).replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None) == naive
    ]
    if readings:
        return min(readings)
    # In a gap the local reading jumps from before `naive` to after it: find that instant.
    lo, hi = around - timedelta(hours=16), around + timedelta(hours=16)
    while hi - lo > timedelta(seconds=1):
        mid = (lo + (hi - lo) // 2).replace(microsecond=0)
        if mid.astimezone(tz).replace(tzinfo=None) < naive:
            lo = mid
        else:
            hi = mid
    return hi


def ref_handoff(v: timeline.RotationVersion, k: int) -> datetime:
    if v.shift_length.unit == "hours":
        return ref_resolve(v.start_date, v.handoff_time, v.time_zone) + timedelta(hours=k * v.shift_length.count)
    days = v.shift_length.count * (7 if v.shift_length.unit == "weeks" else 1)
    return ref_resolve(v.start_date + timedelta(days=k * days), v.handoff_time, v.time_zone)


def ref_rotation_start(versions) -> datetime:
    return ref_handoff(versions[0], 0)


class Reference:
    """The rules read literally: every handoff expanded one by one from each version's shift 0."""

    def __init__(self, versions, overrides, time_off, until: datetime) -> None:
        self.versions, self.overrides, self.time_off = versions, overrides, time_off
        self.start = ref_rotation_start(versions)
        self.begins = [self.start] + [max(v.effective_at, self.start) for v in versions[1:]]
        self.handoffs = []  # per version: sorted [(instant, k)] spanning what it governs up to `until`
        for i, v in enumerate(versions):
            lo = self.begins[i]
            hi = min(self.begins[i + 1], until) if i + 1 < len(versions) else until
            k = 0
            while ref_handoff(v, k) > lo:
                k -= 1
            found = []
            while True:
                found.append((ref_handoff(v, k), k))
                if found[-1][0] > hi:
                    break
                k += 1
            self.handoffs.append(found)

    def version_at(self, t: datetime) -> int:
        return max(i for i, b in enumerate(self.begins) if b <= t)

    def base(self, t: datetime) -> tuple[datetime, datetime, int, int]:
        """(start, end, user, slot) of the base shift at t."""
        i = self.version_at(t)
        found = self.handoffs[i]
        j = bisect_right(found, (t, float("inf"))) - 1
        (start, k), (end, _) = found[j], found[j + 1]
        start = max(start, self.begins[i])
        if i + 1 < len(self.begins):
            end = min(end, self.begins[i + 1])
        ids = self.versions[i].participant_ids
        return start, end, ids[k % len(ids)], k % len(ids)

    def owner(self, t: datetime) -> tuple:
        """(user_id, source, covering_for, override_id) at instant t >= rotation start."""
        time_off = self.time_off
        for o in reversed(self.overrides):  # the later override wins an overlap
            if o.start_at <= t < o.end_at:
                return (o.user_id, "override", None, o.id)
        start, end, user, slot = self.base(t)
        if not is_away(time_off, user, t):
            return (user, "rotation", None, None)
        span = next((s, e) for s, e in away_spans(time_off, user) if s <= t < e)
        stretch = (max(span[0], start), min(span[1], end))
        ids = self.versions[self.version_at(t)].participant_ids
        candidates = []
        for j in range(1, len(ids)):
            c = ids[(slot + j) % len(ids)]
            if c != user and c not in candidates:
                candidates.append(c)
        for c in candidates:
            if not overlaps_time_off(time_off, c, *stretch):
                return (c, "time_off", user, None)
        for c in candidates:
            if not is_away(time_off, c, t):
                return (c, "time_off", user, None)
        return (None, "uncovered", None, None)


def away_spans(time_off, user: int) -> list[tuple[datetime, datetime]]:
    spans = sorted((t.start_at, t.end_at) for t in time_off if t.user_id == user)
    merged: list[list[datetime]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def is_away(time_off, user: int, t: datetime) -> bool:
    return any(t_.user_id == user and t_.start_at <= t < t_.end_at for t_ in time_off)


def overlaps_time_off(time_off, user: int, start: datetime, end: datetime) -> bool:
    return any(t_.user_id == user and t_.start_at < end and t_.end_at > start for t_ in time_off)


def attrs(shift: timeline.Shift) -> tuple:
    return (shift.user_id, shift.source, shift.covering_for, shift.override_id)


# --- random worlds ----------------------------------------------------------------------------

# Strategies are built once: building them inside the composite dominated the run time.
# sampled_from draws uniformly, where integers() leans towards the small end.
PEOPLE = st.sampled_from([1, 2, 3, 3, 4, 4])
ORDERS = st.permutations([1, 2, 3, 4])
SIZES = st.sampled_from([1, 2, 3, 4])
SHIFT_LENGTHS = st.one_of(
    st.integers(1, 36).map(lambda n: timeline.ShiftLength("hours", n)),
    st.integers(1, 3).map(lambda n: timeline.ShiftLength("days", n)),
    st.integers(1, 2).map(lambda n: timeline.ShiftLength("weeks", n)),
)
# Include the wall times that DST skips or repeats.
HANDOFFS = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
START_DATES = st.one_of(
    st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    st.builds(lambda day, days: day + timedelta(days=days), st.sampled_from(DST_DAYS), st.integers(-20, 3)),
)
POSITIONS = st.integers(0, 10_000)  # where in the world's span an instant falls, in 1/10000ths
TIME_OFF_HOURS = st.sampled_from([1, 6, 24, 48, 96, 144])


@st.composite
def versions_for(draw, start_date: date, effective_at: datetime | None, people: int, everyone=False):
    participants = [p for p in draw(ORDERS) if p <= people]
    if not everyone:
        participants = participants[:min(draw(SIZES), people)]
    return timeline.RotationVersion(
        effective_at=effective_at,
        time_zone=draw(st.sampled_from(ZONES)),
        handoff_time=draw(HANDOFFS),
        shift_length=draw(SHIFT_LENGTHS),
        start_date=start_date,
        participant_ids=tuple(participants),
    )


@st.composite
def worlds(draw, max_overrides: int = 4, overlapping_overrides: bool = False):
    people = draw(PEOPLE)
    first = draw(versions_for(draw(START_DATES), None, people, everyone=True))
    start_at = timeline.rotation_start_at([first])
    # Everything happens around the window, so most windows see PTO, overrides and version changes.
    window_start = start_at + timedelta(minutes=draw(st.integers(-48 * 60, 30 * 24 * 60)))
    span = timedelta(days=draw(st.sampled_from(range(21))), minutes=draw(st.integers(1, 24 * 60)))
    window_end = window_start + span
    world_start, world_span = window_start - timedelta(days=3), span + timedelta(days=4)

    def instant() -> datetime:
        return world_start + world_span * draw(POSITIONS) // 10_000

    versions = [first]
    for effective_at in sorted({instant() for _ in range(draw(st.sampled_from([0, 0, 1, 2])))}):
        day = (effective_at + timedelta(days=draw(st.integers(-10, 10)))).date()
        versions.append(draw(versions_for(day, effective_at, people)))

    override_users = st.sampled_from(list(range(1, people + 1)) + [99])  # an outsider may cover too
    overrides = []
    if overlapping_overrides:
        for i in range(draw(st.integers(0, max_overrides))):
            a = instant()
            overrides.append(timeline.Override(draw(override_users), a,
                                               a + timedelta(minutes=draw(st.integers(1, 60 * 24 * 5))), id=i + 1))
    else:
        points = sorted({instant() for _ in range(2 * draw(st.integers(0, max_overrides)))})
        for i in range(0, len(points) - 1, 2):
            overrides.append(timeline.Override(draw(override_users), points[i], points[i + 1], id=i // 2 + 1))

    time_off = []
    for i in range(draw(st.sampled_from(range(9)))):
        # Sometimes start where the last entry ended: touching entries are one absence.
        a = time_off[-1].end_at if time_off and draw(st.booleans()) else instant()
        length = timedelta(hours=draw(TIME_OFF_HOURS), minutes=draw(st.integers(0, 600)))
        time_off.append(timeline.TimeOff(draw(st.integers(1, people)), a, a + length, id=i + 1))
    return versions, overrides, time_off, window_start, window_end


def interesting_instants(schedule, shifts, overrides, time_off) -> list[datetime]:
    """Every edge inside the shifts (and just before it), where a mistake would show."""
    if not shifts:
        return []
    lo, hi = shifts[0].start_at, shifts[-1].end_at
    edges = {s.start_at for s in shifts} | {s.end_at - TICK for s in shifts}
    edges |= {s.start_at + (s.end_at - s.start_at) / 2 for s in shifts}
    for x in [*overrides, *time_off]:
        edges |= {x.start_at, x.end_at, x.start_at - TICK, x.end_at - TICK}
    edges |= set(timeline.handoffs_between(schedule, lo, hi))
    edges |= {v.effective_at for v in schedule.versions if v.effective_at is not None}
    return sorted(t for t in edges if lo <= t < hi)


def shift_at(shifts, t):
    return next(s for s in shifts if s.start_at <= t < s.end_at)


def merge(shifts):
    out = []
    for s in shifts:
        if out and out[-1].end_at == s.start_at and attrs(out[-1]) == attrs(s):
            out[-1] = timeline.Shift(out[-1].start_at, s.end_at, *attrs(s))
        else:
            out.append(s)
    return out


# --- properties -------------------------------------------------------------------------------
# Hypothesis spends most of the time generating worlds, so each test checks several properties
# of the same world; each property is its own function, named in any failure's traceback.

def check_tiles_the_covered_part_of_the_window(versions, start, end, shifts):
    covered_from = max(start, ref_rotation_start(versions))
    if covered_from >= end:
        assert shifts == []
        return
    assert shifts[0].start_at == covered_from
    assert shifts[-1].end_at == end
    for s in shifts:
        assert s.start_at < s.end_at
        assert s.start_at.utcoffset() == timedelta(0) and s.end_at.utcoffset() == timedelta(0)
        assert (s.user_id is None) == (s.source == "uncovered")
    for a, b in pairwise(shifts):
        assert a.end_at == b.start_at  # contiguous, hence also never overlapping
        assert attrs(a) != attrs(b)  # equal neighbours are merged


def check_nobody_covers_during_their_own_time_off(time_off, shifts):
    for s in shifts:
        if s.source in ("rotation", "time_off"):
            assert not overlaps_time_off(time_off, s.user_id, s.start_at, s.end_at), s


def check_uncovered_means_every_participant_is_away(schedule, ref, shifts):
    for s in shifts:
        if s.source != "uncovered":
            continue
        # Away-ness only changes at these edges, so checking each one checks every elementary piece.
        for t in interesting_instants(schedule, [s], ref.overrides, ref.time_off):
            ids = ref.versions[ref.version_at(t)].participant_ids
            assert all(is_away(ref.time_off, user, t) for user in ids), (s, t)


def check_every_instant_follows_the_rules(schedule, ref, shifts):
    for t in interesting_instants(schedule, shifts, ref.overrides, ref.time_off):
        assert attrs(shift_at(shifts, t)) == ref.owner(t), t


def check_on_call_at_agrees_with_shifts_between(schedule, ref, start, end, shifts):
    for t in interesting_instants(schedule, shifts, ref.overrides, ref.time_off):
        piece = shift_at(shifts, t)
        found = timeline.on_call_at(schedule, t)
        assert attrs(found) == attrs(piece), t
        assert found.start_at <= t < found.end_at
        # The window clips shifts_between's pieces, so compare within it.
        assert max(found.start_at, start) >= piece.start_at and min(found.end_at, end) <= piece.end_at
        base = timeline.base_shift_at(schedule, t)
        assert (base.start_at, base.end_at, base.user_id) == ref.base(t)[:3]
    before = ref.start - timedelta(minutes=1)
    assert timeline.on_call_at(schedule, before) == timeline.Shift(before, ref.start, None, "uncovered")


@SETTINGS
@given(worlds())
def test_shifts_tile_the_window_and_respect_time_off(world):
    versions, overrides, time_off, start, end = world
    schedule = timeline.build_schedule(versions, overrides, time_off)
    shifts = timeline.shifts_between(schedule, start, end)
    ref = Reference(versions, overrides, time_off, end)
    check_tiles_the_covered_part_of_the_window(versions, start, end, shifts)
    check_nobody_covers_during_their_own_time_off(time_off, shifts)
    check_uncovered_means_every_participant_is_away(schedule, ref, shifts)


@SETTINGS
@given(worlds())
def test_every_instant_follows_the_rules_and_on_call_at_agrees(world):
    versions, overrides, time_off, start, end = world
    schedule = timeline.build_schedule(versions, overrides, time_off)
    shifts = timeline.shifts_between(schedule, start, end)
    ref = Reference(versions, overrides, time_off, end)
    check_every_instant_follows_the_rules(schedule, ref, shifts)
    check_on_call_at_agrees_with_shifts_between(schedule, ref, start, end, shifts)


@SETTINGS
@given(worlds(overlapping_overrides=True))
def test_overlapping_overrides_resolve_to_the_later_one(world):
    versions, overrides, time_off, start, end = world
    schedule = timeline.build_schedule(versions, overrides, time_off)
    shifts = timeline.shifts_between(schedule, start, end)
    ref = Reference(versions, overrides, time_off, end)
    check_tiles_the_covered_part_of_the_window(versions, start, end, shifts)
    check_every_instant_follows_the_rules(schedule, ref, shifts)
    check_on_call_at_agrees_with_shifts_between(schedule, ref, start, end, shifts)


@SETTINGS
@given(worlds(), st.floats(0, 1))
def test_a_window_split_in_two_gives_the_same_shifts(world, fraction):
    versions, overrides, time_off, start, end = world
    schedule = timeline.build_schedule(versions, overrides, time_off)
    middle = start + (end - start) * fraction
    if not start < middle < end:
        return
    whole = timeline.shifts_between(schedule, start, end)
    halves = timeline.shifts_between(schedule, start, middle) + timeline.shifts_between(schedule, middle, end)
    assert merge(halves) == whole
