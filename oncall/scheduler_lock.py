"""Which web process runs the worker's jobs when RUN_WORKER_IN_WEB is on: one at a time, whatever the number
of web processes (gunicorn -w 4, several hosts).

PostgreSQL: a session-level advisory lock held on a connection of its own; when the holder dies, its
connection ends, the server frees the lock and another web process takes it at its next try. SQLite: an
exclusive flock on a file beside the database, which the kernel frees when the holder dies. Correctness
never depends on this (row locks make each page go once with any number of schedulers); it keeps a
quick-start setup from running one poller per web process, each taking SQLite's write lock."""
import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection, make_url

log = logging.getLogger(__name__)

# pg_try_advisory_lock's key: "oncall" in ASCII, so it is recognisable in pg_locks.
ADVISORY_KEY = 0x6F6E63616C6C


class SchedulerLock:
    """try_acquire() until it answers True; then held() tells whether it still is (the connection may die)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._file: int | None = None

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        if self.postgres:
            return self._try_advisory_lock()
        return self._try_file_lock()

    def held(self) -> bool:
        if self.postgres:
            if self._connection is None:
                return False
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except Exception:  # the connection is gone, and the server freed the lock with it
                log.warning("lost the scheduler lock's database connection", exc_info=True)
                self.release()
                return False
        return self._file is not None

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # already broken: closing it is all that was left to do
                log.debug("closing the scheduler lock's connection failed", exc_info=True)
            self._connection = None
        if self._file is not None:
            os.close(self._file)  # closing the descriptor drops the flock
            self._file = None

    def _try_advisory_lock(self) -> bool:
        if self._connection is not None:
            return self.held()
        try:
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception:
            log.warning("cannot reach the database to take the scheduler lock", exc_info=True)
            return False
        try:
            got = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        except Exception:
            connection.close()
            log.warning("taking the scheduler lock failed", exc_info=True)
            return False
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def _try_file_lock(self) -> bool:
        if self._file is not None:
            return True
        path = lock_file(self.engine)
        if path is None:  # an in-memory database lives in one process only
            self._file = os.open(os.devnull, os.O_RDONLY)
            return True
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._file = fd
        return True


def lock_file(engine: Engine) -> Path | None:
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".scheduler-lock")
