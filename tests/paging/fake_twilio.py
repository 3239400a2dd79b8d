"""A Twilio-compatible HTTP server for tests, checked against Twilio's own OpenAPI description of the 2010 API.

Tests point the real SDK at it (TWILIO_BASE_URL); every request is validated against
shared/data/twilio_api_v2010.json: the path template and method exist, Basic auth names the account in the
path, the form fields are properties of the operation's requestBody schema, required ones are present, and
types, patterns, enums and formats hold. Valid creates of Messages and Calls answer 201 with a body shaped
like the spec's response schema; everything is recorded in `requests`. `fail_next` makes the next requests
fail like Twilio does (429, 5xx, or a 4xx with a Twilio error code), `latency` answers every request late,
`fail_for` makes requests fail (5xx, 429, or hang past the client's timeout) for a while, and `webhook` builds
correctly signed callbacks (status, incoming SMS, Gather) for the app, the way Twilio would send them.
"""
from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import os
import re
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "twilio_api_v2010.json"
FORM = "application/x-www-form-urlencoded"
MORE_INFO = "https://www.twilio.com/docs/errors/{}"

# Twilio error codes the fake answers with (twilio.com/docs/api/errors/<code>).
AUTHENTICATE = 20003          # 401: bad or missing credentials
NOT_FOUND = 20404             # 404: no such resource path
METHOD_NOT_ALLOWED = 20004    # 405: the path exists, the method does not
UNKNOWN_PARAMETERS = 20001    # Twilio only warns and ignores; the fake rejects so that a typo fails the test
INVALID_PARAMETER = 60200     # Twilio's generic "Invalid parameter" code, for violations with no specific code
INVALID_TO = 21211            # "Invalid 'To' Phone Number"
MESSAGE_TO_REQUIRED = 21604   # "'To' phone number is required to send a Message"
MESSAGE_FROM_REQUIRED = 21603  # "'From' phone number is required"
MESSAGE_BODY_REQUIRED = 21602  # "Message body is required"
BODY_TOO_LONG = 21617         # "The concatenated message body exceeds the 1600 character limit"
CALL_TO_REQUIRED = 21201      # "No 'To' number specified"
CALL_FROM_REQUIRED = 21213    # "Caller phone number is required"

# Rules the spec states only in its prose descriptions, not in its schemas: StatusCallbackEvent "Can be:
# initiated, ringing, answered, and completed"; Twiml "Max 4000 characters"; Body "up to 1,600 characters".
CALL_STATUS_CALLBACK_EVENTS = {"initiated", "ringing", "answered", "completed"}
TWIML_LIMIT = 4000
BODY_LIMIT = 1600

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
CHANNEL_ADDRESS = re.compile(r"^[a-z][a-z-]*:.+$")  # whatsapp:+1..., messenger:..., client:alice, sip:...
# A Message's From may also be an alphanumeric sender ID (the spec's From description): at most 11 letters,
# digits and spaces, with at least one letter. Only a sender can be one, never a recipient.
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


def require_spec(path: Path = SPEC_PATH) -> None:
    """Tests that check requests against Twilio's description need it beside the repo (../shared, as CI lays it
    out). Elsewhere they are skipped with the reason, except under CI, where its absence is a failure."""
    if path.exists():
        return
    message = f"Twilio's API description is not at {path}: the fake Twilio checks every request against it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _resolve(spec: dict, node, depth: int = 0):
    """A copy of `node` with local $refs inlined (request schemas are shallow, but guard against cycles)."""
    if depth > 20:
        raise ValueError("schema nesting too deep; a $ref cycle?")
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(spec, target, depth + 1)
        resolved = {k: _resolve(spec, v, depth + 1) for k, v in node.items()}
        # The spec marks some formats as not to be enforced (x-twilio.ignoreFormat), e.g. MediaUrl items.
        if resolved.get("x-twilio", {}).get("ignoreFormat"):
            resolved.pop("format", None)
        return resolved
    if isinstance(node, list):
        return [_resolve(spec, v, depth + 1) for v in node]
    return node


def _is_uri(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _is_phone(value: str) -> bool:
    return bool(E164.match(value) or CHANNEL_ADDRESS.match(value))


def _is_phone_or_sender(value: str) -> bool:
    return _is_phone(value) or bool(ALPHANUMERIC_SENDER.match(value))


def _is_twiml(value: str) -> bool:
    try:
        return ET.fromstring(value).tag == "Response"
    except ET.ParseError:
        return False


FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("uri")(_is_uri)
FORMATS.checks("phone-number")(_is_phone_or_sender)  # To is held to _is_phone in check_documented_rules
FORMATS.checks("endpoint")(_is_phone)  # Calls To/From: a number, client:name or sip:address
FORMATS.checks("twiml")(_is_twiml)
FORMATS.checks("http-method")(lambda v: v in ("GET", "POST"))


@dataclass(frozen=True)
class Operation:
    method: str
    template: str       # e.g. /2010-04-01/Accounts/{AccountSid}/Messages.json
    operation_id: str | None
    path_params: dict   # name -> schema
    body_schema: dict | None  # resolved application/x-www-form-urlencoded schema
    response_schema: dict | None  # resolved schema of the success response


class SpecRouter:
    """Finds the operation for a method and path, using the paths of the OpenAPI description."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self._operations: dict[tuple[str, str], Operation | None] = {}
        self._routes: list[tuple[re.Pattern, str, dict]] = []
        # Literal segments win over placeholders (Calls/FeedbackSummary.json before Calls/{Sid}.json).
        for template in sorted(spec["paths"], key=lambda t: t.count("{")):
            pattern = re.escape(template)
            for name in re.findall(r"\{(\w+)\}", template):
                pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+?)")
            self._routes.append((re.compile(f"^{pattern}$"), template, spec["paths"][template]))

    def match(self, path: str) -> tuple[str, dict, dict] | None:
        for pattern, template, item in self._routes:
            found = pattern.match(path)
            if found:
                return template, item, found.groupdict()
        return None

    def operation(self, template: str, method: str) -> Operation | None:
        key = (template, method.upper())
        if key not in self._operations:
            self._operations[key] = self._load_operation(template, method)
        return self._operations[key]

    def _load_operation(self, template: str, method: str) -> Operation | None:
        item = self.spec["paths"][template]
        op = item.get(method.lower())
        if op is None:
            return None
        params = {p["name"]: _resolve(self.spec, p["schema"]) for p in op.get("parameters", [])
                  if p.get("in") == "path"}
        body = op.get("requestBody", {}).get("content", {}).get(FORM, {}).get("schema")
        success = next((r for code, r in sorted(op["responses"].items()) if code.startswith("2")), {})
        response = success.get("content", {}).get("application/json", {}).get("schema")
        return Operation(method.upper(), template, op.get("operationId"), params,
                         _resolve(self.spec, body) if body else None,
                         _resolve(self.spec, response) if response else None)


class TwilioError(Exception):
    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict:
        # The legacy REST error shape the 2010 API answers and the SDK turns into TwilioRestException.
        more_info = MORE_INFO.format(self.code) if self.code else None
        return {"code": self.code, "message": self.message, "more_info": more_info,
                "status": self.status}


def _coerce(value: str, schema: dict):
    """Form values are text; give them the JSON type their schema asks for when they look like it, so that
    the validator reports a real mismatch ("abc" for an integer) and not the form encoding itself."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean" and value.lower() in ("true", "false"):  # the SDK sends "true"/"false"
        return value.lower() == "true"
    return value


def parse_form(form: MultiDict, schema: dict) -> dict:
    """The POST fields as a JSON-like object typed by `schema`. Unknown fields raise 20001."""
    properties = schema.get("properties", {})
    unknown = sorted(set(form) - set(properties))
    if unknown:
        raise TwilioError(400, UNKNOWN_PARAMETERS, f"Unknown parameters: {', '.join(unknown)}")
    data = {}
    for name in form:
        prop, values = properties[name], form.getlist(name)
        if prop.get("type") == "array":
            data[name] = [_coerce(v, prop.get("items", {})) for v in values]
        elif len(values) > 1:
            raise TwilioError(400, INVALID_PARAMETER, f"Invalid parameter: {name} was given {len(values)} times")
        else:
            data[name] = _coerce(values[0], prop)
    return data


def validate_body(operation: Operation, form: MultiDict) -> dict:
    """Check the form against the operation's requestBody schema; returns the typed fields."""
    schema = operation.body_schema
    if schema is None:
        if form:
            raise TwilioError(400, UNKNOWN_PARAMETERS, f"{operation.operation_id} takes no form parameters")
        return {}
    data = parse_form(form, schema)
    resource = operation.template.rsplit("/", 1)[-1]
    for name in schema.get("required", []):
        if name not in data:
            code = {("Messages.json", "To"): MESSAGE_TO_REQUIRED, ("Calls.json", "To"): CALL_TO_REQUIRED,
                    ("Calls.json", "From"): CALL_FROM_REQUIRED}.get((resource, name), INVALID_PARAMETER)
            raise TwilioError(400, code, f"Missing required parameter {name} in the post body")
    errors = sorted(jsonschema.Draft4Validator(schema, format_checker=FORMATS).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        name = error.absolute_path[0] if error.absolute_path else None
        code = INVALID_TO if name == "To" else INVALID_PARAMETER
        raise TwilioError(400, code, f"Invalid parameter: {name}: {error.message}")
    return data


def check_documented_rules(resource: str, data: dict) -> None:
    """Rules Twilio states in the spec's descriptions and its error docs, which the schemas cannot express."""
    if resource == "Messages.json":
        if isinstance(data.get("To"), str) and not _is_phone(data["To"]):
            raise TwilioError(400, INVALID_TO, f"The 'To' number {data['To']} is not a valid phone number.")
        if "From" not in data and "MessagingServiceSid" not in data:
            raise TwilioError(400, MESSAGE_FROM_REQUIRED, "A 'From' phone number is required.")
        if not any(k in data for k in ("Body", "MediaUrl", "ContentSid")):
            raise TwilioError(400, MESSAGE_BODY_REQUIRED, "Message body is required.")
        if len(data.get("Body", "")) > BODY_LIMIT:
            raise TwilioError(400, BODY_TOO_LONG, "The concatenated message body exceeds the 1600 character limit.")
    if resource == "Calls.json":
        if not any(k in data for k in ("Url", "Twiml", "ApplicationSid")):
            raise TwilioError(400, INVALID_PARAMETER, "One of Url, Twiml or ApplicationSid is required.")
        if len(data.get("Twiml", "")) > TWIML_LIMIT:
            raise TwilioError(400, INVALID_PARAMETER, f"Twiml is longer than {TWIML_LIMIT} characters.")
        unknown_events = set(data.get("StatusCallbackEvent", [])) - CALL_STATUS_CALLBACK_EVENTS
        if unknown_events:
            raise TwilioError(400, INVALID_PARAMETER,
                              f"Invalid parameter: StatusCallbackEvent {sorted(unknown_events)}")


@dataclass
class Received:
    """One request the fake answered, valid or not."""

    method: str
    path: str
    form: MultiDict
    account_sid: str | None
    status: int
    operation_id: str | None = None
    sid: str | None = None
    error_code: int | None = None
    at: float = field(default_factory=time.time)  # when the request arrived (before any injected delay)

    @property
    def resource(self) -> str:
        return self.path.rsplit("/", 1)[-1].removesuffix(".json")  # "Messages", "Calls"

    def __getitem__(self, name: str) -> str:
        return self.form[name]

    def get(self, name: str, default=None):
        return self.form.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return self.form.getlist(name)


@dataclass(frozen=True)
class Failure:
    status: int | None  # None: answer normally, after `delay`
    code: int | None
    message: str
    delay: float = 0.0


@dataclass
class _Faults:
    kinds: tuple
    until: float  # time.monotonic()
    hang: float
    resources: tuple
    to: str | None
    left: int | None
    used: int = 0


@dataclass(frozen=True)
class SignedWebhook:
    """A callback as Twilio would POST it: URL, form fields and X-Twilio-Signature."""

    url: str
    params: dict
    headers: dict

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def base_url(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def post(self, client):
        """Deliver through a Flask test client, as a POST to the URL Twilio signed."""
        return client.post(self.path, data=self.params, headers=self.headers, base_url=self.base_url)


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)  # 2 letters + 32 hex digits, as the spec's sid patterns require


def _segments(body: str) -> int:
    # GSM-7: 160 characters in one segment, 153 per segment once split (the rest is the concatenation header).
    return 1 if len(body) <= 160 else -(-len(body) // 153)


def _rfc2822(now: datetime) -> str:
    return format_datetime(now, usegmt=False)  # the spec's "date-time-rfc-2822": "Thu, 24 Aug 2023 05:01:45 +0000"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # tests assert on `requests`; no access log on stderr
        pass


@dataclass
class FakeTwilio:
    """Start with `with FakeTwilio(...) as twilio:` (or start()/stop()); point the SDK at `twilio.base_url`."""

    account_sid: str = "AC" + "0" * 31 + "1"
    auth_token: str = "fake-auth-token"
    spec_path: Path = SPEC_PATH
    requests: list[Received] = field(default_factory=list)
    latency: float = 0.0  # seconds every valid request waits before its answer (a slow carrier)
    _failures: list[Failure] = field(default_factory=list)
    _faults: list["_Faults"] = field(default_factory=list)  # see fail_for
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.router = SpecRouter(load_spec(self.spec_path))
        self._server = None
        self._thread = None

    # --- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> FakeTwilio:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    # --- what tests ask -------------------------------------------------------------------------------
    def fail_next(self, count: int = 1, *, status: int = 500, code: int | None = None,
                  message: str = "Injected failure") -> None:
        """The next `count` valid requests fail with `status` and Twilio error `code` (default 20000+status,
        e.g. 20429 for 429 and 20500 for 500, the codes Twilio uses for those statuses)."""
        with self._lock:
            self._failures.extend([Failure(status, code or 20000 + status, message)] * count)

    def stall_next(self, seconds: float, count: int = 1) -> None:
        """The next `count` valid requests are answered normally, but only after `seconds` (client timeouts)."""
        with self._lock:
            self._failures.extend([Failure(None, None, "", delay=seconds)] * count)

    def fail_for(self, seconds: float, kinds=(500, 429, "timeout"), *, hang: float = 30.0,
                 resources=("Messages", "Calls"), to: str | None = None, count: int | None = None) -> None:
        """For the next `seconds` (and at most `count` requests, if given), valid requests for `resources` (and to
        the number `to`, if given) fail in turn with each of `kinds`: an HTTP status (with Twilio's error code
        20000 + status, as fail_next) or "timeout": no answer for `hang` seconds (longer than the client waits),
        then a 504; the page is not created, as when a request never reached the carrier."""
        with self._lock:
            self._faults.append(_Faults(tuple(kinds), time.monotonic() + seconds, hang, tuple(resources), to, count))

    def _fault(self, resource: str, to: str | None) -> Failure | None:
        now = time.monotonic()
        with self._lock:
            faults = next((f for f in self._faults if now < f.until and resource in f.resources
                           and f.to in (None, to) and f.left != 0), None)
            if faults is None:
                return None
            kind = faults.kinds[faults.used % len(faults.kinds)]
            faults.used += 1
            if faults.left is not None:
                faults.left -= 1
        if kind == "timeout":
            return Failure(504, 20504, "Gateway timeout (injected)", delay=faults.hang)
        return Failure(int(kind), 20000 + int(kind), "Injected failure")

    @property
    def messages(self) -> list[Received]:
        return [r for r in self.requests if r.resource == "Messages" and r.status == 201]

    @property
    def calls(self) -> list[Received]:
        return [r for r in self.requests if r.resource == "Calls" and r.status == 201]

    def find(self, sid: str) -> Received:
        return next(r for r in self.requests if r.sid == sid)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._failures.clear()
            self._faults.clear()
            self.latency = 0.0

    # --- webhooks Twilio sends to the app ------------------------------------------------------------
    def sign(self, url: str, params: Mapping) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def webhook(self, url: str, params: Mapping) -> SignedWebhook:
        params = dict(params)
        return SignedWebhook(url, params, {"X-Twilio-Signature": self.sign(url, params)})

    def status_callback(self, sid: str, status: str, **extra) -> SignedWebhook:
        """The StatusCallback Twilio would send for a message or call this fake created (fields as in the
        Message and Call resource docs: MessageStatus/SmsStatus, or CallStatus with progress details)."""
        sent = self.find(sid)
        common = {"AccountSid": self.account_sid, "From": sent["From"], "To": sent["To"], "ApiVersion": "2010-04-01"}
        if sent.resource == "Messages":
            params = common | {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status}
        else:
            params = common | {"CallSid": sid, "CallStatus": status, "Direction": "outbound-api",
                               "CallbackSource": "call-progress-events", "SequenceNumber": "0"}
        return self.webhook(sent["StatusCallback"], params | extra)

    def incoming_sms(self, url: str, *, from_: str, body: str, to: str = "+15005550006", **extra) -> SignedWebhook:
        """A text someone sends to our number, as Twilio POSTs it to the number's messaging webhook."""
        sid = _sid("SM")
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": self.account_sid,
                  "From": from_, "To": to, "Body": body, "NumMedia": "0", "NumSegments": "1",
                  "ApiVersion": "2010-04-01", "SmsStatus": "received"}
        return self.webhook(url, params | extra)

    def gather(self, url: str, *, call_sid: str | None = None, digits: str | None, **extra) -> SignedWebhook:
        """The <Gather> action request for an outbound call this fake placed: `To` is the person we called."""
        sent = self.find(call_sid) if call_sid else self.calls[-1]
        params = {"CallSid": sent.sid, "AccountSid": self.account_sid, "From": sent["From"], "To": sent["To"],
                  "CallStatus": "in-progress", "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        if digits is not None:
            params |= {"Digits": digits, "FinishedOnKey": ""}
        return self.webhook(url, params | extra)

    # --- the server ------------------------------------------------------------------------------------
    def wsgi(self, environ, start_response):
        request = Request(environ)
        record = Received(request.method, request.path, MultiDict(), None, 0)
        try:
            body, status = self._handle(request, record)
        except TwilioError as error:
            body, status = error.body(), error.status
            record.error_code = error.code
        record.status = status
        with self._lock:
            self.requests.append(record)
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        return response(environ, start_response)

    def _handle(self, request: Request, record: Received) -> tuple[dict, int]:
        found = self.router.match(request.path)
        if found is None:
            raise TwilioError(404, NOT_FOUND, f"The requested resource {request.path} was not found")
        template, item, path_values = found
        operation = self.router.operation(template, request.method)
        if operation is None:
            raise TwilioError(405, METHOD_NOT_ALLOWED, f"Method {request.method} not allowed on {template}")
        record.operation_id = operation.operation_id

        for name, schema in operation.path_params.items():
            errors = list(jsonschema.Draft4Validator(schema).iter_errors(path_values.get(name, "")))
            if errors:  # no resource can have a malformed SID
                raise TwilioError(404, NOT_FOUND, f"Invalid path parameter {name}: {errors[0].message}")
        record.account_sid = self._authenticate(request, path_values.get("AccountSid"))

        if operation.body_schema is not None and request.mimetype != FORM:
            raise TwilioError(400, INVALID_PARAMETER, f"Content-Type must be {FORM}, not {request.mimetype!r}")
        form = request.form if request.method in ("POST", "PUT") else MultiDict()
        record.form = MultiDict(form)
        query_unknown = set(request.args) - {p["name"] for p in item.get(request.method.lower(), {})
                                             .get("parameters", []) if p.get("in") == "query"}
        if query_unknown:
            raise TwilioError(400, UNKNOWN_PARAMETERS, f"Unknown query parameters: {sorted(query_unknown)}")
        data = validate_body(operation, form)
        resource = template.rsplit("/", 1)[-1]
        check_documented_rules(resource, data)

        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        failure = failure or self._fault(resource.removesuffix(".json"), data.get("To"))
        if self.latency:
            time.sleep(self.latency)
        if failure is not None:
            time.sleep(failure.delay)
            if failure.status is not None:
                raise TwilioError(failure.status, failure.code, failure.message)

        if request.method == "POST" and resource in ("Messages.json", "Calls.json"):
            return self._created(resource, data, record), 201
        raise TwilioError(501, None,
                          f"fake_twilio validates {operation.operation_id} but only implements creating "
                          "Messages and Calls")

    def _authenticate(self, request: Request, path_account: str | None) -> str:
        # The 2010 API uses HTTP Basic auth with the Account SID and auth token (securitySchemes: basic).
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        if scheme.lower() != "basic" or user != self.account_sid or password != self.auth_token:
            raise TwilioError(401, AUTHENTICATE, "Authenticate")
        if path_account is not None and path_account != user:
            raise TwilioError(401, AUTHENTICATE, "The Account SID in the path is not the authenticated account")
        return user

    def _created(self, resource: str, data: dict, record: Received) -> dict:
        """A 201 body: every property of the spec's response schema, null unless the fake knows its value."""
        now = _rfc2822(datetime.now(timezone.utc))
        template = "Messages" if resource == "Messages.json" else "Calls"
        sid = _sid("SM" if template == "Messages" else "CA")
        record.sid = sid
        uri = f"/2010-04-01/Accounts/{self.account_sid}/{template}/{sid}.json"
        operation = self.router.operation(f"/2010-04-01/Accounts/{{AccountSid}}/{template}.json", "POST")
        body = {name: None for name in operation.response_schema["properties"]}
        body |= {"sid": sid, "account_sid": self.account_sid, "to": data["To"], "from": data.get("From"),
                 "status": "queued", "api_version": "2010-04-01", "date_created": now, "date_updated": now,
                 "uri": uri}
        if template == "Messages":
            body |= {"body": data.get("Body"), "direction": "outbound-api", "num_media": "0",
                     "num_segments": str(_segments(data.get("Body", ""))),
                     "subresource_uris": {"media": uri.replace(".json", "/Media.json")}}
        else:
            body |= {"direction": "outbound-api", "to_formatted": data["To"], "from_formatted": data["From"],
                     "subresource_uris": {"notifications": uri.replace(".json", "/Notifications.json"),
                                          "recordings": uri.replace(".json", "/Recordings.json")}}
        return body


def response_validator(operation: Operation) -> jsonschema.Draft4Validator:
    """A validator for the fake's own 201 bodies: OpenAPI 3.0's `nullable: true` is JSON Schema's null type."""

    def nullable(node):
        if isinstance(node, dict):
            node = {k: nullable(v) for k, v in node.items()}
            if node.get("nullable") and "type" in node:
                node["type"] = [node["type"], "null"]
            if node.get("nullable") and "enum" in node:
                node["enum"] = [*node["enum"], None]
            return node
        if isinstance(node, list):
            return [nullable(v) for v in node]
        return node

    return jsonschema.Draft4Validator(nullable(copy.deepcopy(operation.response_schema)))

