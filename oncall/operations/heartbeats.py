"""Worker heartbeats: each worker process stamps its row with the database's clock every few seconds, and
prunes rows nobody has stamped for a long time (processes that stopped)."""
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from oncall.clock import database_now, utcnow
from oncall.operations.models import WorkerHeartbeat

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0  # well inside HEALTH_WORKER_SECONDS (60), so one late beat never looks like a death
# A stopped worker's row stays this long: /healthz and `oncall status` show when it was last seen.
RETENTION = timedelta(hours=1)
JOB_ID = "worker-heartbeat"


def oncall_version() -> str:
    try:
        return version("oncall")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


@dataclass(frozen=True)
class WorkerSeen:
    id: str
    host: str
    pid: int
    version: str
    started_at: datetime
    last_seen_at: datetime


class Heartbeat:
    """This process's heartbeat row."""

    def __init__(self, sessions: sessionmaker, *, seconds: float = HEARTBEAT_SECONDS,
                 retention: timedelta = RETENTION) -> None:
        self.sessions = sessions
        self.seconds = seconds
        self.retention = retention
        self.id = uuid.uuid4().hex
        self.host = socket.gethostname()[:255]
        self.version = oncall_version()
        self.started_at: datetime | None = None

    @classmethod
    def from_config(cls, sessions: sessionmaker, config) -> "Heartbeat":
        return cls(sessions, seconds=float(config.get("HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)))

    def beat(self) -> datetime:
        """Stamp this process's row (creating it on the first beat, or again if it was pruned while this
        process was suspended) and prune rows stale for longer than the retention. Returns the stamp."""
        with self.sessions.begin() as session:
            now = database_now(session)
            if self.started_at is None:
                self.started_at = now
            stamped = session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.id == self.id)
                                      .values(last_seen_at=now)).rowcount
            if not stamped:
                session.add(WorkerHeartbeat(id=self.id, host=self.host, pid=os.getpid(), version=self.version,
                                            started_at=self.started_at, last_seen_at=now))
            session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at < now - self.retention))
        return now

    def run(self) -> None:
        """The scheduled job: a failed beat (database down) is logged and the next one tries again; the
        growing age is exactly what /healthz reports meanwhile."""
        try:
            self.beat()
        except Exception:  # the job must outlive any database failure
            log.warning("worker heartbeat failed; the next one retries", exc_info=True)

    def schedule(self, scheduler: BaseScheduler) -> None:
        scheduler.add_job(self.run, "interval", seconds=self.seconds, id=JOB_ID, next_run_time=utcnow(),
                          max_instances=1, coalesce=True, misfire_grace_time=None, replace_existing=True)


def recent_workers(session: Session, *, limit: int = 100) -> list[WorkerSeen]:
    """Every worker still on record, the most recently seen first."""
    rows = session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen_at.desc(),
                                                            WorkerHeartbeat.id).limit(limit))
    return [WorkerSeen(r.id, r.host, r.pid, r.version, r.started_at, r.last_seen_at) for r in rows]
