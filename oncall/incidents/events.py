"""Writing an incident's timeline. Every event has a time, a kind, who and through what, and a detail dict
whose "message" is the sentence people read; the other keys are for machines.

Kinds: created, retriggered, step, uncovered, held, exhausted, notification, delivery, fallback, opt_out,
unreachable, acknowledged, resolved, escalated, note."""
from datetime import datetime

from sqlalchemy.orm import Session

from oncall.incidents.models import Incident, TimelineEvent

KINDS = ("created", "retriggered", "step", "uncovered", "held", "exhausted", "notification", "delivery",
         "fallback", "opt_out", "unreachable", "acknowledged", "resolved", "escalated", "note")


def record(session: Session, incident: Incident | int, *, kind: str, now: datetime, user_id: int | None = None,
           via: str | None = None, detail: dict | str | None = None) -> TimelineEvent:
    if kind not in KINDS:
        raise ValueError(f"unknown timeline event kind {kind!r}")
    if isinstance(detail, str):  # a bare sentence is the message
        detail = {"message": detail}
    incident_id = incident if isinstance(incident, int) else incident.id
    event = TimelineEvent(incident_id=incident_id, at=now, kind=kind, user_id=user_id, via=via, detail=detail or {})
    session.add(event)
    return event


def channel_name(channel: str) -> str:
    return {"sms": "SMS", "voice": "voice call"}.get(channel, channel)


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
