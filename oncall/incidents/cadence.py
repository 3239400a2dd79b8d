"""When status updates of an open incident are due, and which due updates were missed (pure).

The framework: stakeholders get an update every 15 minutes during a SEV1 and every 30 during a SEV2. The
clock restarts at each update (and at a change of severity); each slot that passes without one is missed
once, whatever the time the worker looks."""
from __future__ import annotations

from datetime import datetime, timedelta

UPDATE_STATUSES = ("investigating", "identified", "monitoring", "resolved")
CADENCE = {"SEV1": timedelta(minutes=15), "SEV2": timedelta(minutes=30)}


def interval_for(severity: str) -> timedelta | None:
    """How often an update is due, or None for severities without a cadence."""
    return CADENCE.get(severity)


def next_due(since: datetime, interval: timedelta, now: datetime) -> datetime:
    """The first slot after `now` (the one the next update is due by)."""
    passed = int((now - since) / interval) if now >= since else 0
    return since + interval * (passed + 1)


def missed_slots(since: datetime, interval: timedelta, now: datetime) -> list[datetime]:
    """Every slot since + k * interval (k >= 1) at or before `now`: due updates that did not come, since
    the last update (or the incident's start) was at `since`."""
    if now < since + interval:
        return []
    count = int((now - since) / interval)
    return [since + interval * k for k in range(1, count + 1)]
