"""Shifts laid out on a calendar grid: weeks of seven local days across, each shift a bar placed by where its
ends fall within their local days, so day columns stay aligned on 23- and 25-hour DST days (pure)."""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from oncall.schedules.timeline import Shift, resolve_local

WEEK = 7


@dataclass(frozen=True, slots=True)
class Day:
    on: date
    start_at: datetime  # local midnight (or the first instant of the day where midnight is skipped), aware
    end_at: datetime  # the next day's start

    @property
    def hours(self) -> float:
        return (self.end_at - self.start_at).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class Bar:
    """A shift's stretch within one week row. `left` and `width` are in days from the row's first day
    (0..7), for CSS percentages of the row; `start_at`/`end_at` are the clipped instants."""

    shift: Shift
    start_at: datetime
    end_at: datetime
    left: float
    width: float
    cut_before: bool  # the shift began before this row
    cut_after: bool  # and goes on after it


@dataclass(frozen=True, slots=True)
class Week:
    days: tuple[Day, ...]
    bars: tuple[Bar, ...]

    @property
    def start_at(self) -> datetime:
        return self.days[0].start_at

    @property
    def end_at(self) -> datetime:
        return self.days[-1].end_at


def day_start(on: date, tz: tzinfo) -> datetime:
    """The first instant of a local day: its midnight, or where a DST gap swallows midnight, the gap's end."""
    return resolve_local(on, time(0), tz)


def local_days(first: date, count: int, tz: tzinfo) -> list[Day]:
    starts = [day_start(first + timedelta(days=i), tz) for i in range(count + 1)]
    return [Day(first + timedelta(days=i), starts[i], starts[i + 1]) for i in range(count)]


def position(days: Sequence[Day], at: datetime) -> float:
    """Where `at` falls, in days from the first day's start: the day's index plus the elapsed part of that
    local day (so local midnights are whole numbers, whatever the day's length). Clamped to the row."""
    if at <= days[0].start_at:
        return 0.0
    if at >= days[-1].end_at:
        return float(len(days))
    i = bisect_right([d.start_at for d in days], at) - 1
    day = days[i]
    return i + (at - day.start_at) / (day.end_at - day.start_at)


def week_row(shifts: Iterable[Shift], first: date, tz: tzinfo) -> Week:
    days = tuple(local_days(first, WEEK, tz))
    lo, hi = days[0].start_at, days[-1].end_at
    bars = []
    for s in sorted(shifts, key=lambda s: s.start_at):
        if s.end_at <= lo or s.start_at >= hi:
            continue
        start, end = max(s.start_at, lo), min(s.end_at, hi)
        left, right = position(days, start), position(days, end)
        bars.append(Bar(s, start, end, left, right - left, s.start_at < lo, s.end_at > hi))
    return Week(days, tuple(bars))


def week_start(on: date) -> date:
    """The Monday of `on`'s week (ISO 8601 weeks)."""
    return on - timedelta(days=on.weekday())


def month_first_days(year: int, month: int) -> list[date]:
    """The Mondays of the weeks a month view shows: from the week of the 1st to the week of the last day."""
    first = date(year, month, 1)
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    start = week_start(first)
    return [start + timedelta(weeks=i) for i in range((week_start(last) - start).days // WEEK + 1)]


def grid(shifts: Sequence[Shift], firsts: Sequence[date], tz: tzinfo) -> list[Week]:
    return [week_row(shifts, first, tz) for first in firsts]


def window(firsts: Sequence[date], tz: tzinfo) -> tuple[datetime, datetime]:
    """The instants a grid of these weeks covers (what to load shifts for)."""
    return day_start(firsts[0], tz), day_start(firsts[-1] + timedelta(days=WEEK), tz)
