"""Configuration defaults; every key can be overridden by an ONCALL_* environment variable."""
import os


class Config:
    # None means "SQLite under the instance folder", resolved in create_app once the path is known.
    DATABASE_URL: str | None = None
    # Signs web sessions. Unset: the quick start (DATABASE_URL unset too) makes a random one in the instance
    # folder; anything else refuses to start (oncall/instance.py). ENV=production also refuses weak keys.
    SECRET_KEY: str | None = None
    ENV = "development"
    PUBLIC_URL = "http://127.0.0.1:5000"
    # Number of reverse proxies in front of the app (0: none). Behind one, the client address and scheme
    # come from X-Forwarded-For/-Proto, which sign-in throttling and secure cookies depend on.
    PROXY_COUNT = 0
    # The quick start runs the escalation jobs inside the web process; production runs `oncall worker`.
    RUN_WORKER_IN_WEB = False
    API_TITLE = "oncall"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True

    # Request bodies in bytes, answered 413 beyond, before the body is read (oncall/bodies.py). Alertmanager
    # sends up to 1,000 alerts (the most one notification may hold here) in one body: 10 KiB each leaves room
    # for long descriptions and generator URLs. Twilio's webhooks are forms of a few hundred bytes.
    MAX_CONTENT_LENGTH = 1024 * 1024
    ALERTMANAGER_MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    TWILIO_MAX_CONTENT_LENGTH = 64 * 1024

    # Events per calendar feed at most (oncall/feeds/service.py: a feed too full for its window keeps the ones
    # nearest today).
    FEED_MAX_EVENTS = 1000
    # Feeds built at once on this machine (FEED_BUILD_SLOTS, oncall/feeds/build_slots.py: 1 by default, 0 for no
    # limit, the default under TESTING), how long a request waits for a slot before a 503, and where the slots'
    # lock files live (default: the instance folder).
    FEED_BUILD_WAIT_SECONDS = 2.0
    FEED_BUILD_LOCK_DIR = ""

    # Rate limits (Flask-Limiter; oncall/ratelimits.py says who is counted and why the defaults are these).
    # RATELIMIT_ENABLED defaults to on, off under TESTING unless a test turns it on.
    RATELIMIT_API = "1200 per minute"  # per API token (per address without one)
    RATELIMIT_FEEDS = "300 per minute"  # calendar feeds, per address
    RATELIMIT_FEED_BUILDS = "20 per minute"  # calendar feeds built (not served from cache or 304), per feed
    RATELIMIT_FEED_BUILDS_PER_ADDRESS = "60 per minute"  # the same, per address
    RATELIMIT_WEBHOOK_REFUSALS = "60 per minute"  # webhook requests refused for their signature/token, per address
    RATELIMIT_ALERTS = ""  # alert intake per token: off, as a 429 loses Alertmanager's notification
    RATELIMIT_STORAGE_URI = "memory://"  # per process; e.g. redis://host:6379 to share across processes
    RATELIMIT_STRATEGY = "sliding-window-counter"
    RATELIMIT_HEADERS_ENABLED = True  # X-RateLimit-* on limited responses, Retry-After on a 429
    RATELIMIT_SWALLOW_ERRORS = True  # a broken limiter storage lets requests through rather than failing them

    # Twilio's own variable names are kept unprefixed, as its docs and tooling use them.
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN")
    TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER")
