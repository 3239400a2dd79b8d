"""Times on web pages: shown in the reader's zone, typed in as local wall-clock values (pure)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from oncall.handoffs.markdown import format_age
from oncall.schedules.timeline import resolve_local

__all__ = ["duration", "format_age", "local", "local_input", "parse_local", "parse_date"]


def local(at: datetime | None, tz_name: str, *, with_zone: bool = True, seconds: bool = False) -> str:
    """'Wed Mar 4 09:00 EST' ('Wed Mar 4 09:00:07 EST' with seconds)."""
    if at is None:
        return ""
    value = at.astimezone(ZoneInfo(tz_name))
    text = f"{value:%a %b} {value.day} {value:%H:%M:%S}" if seconds else f"{value:%a %b} {value.day} {value:%H:%M}"
    return f"{text} {value:%Z}" if with_zone else text


def local_input(at: datetime, tz_name: str) -> str:
    """The value an <input type="datetime-local"> expects."""
    return at.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%dT%H:%M")


def parse_local(value: str, tz_name: str) -> datetime:
    """A datetime-local value ('2026-03-04T09:00') in `tz_name` as aware UTC. A wall time skipped by a DST
    gap means the end of the gap, an ambiguous one its first occurrence (as for handoff times).
    Raises ValueError on anything else."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("empty")
    naive = datetime.fromisoformat(value.strip())
    if naive.tzinfo is not None:
        raise ValueError("expected a local time without an offset")
    return resolve_local(naive.date(), naive.time().replace(second=0, microsecond=0), ZoneInfo(tz_name))


def parse_date(value: str) -> date | None:
    """'' -> None, '2026-03-05' -> date; ValueError otherwise."""
    if value is None or not value.strip():
        return None
    return date.fromisoformat(value.strip())


def local_date(at: datetime, tz_name: str) -> date:
    return at.astimezone(ZoneInfo(tz_name)).date()


def until(at: datetime, now: datetime) -> str:
    """'in 3h 12m' / '5m ago'."""
    delta = at - now
    return f"in {format_age(delta)}" if delta >= timedelta(0) else f"{format_age(-delta)} ago"


def duration(seconds: float | None) -> str:
    """'45s', '4m 30s', '2h 05m', '3d 4h'; an en dash for None (nothing to measure)."""
    if seconds is None:
        return "\u2013"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
