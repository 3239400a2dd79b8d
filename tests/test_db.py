"""Engine behaviour that requests rely on: stale pooled connections are replaced before use."""
import os

import pytest
from sqlalchemy import text

from oncall import db
from tests.conftest import POSTGRES_URL


@pytest.mark.postgres
def test_a_connection_killed_while_idle_is_replaced_before_a_request_uses_it(monkeypatch):
    # A name of this process's own: pg_stat_activity spans the server, where other test runs (other xdist
    # workers, other checkouts) may run this test at the same moment.
    name = f"oncall-ping-test-{os.getpid()}"
    url = POSTGRES_URL + ("&" if "?" in POSTGRES_URL else "?") + f"application_name={name}"
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    killer = db.make_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT 1")) == 1
        with killer.begin() as conn:  # the server drops it, as a restart or an idle timeout would
            killed = conn.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"), {"name": name})
        assert killed == 1
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT 2")) == 2
    finally:
        engine.dispose()
        killer.dispose()
