"""Calendar grid layout (pure): days across, bars placed within their local days, across DST."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from oncall.schedules.calendar import day_start, local_days, month_first_days, position, week_row, week_start
from oncall.schedules.timeline import ROTATION, UNCOVERED, Shift

UTC = timezone.utc
NY, BERLIN, SANTIAGO = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/Santiago")


def local(tz, *args) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)


@pytest.mark.parametrize("tz,on,hours", [
    (NY, date(2026, 3, 8), 23),  # spring forward
    (NY, date(2026, 11, 1), 25),  # fall back
    (BERLIN, date(2026, 10, 25), 25),
    (SANTIAGO, date(2026, 9, 6), 23),  # midnight itself is skipped: the day starts at 01:00
    (NY, date(2026, 3, 9), 24),
])
def test_day_lengths_across_dst(tz, on, hours):
    [day] = local_days(on, 1, tz)
    assert day.hours == hours


def test_santiago_day_starts_when_the_gap_ends():
    assert day_start(date(2026, 9, 6), SANTIAGO).astimezone(SANTIAGO).hour == 1


def test_daily_09_00_shifts_stay_at_the_same_place_each_day_across_spring_forward():
    # Week of Mon 2 March .. Sun 8 March 2026 in New York; Sunday has 23 hours.
    shifts = [Shift(local(NY, 2026, 3, d, 9), local(NY, 2026, 3, d + 1, 9), d % 3, ROTATION) for d in range(1, 9)]
    week = week_row(shifts, date(2026, 3, 2), NY)
    assert [d.on.day for d in week.days] == [2, 3, 4, 5, 6, 7, 8]
    # 09:00 is 9/24 into each day, but on the 23-hour Sunday it is 8 hours in: 8/23 of that day.
    assert [b.left for b in week.bars] == pytest.approx([0, 0.375, 1.375, 2.375, 3.375, 4.375, 5.375, 6 + 8 / 23])
    assert week.bars[0].cut_before and week.bars[-1].cut_after
    assert sum(b.width for b in week.bars) == pytest.approx(7)


def test_uncovered_pieces_are_bars_too_and_shifts_outside_the_row_are_not():
    start = local(BERLIN, 2026, 10, 19, 0)
    shifts = [Shift(start - timedelta(days=3), start - timedelta(days=1), 1, ROTATION),
              Shift(start + timedelta(hours=12), start + timedelta(hours=18), None, UNCOVERED)]
    [bar] = week_row(shifts, date(2026, 10, 19), BERLIN).bars
    assert bar.shift.source == UNCOVERED and bar.left == pytest.approx(0.5) and bar.width == pytest.approx(0.25)


def test_month_weeks():
    # March 2026: Sunday the 1st, Tuesday the 31st: the weeks of Mon 23 Feb .. Mon 30 March.
    firsts = month_first_days(2026, 3)
    assert firsts[0] == date(2026, 2, 23) and firsts[-1] == date(2026, 3, 30) and len(firsts) == 6
    assert month_first_days(2026, 12)[-1] == date(2026, 12, 28)
    assert week_start(date(2026, 3, 8)) == date(2026, 3, 2)


zones = st.sampled_from(["America/New_York", "Europe/Berlin", "America/Santiago", "Australia/Lord_Howe",
                         "Asia/Kolkata", "UTC"]).map(ZoneInfo)


# A loaded machine must not fail these for slowness (as in tests/schedules/test_timeline_properties.py).
@settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(zones, st.dates(date(2025, 1, 1), date(2028, 12, 31)),
       st.lists(st.integers(1, 60 * 40), min_size=1, max_size=30), st.integers(-3000, 3000))
def test_bars_tile_the_row_in_order_and_midnights_are_whole_days(tz, first, lengths, offset_minutes):
    days = local_days(first, 7, tz)
    for i, day in enumerate(days):
        assert position(days, day.start_at) == i
    at = days[0].start_at + timedelta(minutes=offset_minutes)
    shifts = []
    for n, minutes in enumerate(lengths):
        shifts.append(Shift(at, at + timedelta(minutes=minutes), n, ROTATION))
        at += timedelta(minutes=minutes)
    week = week_row(shifts, first, tz)
    for a, b in zip(week.bars, week.bars[1:]):
        assert a.left + a.width == pytest.approx(b.left) and a.end_at == b.start_at
    for bar in week.bars:
        assert 0 <= bar.left and bar.width > 0 and bar.left + bar.width <= 7 + 1e-9
    covered_from, covered_to = max(shifts[0].start_at, week.start_at), min(shifts[-1].end_at, week.end_at)
    if covered_from < covered_to:
        total = sum(b.width for b in week.bars)
        assert total == pytest.approx(position(week.days, covered_to) - position(week.days, covered_from))
