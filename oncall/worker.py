"""The worker: APScheduler jobs that advance escalations (escalation/engine.py) and send the outbox
(paging/outbox.py). `oncall worker` runs them in a process of its own; with RUN_WORKER_IN_WEB the web
process runs the same jobs in a background thread (the quick start), in one web process at a time
(scheduler_lock.py).

Every job reads and writes only the database, so a worker killed at any point loses nothing: the next one
(or the same one restarted) finds whatever is due. Several workers may run against PostgreSQL at once.

Settings (ONCALL_* environment variables): WORKER_TICK_SECONDS (1), WORKER_DISPATCH_SECONDS (0.25),
SMS_BATCH_SECONDS (30), OUTBOX_LEASE_SECONDS (60), OUTBOX_CONCURRENCY (8 provider requests in flight),
HEARTBEAT_SECONDS (10), NOTIFIER (see paging/dispatch.py), SCHEMA_CHECK_SECONDS (30: how soon `oncall worker` stops
after the database was migrated past its code), RETENTION_DAYS (365) and SIGN_IN_FAILURE_RETENTION_HOURS (24)
(see operations/retention.py).
"""
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from oncall import schema
from oncall.clock import database_now
from oncall.db import get_engine, get_sessionmaker
from oncall.escalation import engine
from oncall.maintenance import service as maintenance
from oncall.monitors import service as monitors
from oncall.feeds import service as feeds, stamps as feed_stamps
from oncall.handoffs import reminders as handoff_reminders
from oncall.incidents import update_reminders
from oncall.operations import retention
from oncall.operations.heartbeats import Heartbeat
from oncall.paging import outbox
from oncall.paging.dispatch import notifier_from_config
from oncall.paging.notifier import Notifier
from oncall.scheduler_lock import SchedulerLock
from oncall.schedules import coverage_watch

log = logging.getLogger(__name__)

TICK_JOB, DISPATCH_JOB = "escalation-tick", "outbox-dispatch"
DISPATCH_BATCH = 100
# A maintenance window's end, and a heartbeat's silence, are acted on within this.
MACHINES_SECONDS = 15
# A change that opens a gap (a time off, an emptied rotation) is noticed within this.
COVERAGE_SECONDS = 60
# A missed status update (every 15 minutes for a SEV1) is reminded of within this.
UPDATE_REMINDER_SECONDS = 20
# A separate worker notices within this that the database was migrated past its code (rolling upgrades).
SCHEMA_CHECK_SECONDS = 30


class _QuietOverlaps(logging.Filter):
    """A dispatch still sending when its next run comes due is normal (max_instances=1 skips that run):
    APScheduler would warn about it several times a second."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


_QUIET = _QuietOverlaps()


class Worker:
    def __init__(self, app: Flask, notifier: Notifier | None = None) -> None:
        config = app.config
        self.sessions = get_sessionmaker(app)
        self.engine = get_engine(app)
        self.notifier = notifier or notifier_from_config(config)
        self.public_url = config["PUBLIC_URL"]
        self.tick_seconds = float(config.get("WORKER_TICK_SECONDS", 1.0))
        self.dispatch_seconds = float(config.get("WORKER_DISPATCH_SECONDS", 0.25))
        self.sms_window = timedelta(seconds=float(config.get("SMS_BATCH_SECONDS", 30)))
        self.lease = timedelta(seconds=float(config.get("OUTBOX_LEASE_SECONDS", 60)))
        self.heartbeat = Heartbeat.from_config(self.sessions, config)
        self.retention = retention.Retention.from_config(config)
        self.concurrency = int(config.get("OUTBOX_CONCURRENCY", outbox.CONCURRENCY))
        self.scheduler: BaseScheduler | None = None
        self._woken = threading.Event()  # set by wake_dispatch: new pages may be waiting
        self._listener: threading.Thread | None = None

    # --- the jobs ---------------------------------------------------------------------------------------

    def tick(self) -> int:
        """Fire every escalation step that is due; wakes the dispatcher when pages were written."""
        try:
            fired = engine.tick(self.sessions)  # due times on the database's clock
        except DBAPIError:
            log.warning("escalation tick failed; the next one retries", exc_info=True)
            return 0
        if fired:
            self.wake_dispatch()
        return fired

    def dispatch(self) -> int:
        """Send everything due, pass after pass while there is work: pages written during a pass (a storm's
        next webhooks, a fallback) go in the next pass at once, not WORKER_DISPATCH_SECONDS later. A pass that
        finds nothing only reads, so an idle worker never takes SQLite's write lock."""
        total = 0
        try:
            while True:
                self._woken.clear()
                handled = outbox.dispatch_due(self.sessions, self.notifier, public_url=self.public_url,
                                              limit=DISPATCH_BATCH, sms_window=self.sms_window, lease=self.lease,
                                              concurrency=self.concurrency)
                total += handled
                # Woken during an empty pass: the rows it was woken for may have come after the pass looked.
                if not handled and not self._woken.is_set():
                    return total
        except DBAPIError:
            log.warning("outbox dispatch failed; the next one retries", exc_info=True)
            return total

    def watch_coverage(self) -> int:
        """Warn teams' admins of new coverage gaps in the coming week (rotations changed since, or daily)."""
        try:
            with self.sessions.begin() as session:
                found = coverage_watch.watch(session, database_now(session), public_url=self.public_url)
        except DBAPIError:
            log.warning("coverage watch failed; the next one retries", exc_info=True)
            return 0
        if found:
            log.info("coverage watch: %s new gap(s) texted to team admins", found)
            self.wake_dispatch()
        return found

    def watch_machines(self) -> tuple[int, int]:
        """Start the escalation of incidents held by a maintenance window that is over; open an incident for each
        heartbeat silent past its interval. Returns (released, opened)."""
        try:
            with self.sessions.begin() as session:
                now = database_now(session)
                released = maintenance.release(session, now)
                opened = monitors.check(session, now)
        except DBAPIError:
            log.warning("maintenance and heartbeat check failed; the next one retries", exc_info=True)
            return 0, 0
        if released or opened:
            log.info("%s held incident(s) released after maintenance, %s heartbeat incident(s) opened", released, opened)
            self.wake_dispatch()
        return released, opened

    def remind_updates(self) -> int:
        """Text a reminder for each missed status update of an open SEV1 or SEV2 (incidents/update_reminders.py)."""
        reminded = update_reminders.run(self.sessions, public_url=self.public_url)
        if reminded:
            self.wake_dispatch()
        return reminded

    def housekeeping(self) -> None:
        """Delete what nothing reads any more: stamps of calendar events no feed window can reach, warnings of
        coverage gaps long over; and history past its retention (operations/retention.py)."""
        try:
            with self.sessions.begin() as session:
                now = database_now(session)
                pruned = feed_stamps.prune(session, now, feeds.MAX_DISTANCE + timedelta(days=1))
                pruned += coverage_watch.prune(session, now)
            expired = retention.prune(self.sessions, now=now, retention=self.retention)
        except DBAPIError:
            log.warning("housekeeping failed; the next run retries", exc_info=True)
            return
        if pruned:
            log.info("housekeeping: deleted %s rows nothing reads any more", pruned)
        if any(expired.values()):
            log.info("retention: deleted %s", ", ".join(f"{count} {kind}" for kind, count in expired.items() if count))

    def run_once(self) -> tuple[int, int]:
        """One tick and one dispatch until nothing more is due now (`oncall worker --once`)."""
        fired = self.tick()
        return fired, self.dispatch()

    # --- scheduling -------------------------------------------------------------------------------------

    def schedule(self, scheduler: BaseScheduler) -> BaseScheduler:
        logging.getLogger("apscheduler.scheduler").addFilter(_QUIET)  # the same filter once, however often
        now = datetime.now(timezone.utc)
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None, "replace_existing": True}
        scheduler.add_job(self.tick, "interval", seconds=self.tick_seconds, id=TICK_JOB, next_run_time=now, **common)
        scheduler.add_job(self.dispatch, "interval", seconds=self.dispatch_seconds, id=DISPATCH_JOB,
                          next_run_time=now, **common)
        # Handoff reminders (SMS) and re-pages of unacknowledged handoffs (issue #5), queued in the outbox.
        scheduler.add_job(handoff_reminders.run_reminders, "interval", seconds=30, id="handoff-reminders",
                          next_run_time=now, args=[self.sessions], kwargs={"public_url": self.public_url}, **common)
        scheduler.add_job(self.watch_coverage, "interval", seconds=COVERAGE_SECONDS, id="coverage-watch",
                          next_run_time=now + timedelta(seconds=5), **common)
        scheduler.add_job(self.watch_machines, "interval", seconds=MACHINES_SECONDS, id="maintenance-and-heartbeats",
                          next_run_time=now, **common)
        scheduler.add_job(self.remind_updates, "interval", seconds=UPDATE_REMINDER_SECONDS, id="update-reminders",
                          next_run_time=now + timedelta(seconds=3), **common)
        scheduler.add_job(self.housekeeping, "interval", hours=1, id="housekeeping",
                          next_run_time=now + timedelta(minutes=1), **common)
        self.heartbeat.schedule(scheduler)  # /healthz and /metrics tell when this process stops
        self.scheduler = scheduler
        if self._listener is None:
            self._listener = listen_for_pages(self.engine, self.wake_dispatch)
        return scheduler

    def wake_dispatch(self) -> None:
        """Run the dispatch job now instead of at its next interval (it runs at most once at a time; a running
        one makes another pass)."""
        self._woken.set()
        scheduler = self.scheduler
        if scheduler is None or not scheduler.running:
            return
        try:
            scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now(timezone.utc))
        except Exception:  # shutting down, or the job is gone: the regular interval still runs
            log.debug("could not wake the dispatcher", exc_info=True)


OUTBOX_CHANNEL = "oncall_outbox"  # a trigger NOTIFYs it when a transaction that wrote outbox rows commits (0019)
LISTEN_RETRY_SECONDS = 5.0


def listen_for_pages(db_engine: Engine, wake: Callable[[], None], *, stop: threading.Event | None = None,
                     retry_seconds: float = LISTEN_RETRY_SECONDS) -> threading.Thread | None:
    """On PostgreSQL, a thread that LISTENs for new outbox rows and calls `wake`: a page another process wrote
    (the web, under an alert storm) is sent at once, not at the next poll. The poll stays for what becomes due
    by time (retries, SMS windows) and for a listener that lost its connection. None on SQLite, where the web
    nudges the worker it runs itself."""
    if db_engine.dialect.name != "postgresql":
        return None

    def listen() -> None:
        while not (stop and stop.is_set()):
            try:
                connection = db_engine.raw_connection()
                try:
                    listener = connection.driver_connection
                    listener.autocommit = True
                    listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
                    wake()  # whatever was written while nobody listened
                    while not (stop and stop.is_set()):
                        for _ in listener.notifies(timeout=1.0):  # ends after a second, to check `stop`
                            wake()
                finally:
                    connection.invalidate()  # never back to the pool: it is in autocommit and LISTENing
            except Exception:  # the server restarted, or the network dropped: polling goes on meanwhile
                log.warning("listening for new pages failed; retrying in %s s", retry_seconds, exc_info=True)
                if stop is not None:
                    stop.wait(retry_seconds)
                else:
                    time.sleep(retry_seconds)

    thread = threading.Thread(target=listen, name="outbox-listener", daemon=True)
    thread.start()
    return thread


# --- in a process of its own --------------------------------------------------------------------------------

def run_forever(app: Flask, notifier: Notifier | None = None) -> None:
    """`oncall worker`: block until SIGTERM or SIGINT, then finish the running jobs and exit."""
    worker = Worker(app, notifier)
    scheduler = worker.schedule(BlockingScheduler(timezone=timezone.utc))

    def stop(signum, _frame):
        log.info("signal %s: stopping after the running jobs", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    mismatch: list[str] = []

    def watch_schema():
        # A rolling upgrade migrated the database under this worker: its code no longer matches the tables, so it
        # stops rather than escalate or page with wrong assumptions (the new workers take over).
        try:
            schema.require_head(app)
        except schema.SchemaMismatch as exc:
            mismatch.append(str(exc))
            log.error("worker %s stopping: %s", os.getpid(), exc)
            scheduler.shutdown(wait=False)
        except DBAPIError:
            log.warning("schema check failed; the next one retries", exc_info=True)

    scheduler.add_job(watch_schema, "interval", seconds=float(app.config.get("SCHEMA_CHECK_SECONDS", SCHEMA_CHECK_SECONDS)),
                      id="schema-check", max_instances=1, coalesce=True)
    log.info("worker %s started: tick every %ss, dispatch every %ss through %s", os.getpid(), worker.tick_seconds,
             worker.dispatch_seconds, getattr(worker.notifier, "name", worker.notifier))
    scheduler.start()
    if mismatch:
        raise SystemExit(f"worker stopped: {mismatch[0]}")


# --- inside the web process ---------------------------------------------------------------------------------

_in_web: dict[int, Worker] = {}  # by process id: a forked web worker must start its own scheduler
_in_web_lock = threading.Lock()


def start_in_web(app: Flask, notifier: Notifier | None = None) -> Worker:
    """Run the worker's jobs in a background thread of this process while it holds the scheduler lock
    (scheduler_lock.py): with several web processes exactly one runs them, and when it dies another takes
    over within LEADER_RETRY_SECONDS. Once per process."""
    with _in_web_lock:
        worker = _in_web.get(os.getpid())
        if worker is None:
            worker = Worker(app, notifier)
            _in_web[os.getpid()] = worker
            threading.Thread(target=_lead, args=(worker, SchedulerLock(get_engine(app))), name="scheduler-lock",
                             daemon=True).start()
        return worker


LEADER_RETRY_SECONDS = 5.0


def _lead(worker: Worker, lock: SchedulerLock) -> None:
    while True:
        if lock.try_acquire():
            log.info("worker jobs running inside the web process %s (it holds the scheduler lock)", os.getpid())
            scheduler = worker.schedule(BackgroundScheduler(timezone=timezone.utc, daemon=True))
            scheduler.start()
            while lock.held():
                time.sleep(LEADER_RETRY_SECONDS)
            log.warning("web process %s lost the scheduler lock; its worker jobs stop until it is retaken",
                        os.getpid())
            scheduler.shutdown(wait=False)
        time.sleep(LEADER_RETRY_SECONDS)


def install_in_web(app: Flask) -> None:
    """RUN_WORKER_IN_WEB: start the jobs on the first request, so they run in the process that serves (after
    a reloader's or a pre-forking server's fork) and never in CLI commands that merely build the app."""

    @app.before_request
    def _start_worker():
        if os.getpid() not in _in_web:
            start_in_web(app)


def nudge() -> None:
    """Called by the web after committing new pages: send them now when the worker runs in this process.
    Separate worker processes poll every WORKER_DISPATCH_SECONDS instead."""
    worker = _in_web.get(os.getpid())
    if worker is not None:
        worker.wake_dispatch()

