"""Were incidents answered within their severity's response target? (pure)

Targets (PRODUCT.md): SEV1 5 minutes, SEV2 15, SEV3 an hour; SEV4 one hour from the next business-hours
start, as its pages wait for business hours: a SEV4 opened on Saturday counts from Monday's opening. The
response is the acknowledgement, or the resolve for an incident resolved without one (someone answered).
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall.escalation.policy import SEVERITIES, BusinessHours, next_business_start

TARGETS = {"SEV1": timedelta(minutes=5), "SEV2": timedelta(minutes=15), "SEV3": timedelta(hours=1),
           "SEV4": timedelta(hours=1)}


@dataclass(frozen=True, slots=True)
class Answered:
    """One incident, as the report needs it."""

    severity: str
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    business_hours: BusinessHours | None = None  # SEV4: the hours its pages waited for


def clock_starts(incident: Answered) -> datetime:
    """When the response target's clock starts: at creation, or for SEV4 at the next business-hours start."""
    if incident.severity == "SEV4" and incident.business_hours is not None:
        return next_business_start(incident.business_hours, incident.created_at) or incident.created_at
    return incident.created_at


def time_to_acknowledge(incident: Answered) -> timedelta | None:
    answered = incident.acknowledged_at or incident.resolved_at
    if answered is None:
        return None
    return max(timedelta(0), answered - clock_starts(incident))


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile: the smallest value with at least 90% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def response_report(incidents: Iterable[Answered]) -> list[dict]:
    """One row per severity, SEV1 first, every severity present (zeros and nulls when it had no incident)."""
    by_severity: dict[str, list[Answered]] = {s: [] for s in SEVERITIES}
    for incident in incidents:
        by_severity[incident.severity].append(incident)
    rows = []
    for severity, group in by_severity.items():
        target = TARGETS[severity]
        acks = [t.total_seconds() for t in map(time_to_acknowledge, group) if t is not None]
        resolves = [(i.resolved_at - i.created_at).total_seconds() for i in group if i.resolved_at is not None]
        rows.append({
            "severity": severity, "incidents": len(group),
            "acknowledged_within_target": sum(1 for seconds in acks if seconds <= target.total_seconds()),
            "median_seconds_to_acknowledge": _median(acks), "p90_seconds_to_acknowledge": p90(acks),
            "median_seconds_to_resolve": _median(resolves), "target_seconds": int(target.total_seconds()),
        })
    return rows


def monthly_medians(incidents: Iterable[Answered]) -> dict[str, dict[str, float | None]]:
    """For the report page's chart: {"2026-03": {"SEV1": median seconds to acknowledge, ...}, ...} by the UTC
    month the incident opened in."""
    months: dict[str, dict[str, list[float]]] = {}
    for incident in incidents:
        seconds = time_to_acknowledge(incident)
        month = months.setdefault(f"{incident.created_at:%Y-%m}", {s: [] for s in SEVERITIES})
        if seconds is not None:
            month[incident.severity].append(seconds.total_seconds())
    return {m: {s: _median(v) for s, v in sev.items()} for m, sev in sorted(months.items())}
