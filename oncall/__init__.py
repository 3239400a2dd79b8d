"""oncall: on-call scheduling, paging and handoffs. `create_app` builds the Flask application."""
import os
from pathlib import Path

from flask import Flask
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from oncall import auth, bodies, db, ratelimits, instance
from oncall.config import Config
from oncall.fields import IdConverter, id_converter_doc
from oncall.http import ErrorSchema, http_exception_body, register_error_handlers, require_patch_body

from oncall.schema import MIGRATIONS  # noqa: F401  (re-exported: tests and tools find the migrations here)

# A source checkout keeps the quick start's instance folder beside the code (instance/, git-ignored); an installed
# package gets Flask's default for one, <prefix>/var/oncall-instance, as site-packages is no place for data.
ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = (ROOT / "pyproject.toml").is_file() and (ROOT / "oncall" / "__init__.py").is_file()


class OncallApi(Api):
    """flask-smorest's Api, answering errors in the project's one JSON shape."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return http_exception_body(error)


def schema_name(schema) -> str:
    """OpenAPI component names: 'Override', and 'OverridePatch' for the partial variant used by PATCH."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


def create_app(overrides: dict | None = None) -> Flask:
    """Raises instance.ConfigurationError, naming the setting, when the service must not start as configured."""
    overrides = overrides or {}
    instance_path = (overrides.get("INSTANCE_PATH") or os.environ.get("ONCALL_INSTANCE_PATH")
                     or (ROOT / "instance" if CHECKOUT else None))
    # Templates and static files are the package's own folders (symlinks to the top-level ones in a checkout,
    # copies in a wheel), found relative to the package wherever it is installed.
    app = Flask(__name__, template_folder="templates", static_folder="static",
                instance_path=str(Path(instance_path).resolve()) if instance_path else None)
    app.config.from_object(Config)
    app.config.from_prefixed_env("ONCALL")
    app.config.update(overrides)
    quick_start = not app.config.get("DATABASE_URL")
    if quick_start:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'oncall.db'}"
    app.config["SECRET_KEY"] = instance.secret_key(
        configured=app.config.get("SECRET_KEY"), environment=app.config.get("ENV"),
        instance_path=app.instance_path, quick_start=quick_start)
    if app.config.get("ENV") == "production":
        problems = instance.production_problems(app.config, database_url_set=not quick_start)
        if problems:
            raise instance.ConfigurationError("ONCALL_ENV=production refuses to start: " + "; ".join(problems))
    app.config["PUBLIC_URL"] = app.config["PUBLIC_URL"].rstrip("/")
    # The suite's in-process apps build feeds in parallel test processes that share the instance folder.
    app.config.setdefault("FEED_BUILD_SLOTS", 0 if app.testing else 1)
    if int(app.config["PROXY_COUNT"]):
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    app.json.sort_keys = False  # keep fields in schema order: id first, as people read them
    # Before anything else can read a request: its body size, then its rate (both per path).
    bodies.init_app(app)
    ratelimits.init_app(app)

    # Before any blueprint: every <int:id> in a URL is bounded to the databases' integer range.
    app.url_map.converters["int"] = IdConverter
    # A path with doubled slashes is not ours, and answers 404: werkzeug would otherwise redirect it to the
    # merged path, and for //calendars/<secret>.ics that Location header repeats a feed's secret to whatever
    # logs or caches responses on the way (issue 14).
    app.url_map.merge_slashes = False
    db.init_app(app)

    api = OncallApi(app, spec_kwargs={
        "info": {"description": "On-call scheduling, paging and handoffs. Every call needs a Bearer token."},
        "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name),
    })
    api.register_converter(IdConverter, id_converter_doc)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    register_error_handlers(app)
    auth.init_app(app)
    app.before_request(require_patch_body)

    from oncall.escalation.api import bp as escalation_api
    from oncall.feeds.api import bp as feeds_api, calendars as calendar_feeds
    from oncall.handoffs.api import bp as handoffs_api
    from oncall.incidents.api import bp as incidents_api
    from oncall.people.api import bp as people_api
    from oncall.maintenance.api import bp as maintenance_api
    from oncall.monitors.api import bp as heartbeats_api, pings as heartbeat_pings
    from oncall.postmortems.api import bp as postmortems_api
    from oncall.people.tokens_api import bp as tokens_api
    from oncall.reports.api import bp as reports_api
    from oncall.schedules.api import bp as schedules_api
    from oncall.schedules.swaps_api import bp as swaps_api

    for blueprint in (people_api, tokens_api, schedules_api, swaps_api, handoffs_api, escalation_api, incidents_api,
                      postmortems_api, feeds_api, reports_api, maintenance_api, heartbeats_api):
        api.register_blueprint(blueprint)
    # The feeds themselves live outside /api/v1: their secret URL is the credential, so bearer auth does not apply.
    app.register_blueprint(calendar_feeds)
    # A heartbeat's ping URL is its credential too, and cron jobs and Alertmanager post to it without a token.
    app.register_blueprint(heartbeat_pings)

    # Twilio's webhooks are plain Flask (no bearer auth, not in the OpenAPI document): they check Twilio's
    # signature instead, and as form posts from Twilio rather than a browser they must skip CSRF checks.
    from oncall.paging.webhooks import bp as twilio_webhooks

    app.register_blueprint(twilio_webhooks)
    if "csrf" in app.extensions:  # Flask-WTF's CSRFProtect, when it is set up before this point
        app.extensions["csrf"].exempt(twilio_webhooks)

    # The web interface: session sign-in, and CSRF on every form outside /api/, /twilio/ and /calendars/.
    from oncall import web

    web.init_app(app)

    from oncall import operations

    operations.init_app(app)  # GET /healthz, `oncall status`

    if app.config.get("RUN_WORKER_IN_WEB") and not app.testing:
        from oncall import worker

        worker.install_in_web(app)  # escalation and paging jobs in this process, from its first request

    return app
