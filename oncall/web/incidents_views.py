"""Incident pages: the list, one incident with its timeline, and the acknowledge / resolve buttons."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.incidents import service as incidents
from oncall.people.models import Team, User
from oncall.web import permissions
from oncall.web.session import login_required, safe_next, web_user
from oncall.web.views import bp, parse_id

STATUSES = ("open", "triggered", "acknowledged", "resolved", "all")


@bp.get("/incidents", endpoint="incidents")
@login_required
def incidents_list():
    session = get_session()
    teams = list(session.scalars(select(Team).order_by(Team.name)))
    status = request.args.get("status", "open")
    status = status if status in STATUSES else "open"
    team_id = parse_id(request.args.get("team_id"))
    rows = incidents.list_incidents(session, team_id=team_id, status=None if status == "all" else status, limit=200)
    return render_template("incidents/list.html", rows=rows, teams=teams, team_id=team_id, status=status,
                           team_names={t.id: t.name for t in teams}, now=utcnow())



@bp.get("/incidents/<int:incident_id>")
@login_required
def incident(incident_id: int):
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    events = sorted(incident.events, key=lambda e: (e.at, e.id))
    people = {e.user_id for e in events} | {incident.acknowledged_by_id, incident.resolved_by_id}
    people.discard(None)
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(people))).all()) if people else {}
    return render_template("incidents/show.html", incident=incident, events=events, names=names,
                           team=session.get(Team, incident.team_id), now=utcnow(),
                           may_act=permissions.is_member(web_user(), incident.team_id))


def _act(incident_id: int, action) -> object:
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    permissions.require_team_member(web_user(), incident.team_id)
    action(session, incident, user_id=web_user().id, via="web", now=utcnow())
    session.commit()
    # The dashboard's Acknowledge button comes back to the dashboard.
    target = safe_next(request.form.get("next")) if request.form.get("next") else None
    return redirect(target or url_for("web.incident", incident_id=incident_id), 303)


@bp.post("/incidents/<int:incident_id>/acknowledge")
@login_required
def acknowledge_incident(incident_id: int):
    response = _act(incident_id, incidents.acknowledge)
    flash("Incident acknowledged; escalation stopped.")
    return response


@bp.post("/incidents/<int:incident_id>/resolve")
@login_required
def resolve_incident(incident_id: int):
    response = _act(incident_id, incidents.resolve)
    flash("Incident resolved.")
    return response
