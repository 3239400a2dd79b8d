"""The dashboard page and its live part, which the page fetches again every 30 seconds (a plain reload
every 60 seconds without JavaScript)."""
from __future__ import annotations

from flask import render_template, request

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.web import dashboard as read_model
from oncall.web.session import login_required, web_user
from oncall.web.views import bp, parse_id

REFRESH_SECONDS = 30


def _load():
    return read_model.load(get_session(), user=web_user(), now=utcnow(),
                           team_filter=parse_id(request.args.get("team_id")))


@bp.get("/", endpoint="dashboard")
@login_required
def dashboard():
    return render_template("web/dashboard.html", d=_load(), refresh_seconds=REFRESH_SECONDS)


@bp.get("/dashboard/live", endpoint="dashboard_live")
@login_required
def dashboard_live():
    response = render_template("web/_dashboard_live.html", d=_load())
    return response, 200, {"Cache-Control": "no-store"}
