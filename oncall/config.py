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

    # Twilio's own variable names are kept unprefixed, as its docs and tooling use them.
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN")
    TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER")
