"""Real processes: a stopped `oncall worker` shows on /healthz and /metrics within the threshold, the worker
inside `oncall run` beats too, and gunicorn's several workers answer /metrics with the sum of all of them."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from oncall.schema import upgrade
from sqlalchemy import delete

from oncall import create_app
from oncall.db import get_engine, get_sessionmaker
from oncall.operations import multiproc
from oncall.operations.models import WorkerHeartbeat
from tests.conftest import POSTGRES_URL
from tests.escalation import processes
from tests.operations.test_metrics import samples

# Heartbeats are stamped by the workers' processes on the host's clock, and /healthz compares them with it.
pytestmark = pytest.mark.host_clock

ROOT = Path(__file__).resolve().parents[2]
# Short thresholds for the test; the defaults (60 s, heartbeat every 10 s) are PRODUCT.md's.
FAST = {"HEARTBEAT_SECONDS": 0.2, "HEALTH_WORKER_SECONDS": 2}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def committed_app(request, tmp_path, _migrated_app):
    """An app whose writes really commit (the workers are other processes), on either database."""
    url = f"sqlite:///{tmp_path / 'oncall.db'}" if request.param == "sqlite" else POSTGRES_URL
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test",
                      **FAST})
    with app.app_context():
        upgrade()
    with get_sessionmaker(app).begin() as session:  # rows committed by other tests' worker processes
        session.execute(delete(WorkerHeartbeat))
    yield app
    with get_sessionmaker(app).begin() as session:
        session.execute(delete(WorkerHeartbeat))
    get_engine(app).dispose()


def test_a_stopped_worker_shows_on_healthz_and_metrics_within_the_threshold(committed_app, tmp_path):
    client = committed_app.test_client()
    assert client.get("/healthz").json["status"] == "degraded"  # no worker yet
    env = processes.env_for(committed_app.config["DATABASE_URL"], tmp_path / "pages.jsonl", **FAST)
    worker = processes.start(["worker"], env, tmp_path / "worker.log")
    try:
        body = processes.wait_for(lambda: (b := client.get("/healthz").json)["status"] == "ok" and b, timeout=30,
                                  what="the worker's first heartbeat")
        assert [w["pid"] for w in body["workers"]] == [worker.pid]
        found = samples(client.get("/metrics").get_data(as_text=True))
        assert found[("oncall_workers_alive", ())] == 1
        assert found[("oncall_worker_heartbeat_age_seconds", ())] < FAST["HEALTH_WORKER_SECONDS"]
    finally:
        processes.stop(worker, sig=signal.SIGKILL)
    stopped = time.monotonic()
    body = processes.wait_for(lambda: (b := client.get("/healthz").json)["status"] == "degraded" and b,
                              timeout=30, interval=0.05, what="/healthz to notice")
    noticed = time.monotonic() - stopped
    # Within the threshold after it stopped (plus the test's polling and a busy machine's scheduling).
    assert noticed <= FAST["HEALTH_WORKER_SECONDS"] + 1.5, noticed
    assert body["reasons"] == ["no worker heartbeat in the last 2 s"]
    assert body["workers"][0]["alive"] is False
    found = samples(client.get("/metrics").get_data(as_text=True))
    assert found[("oncall_workers_alive", ())] == 0
    assert found[("oncall_worker_heartbeat_age_seconds", ())] > FAST["HEALTH_WORKER_SECONDS"]


@pytest.mark.slow
def test_the_worker_inside_the_web_process_beats_too(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'oncall.db'}", "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
    get_engine(app).dispose()
    port = _free_port()
    env = processes.env_for(f"sqlite:///{tmp_path / 'oncall.db'}", tmp_path / "pages.jsonl", RUN_WORKER_IN_WEB="true",
                            **FAST)
    web = processes.start(["run", "--port", str(port)], env, tmp_path / "web.log")
    try:
        body = processes.wait_for(
            lambda: (r := _try_get(f"http://127.0.0.1:{port}/healthz")) and r["status"] == "ok" and r,
            timeout=30, what="the in-web worker's heartbeat")
        assert [w["pid"] for w in body["workers"]] == [web.pid]
    finally:
        processes.stop(web)


def _try_get(url: str):
    try:
        status, text = _get(url, timeout=1)
    except OSError:
        return None
    return json.loads(text) if status in (200, 503) else None


@pytest.mark.slow
def test_gunicorn_workers_answer_metrics_for_all_of_them(tmp_path):
    """Plain `gunicorn -w 3 wsgi:app` (no PROMETHEUS_MULTIPROC_DIR given): every worker reports every request."""
    url = f"sqlite:///{tmp_path / 'oncall.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
    get_engine(app).dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "PROMETHEUS"))}
    env |= {"ONCALL_DATABASE_URL": url, "ONCALL_SECRET_KEY": "test", "ONCALL_LOG_FORMAT": "json"}
    log = tmp_path / "gunicorn.log"
    with open(log, "ab") as handle:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "3", "-b", f"127.0.0.1:{port}",
                                   "--access-logfile", "-", "wsgi:app"], cwd=ROOT, env=env, stdout=handle,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        processes.wait_for(lambda: _try_get(f"{base}/healthz"), timeout=30, what="gunicorn")
        directory = multiproc.AUTO_ROOT / f"master-{server.pid}"
        requests = 0

        def spread() -> bool:
            # Concurrent batches until at least two workers have answered (the others may still be booting).
            nonlocal requests
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(lambda _: _get(f"{base}/api/v1/users")[0], range(20)))
            assert statuses == [401] * 20
            requests += 20
            return len(answered_by()) >= 2

        def answered_by() -> set[int]:
            lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
            return {line["pid"] for line in lines if line["message"].startswith("GET /api/v1/users 401")}

        processes.wait_for(spread, timeout=60, interval=0.2, what="requests answered by two gunicorn workers")
        assert len(list(directory.glob("histogram_*.db"))) >= 2  # each worker process writes its own file
        key = ("oncall_http_request_duration_seconds_count",
               (("method", "GET"), ("route", "/api/v1/users"), ("status", "401")))
        for _ in range(6):  # whichever worker answers
            assert samples(_get(f"{base}/metrics")[1])[key] == requests
        # gunicorn's own access log (when turned on) hides feed secrets too, in any path shape.
        secret = "Zx9" + "q" * 40
        for path in [f"//calendars/{secret}.ics", f"/calendar%73/{secret}.ics?token={secret}"]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            assert connection.getresponse().status == 404  # no such feed
            connection.close()
    finally:
        processes.stop(server)
    text = log.read_text()
    assert '"GET //calendars/<redacted> HTTP/1.1" 404' in text and secret not in text, text
    assert '"GET /calendars/<redacted>?token=<redacted> HTTP/1.1" 404' in text
