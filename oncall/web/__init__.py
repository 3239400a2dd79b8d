"""The server-rendered web interface: session sign-in, CSRF on every form, HTML blueprints."""
import os

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

# Bearer-token APIs, signature-checked Twilio webhooks and secret-URL calendars use no cookie, so a
# forged cross-site request has nothing to ride on; everything else that changes state needs the token.
CSRF_EXEMPT_PREFIXES = ("/api/", "/twilio/", "/calendars/", "/heartbeats/")

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    # A Secure cookie is never sent back over plain http, so local http use needs it off; it follows
    # ONCALL_PUBLIC_URL unless ONCALL_SESSION_COOKIE_SECURE says otherwise.
    if "ONCALL_SESSION_COOKIE_SECURE" not in os.environ:
        app.config["SESSION_COOKIE_SECURE"] = app.config["PUBLIC_URL"].startswith("https://")
    # A handoff form can stay open for a while on a phone; the token is bound to the session anyway.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def _csrf_protect():
        if not app.config.get("WTF_CSRF_ENABLED", True) or request.path.startswith(CSRF_EXEMPT_PREFIXES):
            return None
        csrf.protect()
        return None

    @app.before_request
    def _refuse_nul_in_forms():
        # PostgreSQL text cannot hold NUL; /api/ has its own check (oncall.http).
        if request.path.startswith(CSRF_EXEMPT_PREFIXES) or request.method != "POST":
            return None
        if any("\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)):
            return render_template("web/error.html", status=400, title="Check the form",
                                   message="The form contains characters that cannot be stored."), 400
        return None

    @app.errorhandler(CSRFError)
    def _csrf_failed(error: CSRFError):
        return render_template("web/error.html", status=400, title="Form expired",
                               message="This form is too old or was not sent from this site. "
                                       "Go back, reload the page and try again.", detail=error.description), 400

    # Each module adds its pages to the one blueprint.
    from oncall.web import (calendar_links, calendar_views, dashboard_views, escalation, filters,  # noqa: F401
                            incidents_views, integrations, maintenance, passwords, postmortem_views, profile, reports,
                            rotations,
                            swap_views, teams, tokens)
    from oncall.web.cli import user_group
    from oncall.web.views import bp as web_bp

    filters.init_app(app)
    app.register_blueprint(web_bp)
    from oncall.handoffs.views import bp as handoffs_web_bp

    app.register_blueprint(handoffs_web_bp)
    app.cli.add_command(user_group)
