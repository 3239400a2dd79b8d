"""Writing an incident's timeline. Every event has a time, a kind, who and through what, and a detail dict
whose "message" is the sentence people read; the other keys are for machines.

Kinds: created, retriggered, step, uncovered, held, exhausted, notification, delivery, fallback, opt_out,
unreachable, acknowledged, resolved, escalated, reassigned, severity_changed, note, roles, status_update,
update_reminder, postmortem.

Each event is also one log line (logger oncall.incidents.events, with incident_id and notification_id),
written once its transaction commits, so a rolled-back attempt logs nothing."""
import logging
from datetime import datetime

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from oncall.incidents.models import Incident, TimelineEvent

log = logging.getLogger(__name__)
_UNLOGGED = "timeline_events_to_log"

KINDS = ("created", "retriggered", "step", "uncovered", "held", "exhausted", "notification", "delivery",
         "fallback", "opt_out", "unreachable", "acknowledged", "resolved", "escalated", "reassigned",
         "severity_changed", "note", "suppressed", "released", "roles", "status_update", "update_reminder",
         "postmortem")


def record(session: Session, incident: Incident | int, *, kind: str, now: datetime, user_id: int | None = None,
           via: str | None = None, detail: dict | str | None = None) -> TimelineEvent:
    if kind not in KINDS:
        raise ValueError(f"unknown timeline event kind {kind!r}")
    if isinstance(detail, str):  # a bare sentence is the message
        detail = {"message": detail}
    incident_id = incident if isinstance(incident, int) else incident.id
    event = TimelineEvent(incident_id=incident_id, at=now, kind=kind, user_id=user_id, via=via, detail=detail or {})
    session.add(event)
    ids = (detail or {}).get("notification_ids") or [(detail or {}).get("notification_id")]
    session.info.setdefault(_UNLOGGED, []).append(
        (incident_id, kind, (detail or {}).get("message", ""), ids[0] if len(ids) == 1 else None))
    return event


@sqlalchemy_event.listens_for(Session, "after_commit")
def _log_committed(session: Session) -> None:
    for incident_id, kind, message, notification_id in session.info.pop(_UNLOGGED, ()):
        try:
            log.info("incident %s %s: %s", incident_id, kind, message,
                     extra={"incident_id": incident_id, "notification_id": notification_id})
        except Exception:  # the events are stored; a log line must never turn a commit into an error
            pass


@sqlalchemy_event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_UNLOGGED, None)


def channel_name(channel: str) -> str:
    return {"sms": "SMS", "voice": "voice call"}.get(channel, channel)


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
