"""Logs: one line per event (text or JSON), request/incident/notification ids, and no secret in any line:
the redaction rules one by one, then a full run with every kind of secret whose every log line is grepped."""
import http.client
import io
import json
import logging
import re
import threading

import pytest
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from oncall.operations import logs
from oncall.worker import Worker

S = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde"  # a feed secret's shape (token_urlsafe(32))
assert len(S) == 43


@pytest.mark.parametrize("line", [
    f'127.0.0.1 - - "GET /calendars/{S}.ics HTTP/1.1" 200 -',
    f'"GET //calendars/{S}.ics HTTP/1.1" 200 -',                 # leading slashes are one to werkzeug
    f'"GET /calendars//{S}.ics HTTP/1.1" 404 -',
    f'"GET /calendars/./{S}.ics HTTP/1.1" 404 -',
    f'"GET /calendar%73/{S}.ics HTTP/1.1" 200 -',                # percent-encoded letters reach the feed too
    f'"GET %2Fcalendars%2F{S}.ics HTTP/1.1" 404 -',
    f'"GET /calendars/%{ord(S[0]):02X}{S[1:]}.ics HTTP/1.1" 200 -',   # the secret itself encoded
    f'"GET /Calendars/{S[:20]}.ics?reminder=30 HTTP/1.1" 404 -',  # a typo still carries (part of) the secret
    f"subscribe at webcal://oncall.example.com/calendars/{S}.ics",
    f"[parameters: ('{S}',)]",                                   # a bare secret in a database error
])
def test_feed_secrets_are_redacted_in_any_shape(line):
    redacted = logs.redact(line)
    assert S not in redacted and S[1:] not in redacted and S[:20] not in redacted, redacted
    assert logs.REDACTED in redacted


@pytest.mark.parametrize("line,kept", [
    ("Authorization: Bearer oncall_" + S, "Authorization: Bearer "),
    ("token oncall_int_" + S + " rejected", "rejected"),
    ("GET /api/v1/x?access_token=hunter2hunter2&start=2026-01-01 200", "start=2026-01-01"),
    ("POST /hook?signature=abc123def456 200", "POST /hook?signature="),
    ("form {'email': 'a@example.com', 'password': 'correct horse'}", "'email': 'a@example.com'"),
    ("password=Tr0ub4dor&3 email=a@example.com", "email=a@example.com"),
    ("basic QUMxMjM0NTY3ODkwOnNlY3JldHRva2Vu", "basic "),
])
def test_credentials_are_redacted_and_the_rest_kept(line, kept):
    redacted = logs.redact(line)
    assert kept in redacted
    for secret in ("oncall_" + S, S, "hunter2hunter2", "abc123def456", "correct horse", "Tr0ub4dor&3",
                   "QUMxMjM0NTY3ODkwOnNlY3JldHRva2Vu"):
        assert secret not in redacted, redacted


@pytest.mark.parametrize("line", [
    "oncall_http_request_duration_seconds_count 12",
    "notification 7: sms to +14155550101 sent through twilio, id SM" + "0" * 32,
    "incident 42 escalated to step 2 of round 0 (SEV1 checkout_errors_while_paying_with_cards_ab)",
    "GET /api/v1/rotations/3/shifts?start=2026-03-01T00:00:00Z&end=2026-04-01T00:00:00Z 200 3.1ms",
    "the author_id=3 field",
])
def test_ordinary_text_is_left_alone(line):
    assert logs.redact(line) == line


def test_configured_secrets_are_redacted_wherever_they_appear():
    logs.remember_secret("f00dfeedf00dfeedf00dfeedf00dfeed")  # a Twilio auth token's shape: 32 hex digits
    logs.remember_secret("short")  # too short to redact without blanking ordinary words
    assert logs.redact("auth f00dfeedf00dfeedf00dfeedf00dfeed failed, in short") == "auth <redacted> failed, in short"


# --- formats and context -----------------------------------------------------------------------------------

@pytest.fixture()
def captured():
    """What this process's configured log handler writes, as `oncall` and wsgi.py set it up."""
    root = logging.getLogger()
    level = root.level

    def configure(fmt: str) -> io.StringIO:
        stream = io.StringIO()
        logs.configure(fmt, level=logging.DEBUG, stream=stream)
        return stream

    yield configure
    if logs._handler is not None:
        root.removeHandler(logs._handler)
        logs._handler = None
    root.setLevel(level)


def test_json_lines_one_per_event_with_ids_and_the_exception_inside(captured):
    stream = captured("json")
    log = logging.getLogger("oncall.test")
    with logs.context(incident_id=42, notification_id=7):
        log.info("sent\nsecond line of the same event")
    try:
        raise RuntimeError(f"boom for /calendars/{S}.ics")
    except RuntimeError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = map(json.loads, lines)
    assert (first["message"], first["incident_id"], first["notification_id"], first["level"]) == (
        "sent\nsecond line of the same event", 42, 7, "INFO")
    assert first["logger"] == "oncall.test" and first["time"].endswith("Z")
    assert "RuntimeError: boom for /calendars/<redacted>" in second["exception"] and "incident_id" not in second


def test_text_lines_one_per_event(captured):
    stream = captured("text")
    log = logging.getLogger("oncall.test")
    try:
        raise ValueError("bad\nworse")
    except ValueError:
        with logs.context(incident_id=9):
            log.exception("it broke:\n%s", "forged line")
    [line] = stream.getvalue().splitlines()
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ERROR oncall.test incident_id=9: it broke:\\nforged line", line)
    assert "Traceback (most recent call last):\\n" in line and "ValueError: bad\\nworse" in line


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="ONCALL_LOG_FORMAT"):
        logs.configure("xml")


def test_requests_carry_an_id_given_or_made(client, captured):
    stream = captured("json")
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.1"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.1"
    forged = client.get("/healthz", headers={"X-Request-ID": "x y\" injected=1"})
    made = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])
    access = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in access if line["logger"] == "oncall.access"]
    assert [line["request_id"] for line in access] == ["lb-7f3a.1", forged.headers["X-Request-ID"],
                                                       made.headers["X-Request-ID"]]
    assert re.fullmatch(r"GET /healthz 200 \d+\.\dms", access[0]["message"])


# --- a full run, every secret, every log line --------------------------------------------------------------

PASSWORD = "correct horse battery staple 9"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_full_run_logs_no_secret(fmt, app, api, client, session, make_user, make_rotation, twilio_config,
                                   fake_twilio, captured, monkeypatch):
    """Sign-in with a password, API and integration tokens, a calendar feed fetched in every path shape
    through a real HTTP server, an Alertmanager webhook, pages through the real Twilio SDK to the fake
    Twilio, its signed callbacks, and 500s on a feed and on the API: all at DEBUG, and no secret anywhere."""
    from oncall.people.models import User
    from oncall.web.signin import set_password
    from tests.web.conftest import csrf_from

    stream = captured(fmt)
    logging.getLogger("werkzeug").setLevel(logging.DEBUG)
    monkeypatch.setattr(app, "testing", False)  # errors are answered and logged as in production
    twilio_token = twilio_config["TWILIO_AUTH_TOKEN"]
    logs.remember_configured_secrets(app.config)  # the app was built before the fake Twilio's were set

    person = make_user(phone="+14155550142")
    rotation = make_rotation([person["id"]])
    team_id = rotation["team_id"]
    user = session.get(User, person["id"])
    set_password(session, user=user, password=PASSWORD)
    session.commit()

    # The web: a wrong password, then the right one.
    token = csrf_from(client.get("/sign-in"))
    client.post("/sign-in", data={"email": person["email"], "password": PASSWORD + "x", "csrf_token": token})
    signed_in = client.post("/sign-in", data={"email": person["email"], "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 303
    cookie = client.get_cookie("session").value

    # Tokens: the API's (the `api` fixture's), an integration's, a calendar feed's secret.
    integration = api.post(f"/api/v1/teams/{team_id}/integrations", json={"type": "alertmanager"}).json["token"]
    feed_url = api.post("/api/v1/calendar-feeds", json={"scope": "rotation", "id": rotation["id"]}).json["url"]
    feed = re.search(r"/calendars/([^/]+)\.ics$", feed_url).group(1)
    ping_url = api.post(f"/api/v1/teams/{team_id}/heartbeats",
                        json={"name": "Backup", "interval_minutes": 5, "severity": "SEV3"}).json["ping_url"]
    heartbeat = ping_url.rsplit("/", 1)[1]

    # An alert comes in and pages by SMS and voice through the SDK; Twilio calls back, signed.
    alert = {"version": "4", "status": "firing", "receiver": "oncall", "groupKey": "g", "alerts": [{
        "status": "firing", "labels": {"alertname": "CheckoutDown", "severity": "critical"},
        "annotations": {"summary": "Checkout down"}, "startsAt": "2026-03-04T15:00:00Z",
        "fingerprint": "f1"}]}
    hook = client.post("/api/v1/integrations/alertmanager", json=alert,
                       headers={"Authorization": f"Bearer {integration}"})
    assert hook.status_code in (200, 201, 202), hook.json
    Worker(app).run_once()
    assert fake_twilio.messages or fake_twilio.calls
    for sent in fake_twilio.messages + fake_twilio.calls:
        fake_twilio.status_callback(sent.sid, "delivered" if sent.resource == "Messages" else "completed").post(client)
    fake_twilio.incoming_sms(f"{app.config['PUBLIC_URL']}/twilio/sms", from_=person["phone"], body="RR").post(client)

    # The feed through a real HTTP server (werkzeug's own request log on), in every path shape.
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        real_find = __import__("oncall.feeds.service", fromlist=["find_feed"]).find_feed
        statuses = {}
        for path in [f"/calendars/{feed}.ics", f"//calendars/{feed}.ics", f"/calendars//{feed}.ics",
                     f"/calendar%73/{feed}.ics", f"/calendars/{feed}.ics?token={feed}"]:
            statuses[path] = _raw_get(server.server_port, path)
        # Leading slashes are one to werkzeug; doubled ones inside are no feed, and never a redirect to one
        # (its Location would repeat the secret).
        assert statuses[f"/calendars/{feed}.ics"] == 200 and statuses[f"//calendars/{feed}.ics"] == 200
        assert statuses[f"/calendar%73/{feed}.ics"] == 200 and statuses[f"/calendars//{feed}.ics"] == 404
        # A heartbeat's ping URL, posted to as cron and Alertmanager do.
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.request("POST", f"/heartbeats/{heartbeat}", body=b"{}")
        assert connection.getresponse().status == 200
        connection.close()

        # A 500 on the feed: a database error whose parameters hold the secret, logged with its traceback.
        def broken(session, secret):
            raise OperationalError("SELECT calendar_feeds.id WHERE secret = ?", (secret,), Exception("disk I/O error"))

        monkeypatch.setattr("oncall.feeds.service.find_feed", broken)
        app.extensions.pop("oncall_feeds", None)  # forget the feed found above: look it up (and fail) again
        assert _raw_get(server.server_port, f"/calendars/{feed}.ics") == 500
        monkeypatch.setattr("oncall.feeds.service.find_feed", real_find)
    finally:
        server.shutdown()
        thread.join()

    # A 500 on the API whose exception text quotes the request's credentials.
    def leaky(*args, **kwargs):
        from flask import request

        raise RuntimeError(f"cannot list users for {request.headers['Authorization']} ({request.cookies})")

    monkeypatch.setattr("oncall.people.service.list_users", leaky)
    assert api.get("/api/v1/users").status_code == 500

    output = stream.getvalue()
    secrets = {"feed": feed, "heartbeat": heartbeat, "api token": api.token, "integration token": integration, "password": PASSWORD,
               "twilio auth token": twilio_token, "session cookie": cookie}
    leaked = {name for name, value in secrets.items() if value in output}
    assert not leaked, leaked
    # The run did log what would have leaked: requests to the feed, the 500s with their tracebacks, the pages.
    assert output.count("/calendars/<redacted>") >= 6 and "/heartbeats/<redacted>" in output
    assert "unhandled error on GET /calendars/<redacted>" in output and "OperationalError" in output
    assert "cannot list users for Bearer oncall_<redacted>" in output
    assert "GET /api/v1/users 500" in output
    lines = output.splitlines()
    if fmt == "json":
        parsed = [json.loads(line) for line in lines]  # every line is one whole JSON event
        assert any(line.get("request_id") for line in parsed)
    else:
        assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ", line) for line in lines)


def _raw_get(port: int, path: str) -> int:
    """A request with its path exactly as written (no client-side normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_each_timeline_event_is_a_log_line_with_its_ids(app, api, make_user, make_rotation, captured):
    """Incident events (created, step, each page sent) are logged once committed, with incident and
    notification ids as fields."""
    from tests.incidents.conftest import FakeNotifier

    stream = captured("json")
    person = make_user(phone="+14155550142")
    rotation = make_rotation([person["id"]])
    incident = api.post("/api/v1/incidents", json={"team_id": rotation["team_id"], "severity": "SEV1",
                                                   "title": "Checkout down"}).json
    Worker(app, FakeNotifier()).run_once()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    events = [e for e in events if e["logger"] == "oncall.incidents.events"]
    assert {e["incident_id"] for e in events} == {incident["id"]}
    assert events[0]["message"].startswith(f"incident {incident['id']} created: ")
    sent = [e for e in events if " notification: " in e["message"] and " sent" in e["message"]]
    assert len(sent) == 2 and all(isinstance(e["notification_id"], int) for e in sent)
    assert len({e["notification_id"] for e in sent}) == 2
