"""A team's maintenance windows page: list the current and coming windows, create one, end one (team admins;
members see the list). The same service and schema as /api/v1/teams/{id}/maintenance-windows."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import OncallError
from oncall.maintenance import service as maintenance
from oncall.maintenance.api import WindowCreateSchema
from oncall.web import forms
from oncall.web.session import login_required, web_user
from oncall.web.teams import admin_team, visible_team
from oncall.web.views import bp, status_of


def _render(team, status: int = 200, **extra):
    context = {"team": team, "windows": maintenance.list_windows(get_session(), team.id, since=utcnow()),
               "errors": {}, "form": {}, "now": utcnow()} | extra
    return render_template("maintenance/windows.html", **context), status


@bp.get("/teams/<int:team_id>/maintenance")
@login_required
def maintenance_windows(team_id: int):
    return _render(visible_team(team_id))


@bp.post("/teams/<int:team_id>/maintenance")
@login_required
def create_maintenance_window(team_id: int):
    team = admin_team(team_id)
    session = get_session()
    form = request.form
    zone = web_user().time_zone or "UTC"
    try:
        data = forms.load(WindowCreateSchema(), {
            "start": forms.local_instant("start", form.get("start"), zone),
            "end": forms.local_instant("end", form.get("end"), zone),
            "reason": (form.get("reason") or "").strip() or None})
        maintenance.create_window(session, team_id=team.id, created_by_id=web_user().id, now=utcnow(), **data)
    except OncallError as exc:
        session.rollback()
        return _render(team, status_of(exc), errors=exc.fields or {"_": [str(exc)]}, message=str(exc),
                       form=form.to_dict())
    session.commit()
    flash("Maintenance window saved: alerts from the team's machines inside it page nobody.")
    return redirect(url_for("web.maintenance_windows", team_id=team.id), 303)


@bp.post("/teams/<int:team_id>/maintenance/<int:window_id>/end")
@login_required
def end_maintenance_window(team_id: int, window_id: int):
    team = admin_team(team_id)
    session = get_session()
    maintenance.delete_window(session, maintenance.get_window(session, team.id, window_id), now=utcnow())
    session.commit()
    flash("Maintenance window ended: what it held and is still open pages now.")
    return redirect(url_for("web.maintenance_windows", team_id=team.id), 303)
