"""Which status updates are due and which were missed (pure)."""
from datetime import datetime, timedelta, timezone

import pytest

from oncall.incidents import cadence

UTC = timezone.utc
T = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
M = timedelta(minutes=1)


@pytest.mark.parametrize("severity, minutes", [("SEV1", 15), ("SEV2", 30), ("SEV3", None), ("SEV4", None)])
def test_interval_per_severity(severity, minutes):
    assert cadence.interval_for(severity) == (timedelta(minutes=minutes) if minutes else None)


@pytest.mark.parametrize("now, expected", [
    (T, []),
    (T + 14 * M, []),
    (T + 15 * M, [T + 15 * M]),  # due at 15:15: missed from that instant on
    (T + 29 * M, [T + 15 * M]),
    (T + 31 * M, [T + 15 * M, T + 30 * M]),
    (T + 61 * M, [T + 15 * M, T + 30 * M, T + 45 * M, T + 60 * M]),
    (T - M, []),  # a clock behind the start misses nothing
])
def test_missed_slots_sev1(now, expected):
    assert cadence.missed_slots(T, timedelta(minutes=15), now) == expected


def test_slots_cross_midnight_and_month_end():
    since = datetime(2026, 3, 31, 23, 50, tzinfo=UTC)
    assert cadence.missed_slots(since, timedelta(minutes=30), since + 61 * M) == [
        datetime(2026, 4, 1, 0, 20, tzinfo=UTC), datetime(2026, 4, 1, 0, 50, tzinfo=UTC)]


@pytest.mark.parametrize("now, due", [(T, T + 15 * M), (T + 15 * M, T + 30 * M), (T + 16 * M, T + 30 * M),
                                      (T - 5 * M, T + 15 * M)])
def test_next_due(now, due):
    assert cadence.next_due(T, timedelta(minutes=15), now) == due
