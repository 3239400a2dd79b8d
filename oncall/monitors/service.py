"""Heartbeat monitors: create, list, delete; a ping; the worker's check that opens an incident for a monitor
that fell silent. Never commits.

A monitor is due `interval_minutes` after its last ping (or its creation). The check locks due monitors
(SKIP LOCKED, so two workers share them), opens one incident per silence with the monitor's severity and a
dedup key of its own, and remembers it; the next ping resolves that incident. The incident is a machine's, so
a maintenance window of the team holds it like an alert.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.errors import NotFound
from oncall.feeds.service import SECRET_PATTERN, hash_secret, mint_secret
from oncall.incidents import service as incidents
from oncall.incidents.models import RESOLVED, Incident
from oncall.monitors.models import HeartbeatMonitor
from oncall.people.service import get_team

PING_PATH = "/heartbeats/{secret}"
BATCH = 100


def ping_url(public_url: str, secret: str) -> str:
    return public_url.rstrip("/") + PING_PATH.format(secret=secret)


def create_monitor(session: Session, *, team_id: int, name: str, interval_minutes: int, severity: str,
                   created_by_id: int | None, now: datetime) -> HeartbeatMonitor:
    """A new monitor whose `secret` attribute holds its ping URL's secret, this once. Silent from now."""
    get_team(session, team_id)
    secret = mint_secret()
    monitor = HeartbeatMonitor(team_id=team_id, name=name, interval_minutes=interval_minutes, severity=severity,
                               secret_hash=hash_secret(secret), created_by_id=created_by_id, created_at=now,
                               due_at=now + timedelta(minutes=interval_minutes))
    session.add(monitor)
    session.flush()
    monitor.secret = secret
    return monitor


def list_monitors(session: Session, team_id: int) -> list[HeartbeatMonitor]:
    get_team(session, team_id)
    return list(session.scalars(select(HeartbeatMonitor).where(HeartbeatMonitor.team_id == team_id)
                                .order_by(HeartbeatMonitor.id)))


def get_monitor(session: Session, team_id: int, monitor_id: int) -> HeartbeatMonitor:
    monitor = session.get(HeartbeatMonitor, monitor_id)
    if monitor is None or monitor.team_id != team_id:
        raise NotFound(f"heartbeat {monitor_id} does not exist for team {team_id}")
    return monitor


def delete_monitor(session: Session, monitor: HeartbeatMonitor) -> None:
    session.delete(monitor)
    session.flush()


def ping(session: Session, secret: str, now: datetime) -> HeartbeatMonitor | None:
    """Record a ping (None for an unknown secret): the monitor is due an interval from now, and the incident
    its silence opened, if still open, is resolved."""
    if not SECRET_PATTERN.match(secret):
        return None
    monitor = session.scalar(select(HeartbeatMonitor).where(HeartbeatMonitor.secret_hash == hash_secret(secret))
                             .with_for_update())
    if monitor is None:
        return None
    monitor.last_ping_at = now
    monitor.due_at = now + timedelta(minutes=monitor.interval_minutes)
    if monitor.incident_id is not None:
        incident = session.get(Incident, monitor.incident_id)
        if incident is not None and incident.status != RESOLVED:
            incidents.resolve(session, incident, user_id=None, via="heartbeat", now=now)
        monitor.incident_id = None
    session.flush()
    return monitor


def check(session: Session, now: datetime) -> int:
    """Open an incident for each monitor silent past its interval that has none open. Returns how many opened."""
    due = session.scalars(select(HeartbeatMonitor).where(HeartbeatMonitor.due_at <= now,
                                                         HeartbeatMonitor.incident_id.is_(None))
                          .order_by(HeartbeatMonitor.due_at).limit(BATCH).with_for_update(skip_locked=True)).all()
    opened = 0
    for monitor in due:
        silent_since = monitor.last_ping_at or monitor.created_at
        incident, created = incidents.create_incident(
            session, team_id=monitor.team_id, severity=monitor.severity, now=now, via="heartbeat",
            title=f"Heartbeat missed: {monitor.name}", dedup_key=f"heartbeat:{monitor.id}",
            description=f"No ping since {silent_since.isoformat()} (expected every {monitor.interval_minutes} "
                        "minutes). The next ping resolves this incident.")
        monitor.incident_id = incident.id
        opened += created
    session.flush()
    return opened
