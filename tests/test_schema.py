"""Rolling upgrades: a process whose code expects another schema head than the database's refuses to start, and a
running `oncall worker` stops when the database is migrated past it."""
import subprocess
import sys

import pytest
from sqlalchemy import text

from oncall import create_app, schema
from oncall.db import get_engine
from tests.escalation import processes


@pytest.fixture()
def fresh_app(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "SECRET_KEY": "test"})
    yield app
    get_engine(app).dispose()


def _stamp(app, revision: str) -> None:
    with get_engine(app).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_the_code_head_is_the_newest_migration_shipped_in_the_package():
    assert (schema.MIGRATIONS / "versions").is_dir()
    assert schema.code_head() == sorted(p.name.split("_")[0] for p in (schema.MIGRATIONS / "versions").glob("0*.py"))[-1]


def test_a_database_at_head_passes(app):
    schema.require_head(app)


def test_each_mismatch_refuses_with_what_to_do(fresh_app):
    with fresh_app.app_context():
        with pytest.raises(schema.SchemaMismatch, match="no schema yet.*oncall db upgrade"):
            schema.require_head()
        schema.upgrade()
        schema.require_head()
        previous = schema.code_head()
        schema.downgrade("-1")  # an old database under new code
        with pytest.raises(schema.SchemaMismatch, match=f"expects {previous}; run `oncall db upgrade`"):
            schema.require_head()
        schema.upgrade()
        _stamp(fresh_app, "0999")  # a database migrated by newer code than this
        with pytest.raises(schema.SchemaMismatch, match="0999, newer than this code knows"):
            schema.require_head()


@pytest.mark.slow
@pytest.mark.host_clock  # separate processes
def test_worker_and_web_refuse_to_start_on_another_schema_and_a_running_worker_stops(fresh_app, tmp_path):
    with fresh_app.app_context():
        schema.upgrade()
    env = processes.env_for(fresh_app.config["DATABASE_URL"], tmp_path / "pages.jsonl", SCHEMA_CHECK_SECONDS=0.5)
    worker = processes.start(["worker"], env, tmp_path / "worker.log")
    try:
        processes.wait_for(lambda: "started" in (tmp_path / "worker.log").read_text(), timeout=30,
                           what="the worker to start")
        _stamp(fresh_app, "0999")
        assert worker.wait(timeout=20) != 0
    finally:
        processes.stop(worker)
    assert "stopping: the database is at revision 0999, newer than this code knows" in (tmp_path / "worker.log").read_text()

    for command in (["worker", "--once"], ["run", "--port", "1"]):
        done = subprocess.run([processes.ONCALL, *command], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0
        assert "not starting: the database is at revision 0999" in done.stderr and "Traceback" not in done.stderr
    # What gunicorn loads: the application factory refuses too, so the master exits instead of serving.
    web = subprocess.run([sys.executable, "-c", "from oncall.wsgi import make_app; make_app()"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60)
    assert web.returncode != 0 and "SchemaMismatch: the database is at revision 0999" in web.stderr
