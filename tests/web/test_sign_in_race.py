"""The sign-in throttle under a burst: 30 guesses sent at once, as real concurrent HTTP requests to a
threaded server with its own connections, get at most MAX_FAILURES password checks (SQLite and PostgreSQL)."""
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.security import generate_password_hash

from oncall import create_app
from oncall.db import Base, get_engine
from oncall.people.models import User
from oncall.web import signin
from oncall.web.models import LoginFailure

BURST = 30
EMAIL = "burst-target@example.com"


@pytest.fixture()
def server(database_url, _migrated_app, tmp_path):
    """A threaded server on 127.0.0.1 with its own engine: each request has its own connection and transaction."""
    url = database_url if not database_url.startswith("sqlite") else f"sqlite:///{tmp_path / 'race.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "race-test", "WTF_CSRF_ENABLED": False,
                      "PUBLIC_URL": "http://127.0.0.1", "RATELIMIT_ENABLED": False})
    engine = get_engine(app)
    if url != database_url:
        Base.metadata.create_all(engine)
    with Session(engine) as s, s.begin():
        s.add(User(name="Burst", email=EMAIL, time_zone="UTC",
                   password_hash=generate_password_hash("the right password", method="pbkdf2:sha256:1000")))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", engine
    finally:
        httpd.shutdown()
        thread.join()
        with Session(engine) as s, s.begin():
            s.execute(delete(LoginFailure).where(LoginFailure.email == EMAIL))
            s.execute(delete(User).where(User.email == EMAIL))
        engine.dispose()


@pytest.fixture()
def checks(monkeypatch):
    """Counts password checks, each made slow like a real scrypt so that unserialized attempts would overlap."""
    made, lock = [], threading.Lock()
    real = signin.check_password_hash

    def counting(stored, password):
        with lock:
            made.append(password)
        time.sleep(0.05)
        return real(stored, password)

    monkeypatch.setattr(signin, "check_password_hash", counting)
    return made


def _sign_in(base: str, password: str, start: threading.Barrier) -> int:
    body = urllib.parse.urlencode({"email": EMAIL, "password": password}).encode()
    request = urllib.request.Request(f"{base}/sign-in", data=body, method="POST")
    start.wait()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _burst(base: str, passwords: list[str]) -> list[int]:
    start = threading.Barrier(len(passwords))
    with ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(lambda p: _sign_in(base, p, start), passwords))


def test_a_burst_of_guesses_gets_at_most_five_checked(server, checks):
    base, engine = server
    statuses = _burst(base, [f"guess {i}" for i in range(BURST)])
    assert len(checks) == signin.MAX_FAILURES
    assert sorted(statuses) == [401] * signin.MAX_FAILURES + [429] * (BURST - signin.MAX_FAILURES)
    with Session(engine) as s:
        recorded = s.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.email == EMAIL))
    assert recorded == signin.MAX_FAILURES
