"""Logging: one line per event, as text or JSON lines (ONCALL_LOG_FORMAT=json), carrying the request id and
the incident and notification ids where they apply, and never a secret.

Redaction happens where every log record is born (a LogRecord factory), so it holds for every logger and
every handler alike: the web's, the worker's, werkzeug's and gunicorn's request lines, error logs with their
tracebacks, libraries' debug output. A record's message is rendered once, redacted, and frozen. What counts
as a secret:
- the shapes of this service's secrets, wherever they appear: anything after /calendars or /heartbeats in a path (any
  number of slashes, percent-encoded or not), API and integration tokens, 43-character URL-safe secrets
  (feeds, heartbeat pings), credentials in Authorization values, query parameters and key=value pairs whose
  name says token, secret, password, key or signature;
- the configured secrets themselves (Twilio auth token, secret key, metrics token, database password);
- during a request, what that request carries as credentials: its bearer token or cookie, and form or JSON
  fields named like a password, token or secret.
"""
import json
import logging
import os
import re
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from time import perf_counter
from urllib.parse import unquote

from flask import Flask, g, has_request_context, request
from werkzeug.serving import WSGIRequestHandler

REDACTED = "<redacted>"
FIELDS = ("request_id", "incident_id", "notification_id")
FORMAT_ENV = "ONCALL_LOG_FORMAT"

_SECRET_NAME = r"[\w.-]*(?:token|secret|passw(?:or)?d|api[_-]?key|signature|auth(?!or))[\w.-]*"
_PATTERNS = [
    # A calendar feed's path is its credential; whatever follows /calendars (typos and odd slashes included,
    # since // and /./ still reach or redirect to the feed) is dropped.
    (re.compile(r"(?i)(/calendars?|/heartbeats?)(?:/|%2f)(?!<redacted>)[^\s?#\"'<>]*"), r"\1/" + REDACTED),
    # API and integration tokens (people/tokens.py, incidents/service.py); metric names have no capital or digit.
    (re.compile(r"oncall_(int_)?(?=[A-Za-z0-9_-]*[A-Z0-9])[A-Za-z0-9_-]{43,}"), r"oncall_\1" + REDACTED),
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + REDACTED),
    (re.compile(r"(?i)([?&;]" + _SECRET_NAME + r"=)[^&\s\"'#]*"), r"\1" + REDACTED),
    (re.compile(r"(?i)(\b" + _SECRET_NAME + r"['\"]?\s*[:=]\s*['\"]?)(?!<redacted>)[^\s'\",}&]+"), r"\1" + REDACTED),
    # secrets.token_urlsafe(32): 43 characters; snake_case names of that length (no digit, no capital) stay.
    (re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z0-9])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"), REDACTED),
]
_ENCODED = re.compile(r"\S*%[0-9A-Fa-f]{2}\S*")
MIN_KNOWN_LENGTH = 8  # shorter configured values ("test") would blank ordinary words

_known: set[str] = set()
_known_lock = threading.Lock()
_context: ContextVar[dict] = ContextVar("oncall_log_context", default={})


def remember_secret(value: str | None) -> None:
    """A value never to be logged (configuration: tokens, keys, passwords)."""
    if value and len(str(value)) >= MIN_KNOWN_LENGTH:
        with _known_lock:
            _known.add(str(value))


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """`text` without any secret this module knows of (see the module's docstring)."""
    values = sorted({*_known, *(v for v in extra if v and len(v) >= MIN_KNOWN_LENGTH)}, key=len, reverse=True)
    # Percent-encoded text (a raw request line) is judged decoded: /calendar%73/... reaches the feed too.
    text = _ENCODED.sub(lambda m: _redact_encoded(m.group(), values), text)
    return _redact_plain(text, values)


def _redact_plain(text: str, values: list[str]) -> str:
    # Shapes first: a path loses everything after /calendars at once, not piece by piece.
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def _redact_encoded(token: str, values: list[str]) -> str:
    decoded = token
    for _ in range(3):  # double and triple encoding decode to the same path on some proxies
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    cleaned = _redact_plain(decoded, values)
    return token if cleaned == decoded else cleaned


# --- context: request, incident and notification ids ------------------------------------------------------

@contextmanager
def context(**ids) -> Iterator[None]:
    """Log records made inside the block carry these ids (worker jobs: incident_id, notification_id)."""
    token = _context.set({**_context.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def _request_context() -> tuple[dict, set[str]]:
    """Ids and credentials of the current request (none outside a request)."""
    if not has_request_context():
        return {}, set()
    ids = {"request_id": g.get("request_id")}
    view_args = request.view_args or {}
    if "incident_id" in view_args:
        ids["incident_id"] = view_args["incident_id"]
    if request.path.startswith("/twilio/"):  # Twilio's callbacks name them in the query (paging/outbox.py)
        for key, name in (("incident", "incident_id"), ("notification", "notification_id")):
            value = request.args.get(key, "")
            if value.isdigit():
                ids[name] = int(value)
    secrets = set()
    _, _, credential = request.headers.get("Authorization", "").partition(" ")
    secrets.add(credential.strip())
    secrets.update(request.cookies.values())
    secrets.add(view_args.get("secret") or "")
    # Only bodies already parsed: a log line must never read (and so consume) a request's body.
    form = request.__dict__.get("form")
    if form:
        secrets.update(v for k, v in form.items(multi=True) if re.fullmatch(_SECRET_NAME, k, re.I))
    body = getattr(request, "_cached_json", (None, None))[0]
    if isinstance(body, dict):
        secrets.update(v for k, v in body.items() if isinstance(v, str) and re.fullmatch(_SECRET_NAME, k, re.I))
    return ids, secrets


# --- records ----------------------------------------------------------------------------------------------

_exception_formatter = logging.Formatter()


def _freeze(record: logging.LogRecord) -> None:
    ids, secrets = _request_context()
    # Not as attributes of their own: `extra=` may still set those, and logging refuses to overwrite.
    record.oncall_context = {**ids, **_context.get()}
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what there is rather than lose the line
        message = f"{record.msg} {record.args!r}"
    record.msg, record.args = redact(message, secrets), None
    if record.exc_info and not record.exc_text:
        record.exc_text = _exception_formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, secrets)


_installed_factory = None


def install_redaction() -> None:
    """Make every log record in this process redacted at birth (idempotent)."""
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _freeze(record)
        return record

    _installed_factory = factory
    logging.setLogRecordFactory(factory)


# --- formats ----------------------------------------------------------------------------------------------

def _one_line(text: str) -> str:
    # One event, one line: a traceback or a person's text with line breaks cannot forge further lines.
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def ids_of(record: logging.LogRecord) -> dict:
    """The record's request, incident and notification ids: given with `extra=`, else from its context."""
    context = getattr(record, "oncall_context", {})
    ids = {name: getattr(record, name, None) for name in FIELDS}
    return {name: context.get(name) if value is None else value for name, value in ids.items()
            if (context.get(name) if value is None else value) is not None}


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.ids = "".join(f" {name}={value}" for name, value in ids_of(record).items())
        return _one_line(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"), "level": record.levelname, "logger": record.name,
                "message": record.getMessage(), "pid": record.process}
        line |= ids_of(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str)


_handler: logging.Handler | None = None


def configure(fmt: str | None = None, *, level: str | int | None = None, stream=None) -> logging.Handler:
    """The process's logging: one handler on the root logger (stderr), text or JSON. Called by the `oncall`
    command and wsgi.py; calling it again replaces the handler it installed."""
    global _handler
    fmt = (fmt or os.environ.get(FORMAT_ENV) or "text").strip().lower()
    if fmt not in ("text", "json"):
        raise ValueError(f"{FORMAT_ENV} must be text or json, not {fmt!r}")
    install_redaction()
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(stream or sys.stderr)
    _handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(_handler)
    # Flask gives the app's logger ("oncall") a handler of its own when none is configured yet; with ours on
    # the root, that would print every oncall.* line twice, the second time in Flask's multi-line format.
    from flask.logging import default_handler

    logging.getLogger("oncall").removeHandler(default_handler)
    root.setLevel(level or os.environ.get("ONCALL_LOG_LEVEL", "INFO").upper())
    # Chatter that is not an event: the Twilio SDK logs each API request in several INFO lines (its errors
    # reach us as exceptions), APScheduler two lines per job run, several times a second.
    for name in ("twilio.http_client", "apscheduler.executors"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return _handler


class DevServerRequestHandler(WSGIRequestHandler):
    """`oncall run`: the app logs one line per request itself (with its request id), so the development
    server's own request line would only repeat it. Its errors are still logged."""

    def log_request(self, code="-", size="-") -> None:
        return None


# --- per request ------------------------------------------------------------------------------------------

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
access_log = logging.getLogger("oncall.access")


def _assign_request_id() -> None:
    given = request.headers.get("X-Request-ID", "")
    # A caller's id is kept so logs join up across services, if it is plain enough not to forge a log line.
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _log_request(response):
    request_id = g.get("request_id")
    if request_id:
        response.headers["X-Request-ID"] = request_id
    started = g.get("oncall_request_started")  # set by metrics.py, first of all before_request hooks
    took = f" {(perf_counter() - started) * 1000:.1f}ms" if started is not None else ""
    access_log.info("%s %s %s%s", request.method, request.full_path.rstrip("?"), response.status_code, took)
    return response


def remember_configured_secrets(config) -> None:
    for key in ("TWILIO_AUTH_TOKEN", "SECRET_KEY", "METRICS_TOKEN"):
        remember_secret(config.get(key))
    sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
    if sid and token:
        import base64

        remember_secret(base64.b64encode(f"{sid}:{token}".encode()).decode())  # HTTP Basic, as the SDK sends it
    from sqlalchemy.engine import make_url

    try:
        remember_secret(make_url(config["DATABASE_URL"]).password)
    except Exception:  # an unparsable URL fails loudly elsewhere; nothing to remember here
        pass


def init_app(app: Flask) -> None:
    install_redaction()
    remember_configured_secrets(app.config)
    app.before_request_funcs.setdefault(None, []).insert(0, _assign_request_id)
    app.after_request(_log_request)
