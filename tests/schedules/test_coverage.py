"""Coverage gaps (pure)."""
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from oncall.schedules.coverage import gaps
from oncall.schedules.timeline import OVERRIDE, ROTATION, TIME_OFF, UNCOVERED, Shift

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
H = timedelta(hours=1)


def test_gaps_are_uncovered_pieces_and_holes_clipped_and_merged():
    shifts = [Shift(T0 - 5 * H, T0 + 2 * H, 1, ROTATION), Shift(T0 + 2 * H, T0 + 3 * H, None, UNCOVERED),
              Shift(T0 + 3 * H, T0 + 4 * H, None, UNCOVERED), Shift(T0 + 4 * H, T0 + 6 * H, 2, TIME_OFF, 1),
              Shift(T0 + 8 * H, T0 + 30 * H, 3, OVERRIDE, None, 9)]
    assert gaps(shifts, T0, T0 + 24 * H) == [(T0 + 2 * H, T0 + 4 * H), (T0 + 6 * H, T0 + 8 * H)]
    assert gaps([], T0, T0 + H) == [(T0, T0 + H)]
    assert gaps(shifts, T0, T0 + 2 * H) == []


# A loaded machine must not fail these for slowness (as in tests/schedules/test_timeline_properties.py).
@settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 48), st.integers(1, 12), st.booleans()), max_size=12))
def test_a_gap_instant_is_exactly_one_nobody_covers(pieces):
    # Pieces laid end to end as final shifts are (timeline output never overlaps).
    shifts, at = [], T0
    for skip, length, covered in pieces:
        at += skip * H
        shifts.append(Shift(at, at + length * H, 1 if covered else None, ROTATION if covered else UNCOVERED))
        at += length * H
    start, end = T0 + 3 * H, T0 + 100 * H
    found = gaps(shifts, start, end)
    for (a, b), (c, _d) in zip(found, found[1:]):
        assert a < b < c  # ordered, disjoint, never touching (touching ones are merged)
    for hour in range(3, 100):
        t = T0 + hour * H
        covered = any(s.start_at <= t < s.end_at and s.user_id is not None for s in shifts)
        assert covered != any(a <= t < b for a, b in found)
