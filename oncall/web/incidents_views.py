"""Incident pages: the list, one incident with its timeline, and the acknowledge / resolve buttons."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.people.models import Team, User
from oncall.web import permissions
from oncall.web.session import login_required, web_user
from oncall.web.views import bp, parse_id

STATUSES = ("open", "triggered", "acknowledged", "resolved", "all")


def _incidents():
    """The incidents domain (models, service), or None where it is not installed."""
    try:
        from oncall.incidents import models, service
    except ImportError:
        return None
    return models, service


@bp.get("/incidents")
@login_required
def incidents():
    domain = _incidents()
    teams = list(get_session().scalars(select(Team).order_by(Team.name)))
    if domain is None:
        return render_template("incidents/list.html", available=False, rows=[], teams=teams, team_id=None,
                               status="open")
    models, _ = domain
    Incident = models.Incident
    status = request.args.get("status", "open")
    status = status if status in STATUSES else "open"
    team_id = parse_id(request.args.get("team_id"))
    query = select(Incident)
    if team_id is not None:
        query = query.where(Incident.team_id == team_id)
    if status == "open":
        query = query.where(Incident.status != "resolved")
    elif status != "all":
        query = query.where(Incident.status == status)
    rows = list(get_session().scalars(query.order_by(Incident.created_at.desc()).limit(200)))
    return render_template("incidents/list.html", available=True, rows=rows, teams=teams, team_id=team_id,
                           status=status, team_names={t.id: t.name for t in teams}, now=utcnow())


def _load(incident_id: int):
    domain = _incidents()
    if domain is None:
        abort(404)
    models, service = domain
    incident = get_session().get(models.Incident, incident_id)
    if incident is None:
        abort(404)
    return incident, service


@bp.get("/incidents/<int:incident_id>")
@login_required
def incident(incident_id: int):
    incident, _ = _load(incident_id)
    session = get_session()
    events = sorted(getattr(incident, "timeline", []) or [], key=lambda e: (e.at if hasattr(e, "at") else e.created_at))
    people = {getattr(e, "user_id", None) for e in events} | {getattr(incident, "acknowledged_by_id", None)}
    people = {p for p in people if p is not None}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(people))).all()) if people else {}
    return render_template("incidents/show.html", incident=incident, events=events, names=names,
                           team=session.get(Team, incident.team_id), now=utcnow(),
                           may_act=permissions.is_member(web_user(), incident.team_id))


def _act(incident_id: int, action: str):
    incident, service = _load(incident_id)
    permissions.require_team_member(web_user(), incident.team_id)
    session = get_session()
    getattr(service, action)(session, incident, user_id=web_user().id, via="web", now=utcnow())
    session.commit()
    flash("Incident acknowledged." if action == "acknowledge" else "Incident resolved.")
    return redirect(url_for("web.incident", incident_id=incident_id), 303)


@bp.post("/incidents/<int:incident_id>/acknowledge")
@login_required
def acknowledge_incident(incident_id: int):
    return _act(incident_id, "acknowledge")


@bp.post("/incidents/<int:incident_id>/resolve")
@login_required
def resolve_incident(incident_id: int):
    return _act(incident_id, "resolve")
