"""Request rate limits (Flask-Limiter), each set by an ONCALL_RATELIMIT_* setting ("" turns one off).

Who is counted, and why the defaults are what they are:
- The API (RATELIMIT_API, 1200/minute): per API token, or per address for requests without one. Scripts
  and dashboards poll far below it; a runaway loop or a flood from one address is stopped before it costs a
  token lookup.
- Alert intake, that is the Alertmanager webhook and POST /api/v1/incidents (RATELIMIT_ALERTS): per token,
  off by default. Alertmanager drops a notification answered 429 (it retries only 5xx,
  prometheus/alertmanager#2121), and a storm (1,000 alerts in 10 s, one request each when alerts are
  grouped by instance) is exactly when every page matters. What protects the pager there is the body
  limit and authentication before parsing (oncall/bodies.py). Set it to cap a runaway sender.
- Calendar feeds (RATELIMIT_FEEDS, 300/minute per address): calendar apps poll every few minutes to hours,
  even a whole office behind one address; one address polling expensive feeds many times a second is not
  a calendar.
- Calendar feed builds (RATELIMIT_FEED_BUILDS, 20/minute per feed; RATELIMIT_FEED_BUILDS_PER_ADDRESS,
  60/minute): a feed is built when no copy is cached for its ETag, which a client can force by varying its
  window or reminder at every request; a calendar app asks for one view and then polls it, so twenty different
  views a minute of one feed is not a calendar, nor sixty builds a minute from one address (a build of the
  largest feed is about half a second of CPU; feeds/build_slots.py bounds how many run at once).
- Twilio's webhooks and the Alertmanager webhook (RATELIMIT_WEBHOOK_REFUSALS, 60/minute per address): only
  requests refused for a bad signature or token are counted, after the check, so a request that passes is
  never throttled whatever its address did before. Twilio retries neither a status callback nor an SMS
  reply answered 429, and a lost status callback can hide a failed page.

The counters live in RATELIMIT_STORAGE_URI, in memory by default: each process counts on its own (with
gunicorn -w 4 a client gets up to four times the limit); point it at Redis to share them. Behind a reverse
proxy set ONCALL_PROXY_COUNT, or every client shares the proxy's address."""
from __future__ import annotations

import logging
import time

from flask import Flask, current_app, request
from flask_limiter import ApplicationLimit, Limiter
from limits import parse
from werkzeug.exceptions import TooManyRequests

from oncall.people.tokens import hash_token

log = logging.getLogger(__name__)

ALERT_INTAKE = {("POST", "/api/v1/integrations/alertmanager"), ("POST", "/api/v1/incidents")}


def address() -> str:
    return request.remote_addr or "unknown"


def token_or_address() -> str:
    """The bearer token (hashed: with a shared storage the counters must not hold credentials), else the
    address."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hash_token(token.strip())[:32]
    return "address:" + address()


def kind() -> str | None:
    """Which limit a request falls under: "alerts", "api", "feeds" or None."""
    path = request.path
    if (request.method, path) in ALERT_INTAKE:
        return "alerts"
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/calendars/"):
        return "feeds"
    return None


def _limit(value: str, group: str, key, who: str) -> ApplicationLimit:
    return ApplicationLimit(value, key_function=key, scope=group, exempt_when=lambda: kind() != group,
                            error_message=f"Too many requests: at most {value} {who}. Retry after the "
                                          "number of seconds in Retry-After.")


def init_app(app: Flask) -> None:
    config = app.config
    # On by default; off under TESTING (the suite makes thousands of requests as one client) unless a test
    # turns it on.
    config.setdefault("RATELIMIT_ENABLED", not app.testing)
    limits = []
    if config.get("RATELIMIT_API"):
        limits.append(_limit(config["RATELIMIT_API"], "api", token_or_address, "per API token"))
    if config.get("RATELIMIT_ALERTS"):
        limits.append(_limit(config["RATELIMIT_ALERTS"], "alerts", token_or_address, "alerts per token"))
    if config.get("RATELIMIT_FEEDS"):
        limits.append(_limit(config["RATELIMIT_FEEDS"], "feeds", address, "calendar feed requests per address"))
    limiter = Limiter(key_func=address, application_limits=limits)
    limiter.init_app(app)  # its check is a before_request hook: registered here, it runs before authentication
    app.extensions["oncall_limiter"] = limiter


def count_refused_webhook() -> None:
    """A webhook request was refused for its signature or token: count it against its address, and answer
    429 instead once the address is past RATELIMIT_WEBHOOK_REFUSALS. Only refused requests get here."""
    _count("RATELIMIT_WEBHOOK_REFUSALS", "webhook-refusals", address(),
           "Too many refused requests from this address: at most {value}.")


def count_feed_build(feed_key: str) -> None:
    """A calendar feed is about to be built (no cached copy for its ETag): count it against the feed and against
    the address, and answer 429 once either is past its limit (RATELIMIT_FEED_BUILDS,
    RATELIMIT_FEED_BUILDS_PER_ADDRESS). A client polling with If-None-Match, or one whose copy is cached, never
    gets here; one varying its window or reminder to make every request a build soon does."""
    _count("RATELIMIT_FEED_BUILDS", "feed-builds", feed_key,
           "Too many different views of this calendar feed: at most {value}.")
    _count("RATELIMIT_FEED_BUILDS_PER_ADDRESS", "feed-builds-by-address", address(),
           "Too many calendar feeds built for this address: at most {value}.")


def _count(setting: str, namespace: str, key: str, message: str) -> None:
    limiter: Limiter = current_app.extensions["oncall_limiter"]
    value = current_app.config.get(setting)
    if not limiter.enabled or not value:
        return
    item = parse(value)
    try:
        allowed = limiter.limiter.hit(item, namespace, key)
        reset_at = limiter.limiter.get_window_stats(item, namespace, key).reset_time
    except Exception:  # a broken limiter storage must not turn an answer into a 500
        log.exception("rate limit storage failed; %s not counted", namespace)
        return
    if not allowed:
        raise TooManyRequests(message.format(value=value), retry_after=max(1, int(reset_at - time.time())))
