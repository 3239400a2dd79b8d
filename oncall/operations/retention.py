"""Retention: the worker deletes old history (incident timelines, sent notifications, sign-in failures) in small
batches, each its own short transaction, so pruning a year of rows never holds locks that paging waits on.

An incident's history goes as a whole once the incident was resolved more than RETENTION_DAYS ago: its timeline
events and its notifications together, never a timeline cut in the middle, and nothing of an open incident (SMS
replies such as `AA` find open incidents through their notifications). Messages without an incident (handoff
reminders, verification codes) go RETENTION_DAYS after they were written. A notification still pending or being
sent is never deleted, whatever its age."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from oncall.incidents.models import RESOLVED, Incident, TimelineEvent
from oncall.paging.models import CANCELLED, FAILED, SENT, Notification
from oncall.web.models import LoginFailure

RETENTION_DAYS = 365
SIGN_IN_FAILURE_RETENTION_HOURS = 24  # throttling reads 15 minutes back; a day is left for investigating abuse
BATCH = 1000
FINAL_STATES = (SENT, FAILED, CANCELLED)


@dataclass(frozen=True)
class Retention:
    history: timedelta
    sign_in_failures: timedelta
    batch: int = BATCH

    @classmethod
    def from_config(cls, config) -> "Retention":
        """ONCALL_RETENTION_DAYS and ONCALL_SIGN_IN_FAILURE_RETENTION_HOURS (0 or less: keep forever)."""
        return cls(history=timedelta(days=float(config.get("RETENTION_DAYS", RETENTION_DAYS))),
                   sign_in_failures=timedelta(hours=float(config.get("SIGN_IN_FAILURE_RETENTION_HOURS",
                                                                     SIGN_IN_FAILURE_RETENTION_HOURS))),
                   batch=int(config.get("RETENTION_BATCH", BATCH)))


def prune(sessions: sessionmaker, *, now: datetime, retention: Retention) -> dict[str, int]:
    """Delete what is past its retention, batch after batch; returns how many rows of each kind went."""
    deleted = {"timeline_events": 0, "notifications": 0, "login_failures": 0}
    if retention.history > timedelta(0):
        cutoff = now - retention.history
        long_resolved = select(Incident.id).where(Incident.status == RESOLVED, Incident.resolved_at < cutoff)
        deleted["timeline_events"] = _in_batches(sessions, TimelineEvent, retention.batch,
                                                 TimelineEvent.incident_id.in_(long_resolved))
        deleted["notifications"] = _in_batches(
            sessions, Notification, retention.batch, Notification.state.in_(FINAL_STATES),
            Notification.incident_id.in_(long_resolved)
            | (Notification.incident_id.is_(None) & (Notification.created_at < cutoff)))
    if retention.sign_in_failures > timedelta(0):
        deleted["login_failures"] = _in_batches(sessions, LoginFailure, retention.batch,
                                                LoginFailure.at < now - retention.sign_in_failures)
    return deleted


def _in_batches(sessions: sessionmaker, model, batch: int, *conditions) -> int:
    total = 0
    while True:
        with sessions.begin() as session:
            ids = select(model.id).where(*conditions).order_by(model.id).limit(batch)
            count = session.execute(delete(model).where(model.id.in_(ids.scalar_subquery())),
                                    execution_options={"synchronize_session": False}).rowcount
        total += count
        if count < batch:
            return total
