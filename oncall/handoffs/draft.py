"""Which shift change a draft is for, and the automatic sections of a handoff, from plain data (pure)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# A handoff may still be written this long after its shift change; later the draft moves on to
# the next change, so a forgotten note does not block the next one for a whole shift.
LATE_WINDOW = timedelta(hours=1)
# How far ahead the draft looks for a shift change (rotations have at most 52-week shifts).
HORIZON = timedelta(days=366)

SEVERITY_ORDER = {"SEV1": 1, "SEV2": 2, "SEV3": 3, "SEV4": 4}
OPEN_STATUSES = ("triggered", "acknowledged")
RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class IncidentFact:
    id: int
    severity: str
    title: str
    status: str  # triggered | acknowledged | resolved
    created_at: datetime
    url: str
    code: str | None = None
    acknowledged_by: str | None = None  # the person's name
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WatchFact:
    id: int
    text: str
    created_at: datetime
    due_on: date | None = None
    added_by: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None


def choose_shift_change(changes: Iterable[datetime], taken: Iterable[datetime], now: datetime,
                        late_window: timedelta = LATE_WINDOW) -> datetime | None:
    """The shift change the draft is for: the earliest one no longer than `late_window` ago that has no
    submitted handoff (`taken`). None when the rotation has no such change in `changes`."""
    taken = set(taken)
    for at in sorted(changes):
        if at >= now - late_window and at not in taken:
            return at
    return None


def window_start(previous_submitted_at: datetime | None, shift_began_at: datetime) -> datetime:
    """Where "recently resolved" and "closed since last handoff" start: the previous handoff's submission
    (what it reported as open is what this one must follow up) or, without one, the outgoing shift's start."""
    return previous_submitted_at if previous_submitted_at is not None else shift_began_at


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def build_sections(*, incidents: Sequence[IncidentFact], watch_items: Sequence[WatchFact], since: datetime,
                   as_of: datetime, hints: Sequence[str] = (), follow_ups: Sequence[dict] = ()) -> dict:
    """The automatic sections as JSON-ready data, the shape stored on a submitted handoff.

    Active issues: open incidents, most severe first. Recently resolved: resolved in (since, as_of].
    Watch items: open ones, soonest due first; those closed in (since, as_of] are listed once, apart.
    The window is open at `since` because that is the previous handoff's `as_of`, which already
    reported what happened at that instant. `follow_ups` (postmortems/followups.py: late postmortems,
    overdue action items) are watch items too, listed as they come, each with its link."""
    active = sorted(
        (i for i in incidents if i.status in OPEN_STATUSES),
        key=lambda i: (SEVERITY_ORDER.get(i.severity, 9), i.created_at, i.id),
    )
    resolved = sorted(
        (i for i in incidents if i.resolved_at is not None and since < i.resolved_at <= as_of),
        key=lambda i: (i.resolved_at, i.id),
    )
    open_items = sorted(
        (w for w in watch_items if w.closed_at is None),
        key=lambda w: (w.due_on is None, w.due_on or date.max, w.created_at, w.id),
    )
    closed = sorted(
        (w for w in watch_items if w.closed_at is not None and since < w.closed_at <= as_of),
        key=lambda w: (w.closed_at, w.id),
    )
    return {
        "active_issues": [
            {"incident_id": i.id, "code": i.code, "severity": i.severity, "title": i.title,
             "status": i.status,
             "created_at": _iso(i.created_at), "acknowledged_by": i.acknowledged_by, "url": i.url}
            for i in active
        ],
        "recently_resolved": [
            {"incident_id": i.id, "code": i.code, "severity": i.severity, "title": i.title,
             "resolved_at": _iso(i.resolved_at), "url": i.url}
            for i in resolved
        ],
        "watch_items": [
            {"id": w.id, "text": w.text, "due_on": _iso(w.due_on), "added_by": w.added_by} for w in open_items
        ],
        "closed_watch_items": [
            {"id": w.id, "text": w.text, "closed_by": w.closed_by, "closed_at": _iso(w.closed_at)} for w in closed
        ],
        "follow_ups": [dict(f) for f in follow_ups],
        "hints": list(hints),
    }
