"""Is the pager working? Facts gathered from the database (ages on the database's clock), judged by a pure
function: ok, degraded (no live worker, or a page overdue), or down (no database)."""
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from oncall.clock import database_now, isoformat_z
from oncall.incidents.models import TRIGGERED, Incident
from oncall.operations.heartbeats import WorkerSeen, recent_workers
from oncall.paging.models import PENDING, SENDING, Notification

log = logging.getLogger(__name__)

OK, DEGRADED, DOWN = "ok", "degraded", "down"
# PRODUCT.md: degraded when no worker heartbeat in the last 60 s, or a page due for more than 60 s.
WORKER_SECONDS = 60.0
PAGE_SECONDS = 60.0


@dataclass(frozen=True)
class Facts:
    """What the database says, read at `now` (the database's clock)."""

    now: datetime
    workers: list[WorkerSeen]
    # The earliest due time of a page the outbox has not sent (pending, or in flight past its lease).
    oldest_due_page_at: datetime | None
    # The earliest due time of an escalation step the engine has not fired: its pages are not even written.
    oldest_due_step_at: datetime | None
    outbox_pending: int  # notifications not yet sent, due or not (pending or sending)


@dataclass(frozen=True)
class Health:
    status: str
    database: str
    workers: list[dict] = field(default_factory=list)
    oldest_pending_page_seconds: float | None = None
    escalation_lag_seconds: float | None = None
    reasons: list[str] = field(default_factory=list)
    checked_at: datetime | None = None

    @property
    def http_status(self) -> int:
        return 503 if self.status == DOWN else 200

    def to_json(self) -> dict:
        return {"status": self.status, "database": self.database, "workers": self.workers,
                "oldest_pending_page_seconds": self.oldest_pending_page_seconds,
                "escalation_lag_seconds": self.escalation_lag_seconds, "reasons": self.reasons,
                "checked_at": isoformat_z(self.checked_at) if self.checked_at else None}


def gather(session: Session) -> Facts:
    """A handful of indexed queries: heartbeats, the oldest due page and step, the outbox size."""
    now = database_now(session)
    unsent = Notification.state.in_((PENDING, SENDING))
    return Facts(
        now=now,
        workers=recent_workers(session),
        # Same rule as the outbox's claim: a `sending` row past its lease is due again.
        oldest_due_page_at=session.scalar(select(func.min(Notification.next_attempt_at))
                                          .where(unsent, Notification.next_attempt_at <= now)),
        oldest_due_step_at=session.scalar(select(func.min(Incident.next_step_at))
                                          .where(Incident.status == TRIGGERED, Incident.next_step_at <= now)),
        outbox_pending=session.scalar(select(func.count()).select_from(Notification).where(unsent)) or 0,
    )


def age_seconds(now: datetime, then: datetime | None) -> float:
    """Seconds from `then` to `now`, 0 for nothing (and never negative)."""
    if then is None:
        return 0.0
    return round(max((now - then).total_seconds(), 0.0), 3)


def assess(facts: Facts, *, worker_seconds: float = WORKER_SECONDS, page_seconds: float = PAGE_SECONDS) -> Health:
    """The verdict on `facts`; pure."""
    workers = []
    for worker in facts.workers:
        age = age_seconds(facts.now, worker.last_seen_at)
        workers.append({"id": worker.id, "last_seen": isoformat_z(worker.last_seen_at), "age_seconds": age,
                        "alive": age <= worker_seconds, "host": worker.host, "pid": worker.pid,
                        "version": worker.version, "started": isoformat_z(worker.started_at)})
    page_age = age_seconds(facts.now, facts.oldest_due_page_at)
    lag = age_seconds(facts.now, facts.oldest_due_step_at)
    reasons = []
    if not any(w["alive"] for w in workers):
        reasons.append(f"no worker heartbeat in the last {worker_seconds:g} s")
    if page_age > page_seconds:
        reasons.append(f"a page has been due for {page_age:.0f} s and is not sent")
    if lag > page_seconds:
        reasons.append(f"an escalation step has been due for {lag:.0f} s and has not paged")
    # An escalation step that has not fired is a page due and not sent too, only one stage earlier.
    return Health(status=DEGRADED if reasons else OK, database="ok", workers=workers,
                  oldest_pending_page_seconds=max(page_age, lag), escalation_lag_seconds=lag, reasons=reasons,
                  checked_at=facts.now)


def check(read_sessions: sessionmaker, *, worker_seconds: float = WORKER_SECONDS,
          page_seconds: float = PAGE_SECONDS) -> Health:
    """Gather and assess; a database that cannot answer makes the service down."""
    try:
        with read_sessions() as session:
            facts = gather(session)
    except SQLAlchemyError as exc:
        # Without the exception's text in the answer: it may name hosts and users. The log has it.
        log.warning("health check: the database did not answer: %s", _first_line(exc))
        return Health(status=DOWN, database="unreachable",
                      reasons=["the database did not answer"])
    return assess(facts, worker_seconds=worker_seconds, page_seconds=page_seconds)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
