"""What the dashboard and rotation page say about shifts: now, next, and why someone is on call (pure)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from oncall.schedules.timeline import OVERRIDE, TIME_OFF, UNCOVERED, Shift


def now_and_next(shifts: Sequence[Shift], now: datetime) -> tuple[Shift | None, Shift | None]:
    """The piece containing `now`, and the next piece with someone else on call (None if none ahead)."""
    current = next((s for s in shifts if s.start_at <= now < s.end_at), None)
    upcoming = None
    for s in shifts:
        if s.start_at < now or s is current:
            continue
        if current is None or s.user_id != current.user_id:
            upcoming = s
            break
    return current, upcoming


def explain(shift: Shift, names: Mapping[int, str], override_reasons: Mapping[int, str | None] | None = None) -> str:
    """Why this person has this piece: '' for the plain rotation, 'covering Bob's PTO', 'override: swap'."""
    if shift.source == TIME_OFF:
        return f"covering {names.get(shift.covering_for, 'someone')}'s PTO"
    if shift.source == OVERRIDE:
        reason = (override_reasons or {}).get(shift.override_id)
        return f"override: {reason}" if reason else "override"
    if shift.source == UNCOVERED:
        return "nobody on call"
    return ""
