"""Coverage gaps: the stretches of a window in which a rotation has nobody on call (pure)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from oncall.schedules.timeline import UNCOVERED, Shift


def gaps(shifts: Iterable[Shift], start_at: datetime, end_at: datetime) -> list[tuple[datetime, datetime]]:
    """Uncovered stretches of [start_at, end_at), clipped to it, touching ones merged, in time order.

    `shifts` are final shifts (timeline.shifts_between); any stretch of the window that no shift covers
    (before the rotation starts, say) is a gap too."""
    out: list[tuple[datetime, datetime]] = []

    def add(lo: datetime, hi: datetime) -> None:
        lo, hi = max(lo, start_at), min(hi, end_at)
        if lo >= hi:
            return
        if out and out[-1][1] >= lo:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))

    covered_until = start_at
    for s in sorted(shifts, key=lambda s: s.start_at):
        if s.end_at <= start_at or s.start_at >= end_at:
            continue
        if s.start_at > covered_until:
            add(covered_until, s.start_at)
        if s.source == UNCOVERED or s.user_id is None:
            add(s.start_at, s.end_at)
        covered_until = max(covered_until, s.end_at)
    if covered_until < end_at:
        add(covered_until, end_at)
    return out
