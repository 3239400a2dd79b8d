"""The one door to Twilio: sends pages through the official SDK, maps its failures, checks webhook signatures.

Nothing else in the project imports `twilio`; the outbox talks to `TwilioGateway` through the Notifier protocol
and the webhooks ask `valid_signature` whether a request really came from Twilio."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from oncall.errors import DeliveryFailed, TransientDeliveryFailure
from oncall.paging.outbox import CONCURRENCY

log = logging.getLogger(__name__)

# A hung Twilio must not hold the dispatcher: the SDK waits forever unless given a timeout.
DEFAULT_TIMEOUT_SECONDS = 10.0

# Call progress events to hear about (Twilio Call resource, StatusCallbackEvent): "answered" tells the
# timeline that a person (or a voicemail) picked up; "completed" carries the final CallStatus
# (completed, busy, no-answer, failed, canceled). "initiated" and "ringing" add traffic but no decision.
CALL_STATUS_EVENTS = ["answered", "completed"]

# Twilio error 20429 (Too Many Requests) is "never processed and always safe to retry" per its docs, as is a
# 5xx; anything else in 4xx is about this request (21211 invalid To, 21610 recipient replied STOP, 21617 body
# too long ...) and would fail the same way again.
TRANSIENT_TWILIO_CODES = {20429}


class BaseUrlHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, sending every request to `base_url` instead of https://*.twilio.com.

    The SDK hard-codes its domains (`https://api.twilio.com` for the 2010 API) and builds absolute URLs before
    they reach the HTTP client, so rewriting here is the one place that catches every resource. Any Twilio
    host is rewritten, not just api.twilio.com, so a test can never reach the real Twilio by accident."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}{parts.path}{query}"

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.rewrite(url), *args, **kwargs)


class TwilioGateway:
    """Notifier that sends SMS and places calls with Twilio. Raises TransientDeliveryFailure (retry later) or
    DeliveryFailed (this channel will not work for this recipient) and never a twilio or requests exception."""

    name = "twilio"

    def __init__(self, client: Client, from_number: str) -> None:
        self._client, self._from = client, from_number

    @classmethod
    def from_config(cls, config: Mapping) -> TwilioGateway | None:
        """A gateway from app.config, or None when the credentials are missing (the console notifier then).

        Keys: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER, and optionally TWILIO_BASE_URL
        (ONCALL_TWILIO_BASE_URL: a Twilio-compatible server, e.g. the tests' fake) and TWILIO_TIMEOUT_SECONDS."""
        sid, token, from_number = (config.get(k) for k in
                                   ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"))
        if not (sid and token and from_number):
            return None
        timeout = float(config.get("TWILIO_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)
        base_url = config.get("TWILIO_BASE_URL")
        http_client = (BaseUrlHttpClient(base_url, timeout=timeout) if base_url
                       else TwilioHttpClient(timeout=timeout))
        # The outbox has up to OUTBOX_CONCURRENCY requests in flight; requests keeps 10 connections per host, so
        # under an alert storm every request beyond those opened (and TLS-handshook) a connection and dropped it.
        pool = HTTPAdapter(pool_maxsize=int(config.get("OUTBOX_CONCURRENCY") or CONCURRENCY))
        for prefix in ("https://", "http://"):
            http_client.session.mount(prefix, pool)
        return cls(Client(sid, token, http_client=http_client), from_number)

    def send_sms(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        """Queue one SMS; returns the Message SID (SM...). Twilio reports delivery later to `status_callback`."""
        try:
            message = self._client.messages.create(to=to, from_=self._from, body=body,
                                                   status_callback=status_callback)
        except Exception as exc:
            raise _delivery_failure("SMS", to, exc) from exc
        return message.sid

    def place_call(self, *, to: str, twiml: str, status_callback: str | None = None) -> str:
        """Start one call that runs `twiml`; returns the Call SID (CA...)."""
        kwargs = {}
        if status_callback:
            # Without StatusCallback, StatusCallbackEvent is pointless (and only "completed" is the default).
            kwargs = {"status_callback": status_callback, "status_callback_method": "POST",
                      "status_callback_event": CALL_STATUS_EVENTS}
        try:
            call = self._client.calls.create(to=to, from_=self._from, twiml=twiml, **kwargs)
        except Exception as exc:
            raise _delivery_failure("call", to, exc) from exc
        return call.sid

    def close(self) -> None:
        """Release the pooled HTTPS connections (the worker keeps one gateway for its whole life)."""
        session = getattr(self._client.http_client, "session", None)
        if session is not None:
            session.close()


def _delivery_failure(what: str, to: str, exc: Exception) -> DeliveryFailed:
    """Sort an SDK or transport failure into retry-later and give-up."""
    if isinstance(exc, TwilioRestException):
        status, code, detail = exc.status, exc.code, exc.msg
    elif isinstance(exc, TwilioServiceException):  # RFC 9457 errors from newer Twilio services
        status, code, detail = exc.status, exc.code, exc.title
    elif isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        # Covers connection refused, DNS failures, TLS errors and read timeouts. A read timeout may hide an SMS
        # that Twilio did queue, so a retry can page twice: a duplicate page is better than a missed one.
        log.warning("Twilio unreachable for %s to %s: %s", what, to, exc)
        return TransientDeliveryFailure(f"Twilio could not be reached for the {what} ({type(exc).__name__})")
    elif isinstance(exc, requests.RequestException):
        return DeliveryFailed(f"The {what} request to Twilio could not be made ({type(exc).__name__}: {exc})")
    else:
        # A 2xx the SDK cannot parse, or a bug in the SDK: Twilio may have accepted it, so retrying is the
        # safe side for a page (see above). Logged with the traceback because it should never happen.
        log.exception("unexpected failure sending %s to %s", what, to)
        return TransientDeliveryFailure(f"Unexpected failure sending the {what} ({type(exc).__name__})")
    message = f"Twilio rejected the {what} to {to}: HTTP {status}, error {code}: {detail}"
    if status == 429 or status >= 500 or code in TRANSIENT_TWILIO_CODES:
        return TransientDeliveryFailure(message)
    return DeliveryFailed(message)


def valid_signature(auth_token: str | None, url: str, params: Mapping, signature: str | None) -> bool:
    """Is `signature` (the X-Twilio-Signature header) Twilio's HMAC of `url` and the POST `params`?

    Twilio signs the full URL it requested (scheme, host, path and query string) followed by the POST fields
    sorted by name, with the account's auth token (twilio.com/docs/usage/webhooks/webhooks-security). With no
    token configured nothing can be verified, so everything is rejected rather than accepted unsigned."""
    if not auth_token or not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)
