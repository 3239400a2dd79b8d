"""Shared pieces of the HTTP benchmarks: seed a database, run gunicorn, drive it with wrk."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, time as wall, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc
POSTGRES_BENCH_URL = os.environ.get(
    "ONCALL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/oncall_bench"
)
# Benchmarks run on databases outside the instance folder, where the service refuses to start without a
# secret key of its own; the apps and servers they start (which inherit the environment) share this one.
os.environ.setdefault("ONCALL_SECRET_KEY", "bench-only-secret-key-not-for-any-real-instance")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_postgres_database(url: str) -> bool:
    """Create the benchmark database if needed; False when PostgreSQL is not reachable."""
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # report and skip: the benchmark still runs on SQLite
        print(f"  PostgreSQL unavailable ({type(exc).__name__}); skipping it")
        return False
    finally:
        admin.dispose()
    return True


def fresh_database(url: str) -> None:
    from sqlalchemy import text

    from oncall.db import make_engine

    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def seed_team(url: str, *, overrides: int = 200, time_off: int = 50) -> dict:
    """Migrate `url` and create a team with a weekly primary and a daily secondary rotation, the given number
    of overrides on the primary and time-off entries spread over its participants. Returns ids and a token."""
    from oncall.schema import upgrade

    from oncall import create_app
    from oncall.db import get_sessionmaker
    from oncall.people import service as people
    from oncall.people.tokens import create_api_token
    from oncall.schedules import service as schedules

    fresh_database(url)
    app = create_app({"DATABASE_URL": url})
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        with get_sessionmaker().begin() as session:
            users = [people.create_user(session, name=f"Engineer {i}", email=f"e{i}@example.com",
                                        phone=f"+1415555{i:04d}", time_zone="America/New_York") for i in range(8)]
            admin = people.ensure_user(session, email="bench@example.com", admin=True)
            team = people.create_team(session, name="Payments", slug="payments", time_zone="America/New_York")
            start = (now - timedelta(days=120)).date()
            common = {"team_id": team.id, "time_zone": "America/New_York", "handoff_time": wall(9, 0),
                      "start_date": start}
            primary = schedules.create_rotation(session, name="Primary", shift_length={"unit": "weeks", "count": 1},
                                                participant_ids=[u.id for u in users[:4]], **common)
            secondary = schedules.create_rotation(session, name="Secondary", shift_length={"unit": "days", "count": 1},
                                                  participant_ids=[u.id for u in users[4:]], **common)
            origin = datetime.combine(start, wall(0, 0), UTC)
            for i in range(overrides):  # one 12-hour override per 1.5 days, the whole span non-overlapping
                begin = origin + timedelta(hours=36 * i)
                schedules.add_override(session, rotation_id=primary.id, user_id=users[i % 8].id, start_at=begin,
                                       end_at=begin + timedelta(hours=12), now=now)
            for i in range(time_off):
                begin = origin + timedelta(days=6 * i + 1)
                schedules.add_time_off(session, user_id=users[i % 8].id, start_at=begin,
                                       end_at=begin + timedelta(days=2), now=now)
            token = create_api_token(session, user=admin, name="bench")
            ids = {"team_id": team.id, "primary_id": primary.id, "secondary_id": secondary.id, "token": token}
    from oncall.db import get_engine

    get_engine(app).dispose()
    return ids


# One load client asks far more often than any per-client rate limit allows: limits this high keep the
# limiter's work on every request (it is part of the cost measured) without ever refusing one.
UNREACHABLE_LIMITS = {"ONCALL_RATELIMIT_API": "100000000 per minute", "ONCALL_RATELIMIT_FEEDS": "100000000 per minute"}


@contextmanager
def gunicorn(env: dict, *, workers: int = 2, app: str = "wsgi:app"):
    """Serve `app` on a free port; rate limits are out of reach unless `env` sets them."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         app],
        cwd=ROOT, env={**os.environ, **UNREACHABLE_LIMITS, **env}, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start")
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, *, headers: dict[str, str] | None = None, seconds: int = 10, connections: int = 8,
        threads: int = 2) -> dict:
    """Requests/s and latency percentiles (ms) of `url` under `connections` concurrent clients. Requests slower
    than 10 s count as errors; a run that completes nothing reports zero latencies."""
    if shutil.which("wrk") is None:
        return python_load(url, headers=headers, seconds=seconds, connections=connections)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    for key, value in (headers or {}).items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "tool": "wrk", "p50": 0.0,
              "p99": 0.0}
    for pct in ("50", "99"):
        if m := re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)$", out, re.M):
            result[f"p{pct}"] = _ms(m.group(1), m.group(2))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", out)
    result["errors"] = (int(errors.group(1)) if errors else 0) + (int(timeouts.group(1)) if timeouts else 0)
    return result


def python_load(url: str, *, headers=None, seconds: int = 10, connections: int = 8) -> dict:
    """Fallback when wrk is not installed: threads with keep-alive connections (slower client, lower figures)."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        mine = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            response.read()
            if response.status >= 400:
                errors[0] += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port)
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"rps": len(latencies) / seconds, "p50": latencies[len(latencies) // 2],
            "p99": latencies[int(len(latencies) * 0.99)], "errors": errors[0], "tool": "python"}
