"""scheduler_lock.py: one web process at a time runs the worker's jobs, and another takes over when it dies."""
import time

import pytest
from sqlalchemy import text

from oncall.db import make_engine
from oncall.scheduler_lock import SchedulerLock, lock_file
from tests.conftest import POSTGRES_URL
from tests.escalation import processes


def test_on_sqlite_one_holder_at_a_time_until_it_lets_go(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'oncall.db'}")
    first, second = SchedulerLock(engine), SchedulerLock(engine)
    assert first.try_acquire() and first.held()
    assert not second.try_acquire() and not second.held()
    assert first.try_acquire()  # asking again while holding it changes nothing
    first.release()  # what the kernel does when the process dies
    assert second.try_acquire() and not first.try_acquire()
    second.release()
    assert lock_file(engine) == tmp_path / "oncall.db.scheduler-lock"
    engine.dispose()


@pytest.mark.postgres
def test_on_postgresql_the_lock_passes_on_when_its_connection_dies(_migrated_app):
    engines = [make_engine(f"{POSTGRES_URL}?application_name=web-{i}") for i in range(2)]
    first, second = (SchedulerLock(e) for e in engines)
    try:
        assert first.try_acquire() and first.held()
        assert not second.try_acquire()
        with engines[1].connect() as admin:  # the holder's server process dies (or its host does)
            assert admin.scalar(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE application_name = 'web-0' AND datname = current_database()"))
        processes.wait_for(second.try_acquire, timeout=5, what="the lock to pass on")
        assert not first.held() and not first.try_acquire()
    finally:
        first.release()
        second.release()
        for engine in engines:
            engine.dispose()


@pytest.mark.slow
@pytest.mark.host_clock  # the web processes read the host's clock
def test_of_two_web_processes_exactly_one_runs_the_worker_and_the_other_takes_over(tmp_path):
    """Two `oncall run` processes with RUN_WORKER_IN_WEB on one SQLite database: one runs the jobs; killed, the
    other starts them within a few seconds and pages what is due."""
    import signal

    from oncall.schema import upgrade

    from oncall import create_app
    from oncall.db import get_engine
    from tests.escalation.test_worker import _free_port, _get, _seed

    url = f"sqlite:///{tmp_path / 'oncall.db'}"
    app = create_app({"DATABASE_URL": url, "PUBLIC_URL": "https://oncall.example.com", "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
    pages = tmp_path / "pages.jsonl"
    env = processes.env_for(url, pages, RUN_WORKER_IN_WEB="true")
    logs = [tmp_path / f"web{i}.log" for i in range(2)]
    webs = []
    try:
        for log in logs:
            port = _free_port()
            webs.append(processes.start(["run", "--port", str(port)], env, log))
            processes.wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz"), timeout=20, what="a web server")
        lock = lock_file(get_engine(app))
        pids = [web.pid for web in webs]
        leader = processes.wait_for(lambda: flock_holders(lock) & set(pids), timeout=10, what="a scheduler")
        time.sleep(1)
        assert flock_holders(lock) == leader and len(leader) == 1
        [leader_pid] = leader
        processes.stop(webs[pids.index(leader_pid)], signal.SIGKILL)
        follower = {p for p in pids if p != leader_pid}
        processes.wait_for(lambda: flock_holders(lock) == follower, timeout=15, what="the other to take over")
        from oncall.clock import utcnow

        _seed(app, incident_at=utcnow())
        processes.wait_for(lambda: len(processes.read_pages(pages)) == 2, timeout=15, what="the pages")
    finally:
        for web in webs:
            processes.stop(web)
        get_engine(app).dispose()


def flock_holders(path) -> set[int]:
    """Process ids holding a flock on `path`, from the kernel's own table (/proc/locks: "1: FLOCK ADVISORY
    WRITE <pid> <major>:<minor>:<inode> 0 EOF")."""
    import os

    if not path.exists():
        return set()
    inode = os.stat(path).st_ino
    holders = set()
    with open("/proc/locks") as table:
        for line in table:
            fields = line.split()
            if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
                holders.add(int(fields[4]))
    return holders
