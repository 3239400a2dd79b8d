"""What the team still owes after an incident: postmortems not written in time and action items past their
due date, as the watch items of its handoff draft (pure)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from oncall.escalation.policy import WEEKDAYS
from oncall.schedules.timeline import resolve_local

# The framework: every SEV1 and SEV2 ends in a postmortem, written within five business days.
POSTMORTEM_SEVERITIES = ("SEV1", "SEV2")
POSTMORTEM_BUSINESS_DAYS = 5


@dataclass(frozen=True, slots=True)
class MissingPostmortem:
    incident_id: int
    severity: str
    title: str
    resolved_at: datetime
    url: str


@dataclass(frozen=True, slots=True)
class OpenItem:
    id: int
    incident_id: int
    text: str
    owner: str | None
    due_on: date
    url: str


def postmortem_due_at(resolved_at: datetime, *, days: Sequence[str], tz: ZoneInfo,
                      business_days: int = POSTMORTEM_BUSINESS_DAYS) -> datetime:
    """When a postmortem becomes late: `business_days` of the team's business days after the resolve, at the
    same local time; after a resolve on a day off, at the end of the fifth business day. A team without
    business days counts every day."""
    days = tuple(days) or WEEKDAYS
    local = resolved_at.astimezone(tz)
    day, at = local.date(), local.time().replace(tzinfo=None, fold=0)
    day_off = WEEKDAYS[day.weekday()] not in days
    counted = 0
    while counted < business_days:
        day += timedelta(days=1)
        if WEEKDAYS[day.weekday()] in days:
            counted += 1
    if day_off:
        day, at = day + timedelta(days=1), time(0, 0)
    return resolve_local(day, at, tz)


def watch_entries(*, missing: Sequence[MissingPostmortem], items: Sequence[OpenItem], now: datetime, today: date,
                  days: Sequence[str], tz: ZoneInfo) -> list[dict]:
    """The follow-ups a handoff lists under Watch Items, each with a link: postmortems late by the business-day
    rule (oldest resolve first), then open action items whose due date has passed (`today` is the team's
    local date; soonest due first)."""
    late = sorted((m for m in missing if postmortem_due_at(m.resolved_at, days=days, tz=tz) <= now),
                  key=lambda m: (m.resolved_at, m.incident_id))
    overdue = sorted((i for i in items if i.due_on < today), key=lambda i: (i.due_on, i.id))
    return [
        {"kind": "postmortem", "incident_id": m.incident_id, "severity": m.severity, "url": m.url,
         "text": f"Postmortem due: {m.severity} {m.title} (resolved {m.resolved_at.astimezone(tz).date().isoformat()})"}
        for m in late
    ] + [
        {"kind": "action_item", "incident_id": i.incident_id, "action_item_id": i.id, "url": i.url,
         "due_on": i.due_on.isoformat(), "owner": i.owner,
         "text": f"Action item overdue: {i.text}" + (f" ({i.owner})" if i.owner else "")}
        for i in overdue
    ]
