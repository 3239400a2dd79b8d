"""The worker: its jobs in-process, `oncall worker` as a process, and the worker inside `oncall run`."""
import json
import socket
import time
import urllib.request

import pytest
from oncall.schema import upgrade

from oncall import create_app
from oncall.clock import utcnow
from oncall.db import get_engine, get_sessionmaker
from oncall.paging.console import ConsoleNotifier, FileNotifier
from oncall.paging.dispatch import notifier_from_config
from oncall.people.service import ensure_user
from oncall.people.tokens import create_api_token
from oncall.worker import Worker
from tests.escalation import processes
from tests.incidents.conftest import T0, minutes, rotation


def test_run_once_fires_due_steps_and_sends_their_pages(app, world, notifier, clock):
    world.set_policy("SEV2", [
        {"delay_minutes": 0, "targets": [rotation(world.primary_id)], "channels": ["sms"]},
        {"delay_minutes": 1, "targets": [rotation(world.secondary_id)], "channels": ["voice"]},
    ])
    # The worker reads oncall.clock: five minutes after an incident opened in alice's and carol's first week.
    clock.set(T0 + minutes(5))
    incident = world.open("SEV2", at=T0)
    worker = Worker(app, notifier)
    assert worker.run_once() == (1, 2)
    assert sorted((s["channel"], s["to"]) for s in notifier.sent) == [("sms", world.phone("alice")),
                                                                      ("voice", world.phone("carol"))]
    assert {n.state for n in world.notifications(incident.id)} == {"sent"}
    assert worker.run_once() == (0, 0)


def test_pages_written_during_a_dispatch_go_in_its_next_pass(app, world, notifier, clock):
    # The SMS fails for good, so a call falls back for it while the pass runs: the same dispatch sends it at once
    # instead of leaving it to the next run of the job (WORKER_DISPATCH_SECONDS later).
    from oncall.errors import DeliveryFailed

    world.set_policy("SEV2", [{"delay_minutes": 0, "targets": [rotation(world.primary_id)], "channels": ["sms"]}])
    clock.set(T0)
    incident = world.open("SEV2", at=T0)
    notifier.fail_with[world.phone("alice")] = [DeliveryFailed("unknown number")]
    assert Worker(app, notifier).dispatch() == 2
    assert [(n.channel, n.state) for n in world.notifications(incident.id)] == [("sms", "failed"), ("voice", "sent")]


@pytest.mark.parametrize("config,kind", [
    ({}, ConsoleNotifier),
    ({"NOTIFIER": "console", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+1"},
     ConsoleNotifier),
    ({"NOTIFIER": "file:/tmp/pages.jsonl"}, FileNotifier),
])
def test_the_notifier_follows_configuration(config, kind):
    assert isinstance(notifier_from_config(config), kind)


def test_twilio_credentials_select_the_gateway():
    gateway = notifier_from_config({"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "secret",
                                    "TWILIO_FROM_NUMBER": "+15005550006"})
    assert gateway.name == "twilio"
    gateway.close()


@pytest.mark.parametrize("config", [{"NOTIFIER": "pigeon"}, {"NOTIFIER": "twilio"}])
def test_impossible_notifier_settings_are_refused(config):
    with pytest.raises(ValueError):
        notifier_from_config(config)


def test_console_notifier_prints_pages(capsys):
    provider_id = ConsoleNotifier().send_sms(to="+14155550101", body="[SEV1] Down\nReply 1234A to ack")
    out = capsys.readouterr().out
    assert provider_id.startswith("console-") and provider_id in out
    assert "SMS to +14155550101" in out and "Reply 1234A to ack" in out


# --- real processes on SQLite ------------------------------------------------------------------------------

@pytest.fixture()
def sqlite_app(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'oncall.db'}", "SECRET_KEY": "test",
                      "PUBLIC_URL": "https://oncall.example.com"})
    with app.app_context():
        upgrade()
    yield app
    get_engine(app).dispose()


def _seed(app, *, incident_at=None) -> str:
    """A team of one with a phone, its admin's API token; optionally an incident opened at `incident_at`."""
    from oncall.incidents.service import create_incident
    from oncall.people import service as people

    with get_sessionmaker(app).begin() as session:
        admin = ensure_user(session, email="admin@example.com", admin=True)
        token = create_api_token(session, user=admin)
        user = people.create_user(session, name="Pat", email="pat@example.com", phone="+14155550199",
                                  time_zone="UTC")
        team = people.create_team(session, name="Ops", slug="ops", time_zone="UTC")
        people.set_members(session, team, user_ids=[user.id], admin_ids=[])
        if incident_at is not None:
            create_incident(session, team_id=team.id, severity="SEV1", title="Disk full", now=incident_at)
    return token


@pytest.mark.slow
@pytest.mark.host_clock  # the worker process reads the host's clock
def test_oncall_worker_once_sends_what_is_due(sqlite_app, tmp_path):
    _seed(sqlite_app, incident_at=utcnow())
    pages = tmp_path / "pages.jsonl"
    env = processes.env_for(sqlite_app.config["DATABASE_URL"], pages)
    import subprocess

    done = subprocess.run([processes.ONCALL, "worker", "--once"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "escalated 0 incident(s), handled 2 notification(s)"
    assert sorted((p["channel"], p["to"]) for p in processes.read_pages(pages)) == [("sms", "+14155550199"),
                                                                                   ("voice", "+14155550199")]


@pytest.mark.slow
@pytest.mark.host_clock  # the worker process reads the host's clock
def test_oncall_worker_runs_until_sigterm(sqlite_app, tmp_path):
    pages = tmp_path / "pages.jsonl"
    env = processes.env_for(sqlite_app.config["DATABASE_URL"], pages)
    worker = processes.start(["worker"], env, tmp_path / "worker.log")
    try:
        _seed(sqlite_app, incident_at=utcnow())
        processes.wait_for(lambda: len(processes.read_pages(pages)) == 2, timeout=20, what="two pages")
    finally:
        assert processes.stop(worker) == 0
    assert "worker" in (tmp_path / "worker.log").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.host_clock  # the worker process reads the host's clock
def test_the_web_process_runs_the_worker_when_asked(sqlite_app, tmp_path):
    """The quick start: one `oncall run` process on SQLite pages with nothing else started."""
    token = _seed(sqlite_app)
    pages, port = tmp_path / "pages.jsonl", _free_port()
    env = processes.env_for(sqlite_app.config["DATABASE_URL"], pages, RUN_WORKER_IN_WEB="true")
    web = processes.start(["run", "--port", str(port)], env, tmp_path / "web.log")
    base = f"http://127.0.0.1:{port}"
    try:
        processes.wait_for(lambda: _get(f"{base}/healthz"), timeout=20, what="the web server")
        body = json.dumps({"team_id": 1, "severity": "SEV1", "title": "Checkout down"}).encode()
        request = urllib.request.Request(f"{base}/api/v1/incidents", data=body, method="POST", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        started = time.time()
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        sent = processes.wait_for(lambda: len(processes.read_pages(pages)) == 2 and processes.read_pages(pages),
                                  timeout=10, what="the SMS and the call")
        # The web nudges its in-process dispatcher, so the pages go out at once (well within a second on a quiet
        # machine: bench/bench_escalation.py measures it). Timing belongs there: under CI's parallel load this
        # only checks that nothing else had to be started.
        assert all(page["at"] - started < 10.0 for page in sent)
        assert sorted(page["channel"] for page in sent) == ["sms", "voice"]
        assert all("Checkout down" in page["body"] for page in sent)
    finally:
        processes.stop(web)


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def test_an_idle_worker_on_sqlite_never_takes_the_write_lock(sqlite_app):
    """The worker polls (tick every second, dispatch four times a second); with nothing due it only reads, so
    the web's writes never queue behind it. Once something is due it does write."""
    from sqlalchemy import event

    from oncall.incidents.service import create_incident

    _seed(sqlite_app)
    statements: list[str] = []
    engine = get_engine(sqlite_app)
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: statements.append(statement))
    worker = Worker(sqlite_app, ConsoleNotifier())
    for _ in range(5):
        assert worker.tick() == 0 and worker.dispatch() == 0
    assert statements and not [s for s in statements if s.startswith("BEGIN IMMEDIATE")]

    with get_sessionmaker(sqlite_app).begin() as session:
        create_incident(session, team_id=1, severity="SEV1", title="Disk full", now=utcnow())
    statements.clear()
    assert worker.dispatch() == 2
    assert [s for s in statements if s.startswith("BEGIN IMMEDIATE")]
