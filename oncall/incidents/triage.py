"""What a responder looks at first: open incidents, unacknowledged before acknowledged, then by severity,
then oldest first (pure)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, TypeVar

from oncall.escalation.policy import SEVERITIES

SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
STATUS_RANK = {"triggered": 0, "acknowledged": 1, "resolved": 2}


class _IncidentLike(Protocol):
    status: str
    severity: str
    created_at: datetime
    id: int


T = TypeVar("T", bound=_IncidentLike)


def triage_key(incident: _IncidentLike) -> tuple:
    """Sort key: status (triggered first), severity (SEV1 first), age (oldest first), id (stable)."""
    return (STATUS_RANK.get(incident.status, len(STATUS_RANK)), SEVERITY_RANK.get(incident.severity, len(SEVERITY_RANK)),
            incident.created_at, incident.id)


def triage(incidents: Iterable[T]) -> list[T]:
    return sorted(incidents, key=triage_key)


def is_alarming(incident: _IncidentLike) -> bool:
    """Only an incident nobody has acknowledged is shown as alarming."""
    return incident.status == "triggered"
