"""The schedule build and its queries grow linearly with participants, versions and time off.

Measured by counting operations, not time, so the verdict is the same on any machine: every Python and
C function call (sys.setprofile) plus every comparison and hash of a participant id (ids are an int
subclass that counts them, which also sees list scans like `x in list` and list.index that make no call).
Doubling the input must at most about double the count; a quadratic step quadruples it."""
import sys
from datetime import date, datetime, time, timedelta, timezone

import pytest

from oncall.schedules import timeline

UTC = timezone.utc
START = date(2026, 1, 5)
T0 = datetime(2026, 1, 5, 14, tzinfo=UTC)
# A linear step doubles; the slack covers log factors (bisect, sorting) and constant overheads.
DOUBLING_AT_MOST = 2.3


class CountedId(int):
    ops = 0

    def __eq__(self, other):
        CountedId.ops += 1
        return int.__eq__(self, other)

    def __ne__(self, other):
        CountedId.ops += 1
        return int.__ne__(self, other)

    def __lt__(self, other):
        CountedId.ops += 1
        return int.__lt__(self, other)

    def __hash__(self):
        CountedId.ops += 1
        return int.__hash__(self)


def operations(fn) -> int:
    """Calls made while running fn() plus participant-id comparisons and hashes."""
    calls = 0

    def profile(_frame, event, _arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    CountedId.ops = 0
    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls + CountedId.ops


def people(n: int, first: int = 1) -> tuple[int, ...]:
    return tuple(CountedId(i) for i in range(first, first + n))


def version(ids, *, effective_at=None, unit="hours", count=1, zone="America/New_York"):
    return timeline.RotationVersion(effective_at=effective_at, time_zone=zone, handoff_time=time(9),
                                    shift_length=timeline.ShiftLength(unit, count), start_date=START,
                                    participant_ids=ids)


def assert_linear(counts: list[int], what: str) -> None:
    ratios = [b / a for a, b in zip(counts, counts[1:])]
    assert all(r <= DOUBLING_AT_MOST for r in ratios), f"{what}: operations {counts}, ratios per doubling {ratios}"


SIZES = (100, 200, 400, 800)


def test_build_is_linear_in_participants():
    counts = []
    for n in SIZES:
        versions = [version(people(n))]
        counts.append(operations(lambda: timeline.build_schedule(versions)))
    assert_linear(counts, "build_schedule")


def test_build_is_linear_in_versions():
    counts = []
    for n in SIZES:
        versions = [version(people(20))] + [
            version(people(20, first=i % 7 + 1), effective_at=T0 + timedelta(days=i), count=i % 5 + 1)
            for i in range(1, n)]
        counts.append(operations(lambda: timeline.build_schedule(versions)))
    assert_linear(counts, "build_schedule over versions")


def _everyone_but_last_away(n: int):
    """n hourly participants, all but the last away for months: the first one's stretch walks the rotation."""
    ids = people(n)
    away = [timeline.TimeOff(uid, T0 - timedelta(days=1), T0 + timedelta(days=100)) for uid in ids[:-1]]
    return timeline.build_schedule([version(ids, unit="hours", count=1)], (), away)


def test_on_call_with_time_off_is_linear_in_participants():
    counts = []
    for n in SIZES:
        schedule = _everyone_but_last_away(n)
        at = T0 + timedelta(hours=n, minutes=30)  # shift k = n: the first participant's
        counts.append(operations(lambda: timeline.on_call_at(schedule, at)))
        assert timeline.on_call_at(schedule, at).user_id == n  # the one who is not away
    assert_linear(counts, "on_call_at with time off")


def _nested_time_off(n: int):
    """The first participant is away for a whole weekly shift; the others are away from its start for
    less and less time, the next in order longest. Nobody can take the whole stretch, and at each moment
    the first free candidate is further down the order: a relay through everyone, where scanning the
    candidates anew for every piece is quadratic."""
    ids = people(n)
    week = timedelta(days=7)
    step = week / n
    entries = [timeline.TimeOff(ids[0], T0, T0 + week)]
    entries += [timeline.TimeOff(uid, T0, T0 + step * (n - rank)) for rank, uid in enumerate(ids[1:], start=1)]
    return timeline.build_schedule([version(ids, unit="weeks", count=1)], (), entries)


def test_relay_cover_is_linear_in_participants():
    counts = []
    for n in SIZES:
        schedule = _nested_time_off(n)
        pieces = []
        counts.append(operations(lambda: pieces.extend(timeline.shifts_between(schedule, T0, T0 + timedelta(days=7)))))
        assert len({p.user_id for p in pieces if p.source == "time_off"}) == n - 1  # everyone takes a turn
    assert_linear(counts, "relay cover")


@pytest.mark.parametrize("n", [7, 60])
def test_relay_cover_matches_a_literal_reading(n):
    """The sweep gives each piece to the first candidate (rotation order after the absent one) free
    throughout it, the rule read literally."""
    schedule = _nested_time_off(n)
    ids = schedule.versions[0].participant_ids
    for piece in timeline.shifts_between(schedule, T0, T0 + timedelta(days=7)):
        free = [c for c in ids[1:] if all(not (t.user_id == c and t.start_at < piece.end_at and t.end_at > piece.start_at)
                                          for t in schedule.time_off)]
        assert piece.user_id == (free[0] if free else None)
