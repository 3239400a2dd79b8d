"""Fixtures: an app on SQLite (or PostgreSQL when ONCALL_TEST_DATABASE_URL is set), migrated once,
each test inside an outer transaction that is rolled back, so committing code still works."""
import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from oncall import clock as oncall_clock
from oncall import create_app
from oncall.db import get_engine
from oncall.people.models import User
from oncall.people.tokens import create_api_token
from tests.clock import TestClock

def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist (`-n 2`) each worker process gets a PostgreSQL database of its own, the configured
    name suffixed with the worker's id (test_gw0, test_gw1), created when missing: the suite drops and
    recreates a database's schema, and its concurrency tests count rows, so two workers never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


POSTGRES_URL = _worker_database(os.environ.get("ONCALL_TEST_DATABASE_URL"))


def pytest_collection_modifyitems(config, items):
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="needs ONCALL_TEST_DATABASE_URL (PostgreSQL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def reset_database(url: str) -> None:
    """Start from an empty database so the migrations themselves are under test."""
    if url.startswith("sqlite"):
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from oncall.db import make_engine

    parsed = make_url(url)
    admin_url = parsed.set(drivername="postgresql+psycopg", database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = parsed.database
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# Wednesday 4 March 2026, 10:00 in New York.
TEST_NOW = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _test_clock(request):
    """Every test runs on a clock of its own: `oncall.clock.utcnow()` (and `database_now`, which yields to it)
    answers TEST_NOW, then runs on at real speed, so no test depends on the day the suite runs. A test whose
    other processes (`oncall worker`, gunicorn) read the host's clock is marked `host_clock` and keeps it:
    .ci/run's shifted-clock pass moves that clock, and README.md says how to replay it."""
    if request.node.get_closest_marker("host_clock"):
        yield None
        return
    test_clock = TestClock(TEST_NOW)
    with oncall_clock.reading(test_clock):
        yield test_clock


@pytest.fixture()
def clock(_test_clock):
    """The test's clock (see _test_clock): `clock()` is now, `clock.set(at)` and `clock.advance(delta)` move it."""
    if _test_clock is None:
        pytest.fail("a host_clock test has no test clock")
    return _test_clock


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def _migrated_app(database_url):
    from oncall.schema import upgrade

    reset_database(database_url)
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "PUBLIC_URL": "https://oncall.example.com",
                      "SECRET_KEY": "test", "WTF_CSRF_ENABLED": True})
    with app.app_context():
        upgrade()
    yield app
    get_engine(app).dispose()


@pytest.fixture()
def app(_migrated_app):
    app = _migrated_app
    engine = get_engine(app)
    connection = engine.connect()
    outer = connection.begin()
    from oncall.schedules import cache

    cache.schedules.clear()  # ids repeat across rolled-back tests
    original = dict(app.extensions["oncall_db"])
    app.extensions["oncall_db"]["sessions"] = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    app.extensions["oncall_db"]["read_sessions"] = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint", info={"read_only": True}
    )
    try:
        yield app
    finally:
        app.extensions["oncall_db"].update(original)
        outer.rollback()
        connection.close()


@pytest.fixture()
def session(app):
    s = app.extensions["oncall_db"]["sessions"]()
    yield s
    s.close()


@pytest.fixture()
def client(app):
    return app.test_client()


class ApiClient:
    """The test client with a bearer token and JSON by default."""

    def __init__(self, client, token: str) -> None:
        self.client, self.token = client, token

    def _call(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return getattr(self.client, method)(path, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, **kw):
        return self._call("post", path, **kw)

    def put(self, path, **kw):
        return self._call("put", path, **kw)

    def patch(self, path, **kw):
        return self._call("patch", path, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


@pytest.fixture()
def make_token(session):
    def make(email: str = "admin@example.com", admin: bool = True) -> str:
        from oncall.people.service import ensure_user

        user = ensure_user(session, email=email, admin=admin)
        token = create_api_token(session, user=user)
        session.commit()
        return token

    return make


@pytest.fixture()
def api(client, make_token) -> ApiClient:
    return ApiClient(client, make_token())


@pytest.fixture()
def make_user(api):
    counter = iter(range(1, 10_000))

    def make(**overrides) -> dict:
        n = next(counter)
        body = {"name": f"User {n}", "email": f"user{n}@example.com", "phone": f"+1415555{n:04d}",
                "time_zone": "America/New_York"} | overrides
        response = api.post("/api/v1/users", json=body)
        assert response.status_code == 201, response.json
        return response.json

    return make


@pytest.fixture()
def make_team(api):
    counter = iter(range(1, 10_000))

    def make(**overrides) -> dict:
        n = next(counter)
        body = {"name": f"Team {n}", "slug": f"team-{n}", "time_zone": "America/New_York"} | overrides
        response = api.post("/api/v1/teams", json=body)
        assert response.status_code == 201, response.json
        return response.json

    return make


@pytest.fixture()
def make_rotation(api, make_team, make_user):
    def make(participants: int | list[int] = 3, **overrides) -> dict:
        team_id = overrides.pop("team_id", None) or make_team()["id"]
        ids = participants if isinstance(participants, list) else [make_user()["id"] for _ in range(participants)]
        body = {"team_id": team_id, "name": "Primary", "time_zone": "America/New_York", "handoff_time": "09:00",
                "shift_length": {"unit": "weeks", "count": 1}, "start_date": "2026-01-05",
                "participant_ids": ids} | overrides
        response = api.post("/api/v1/rotations", json=body)
        assert response.status_code == 201, response.json
        return response.json

    return make


def user_count(session) -> int:
    from sqlalchemy import func, select

    return session.scalar(select(func.count()).select_from(User))
