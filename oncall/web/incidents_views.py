"""Incident pages: the list, one incident with its timeline and notifications, and its actions (acknowledge,
resolve, escalate now, add a note, hand to a person, change severity), each the API's service call with the
API's schema."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.escalation import service as escalation
from oncall.errors import Forbidden, NotFound, OncallError
from oncall.incidents import lifecycle, service as incidents
from oncall.escalation.policy import SEVERITIES
from oncall.incidents.schemas import (
    IncidentCreateSchema, IncidentUpdateSchema, NoteSchema, ReassignSchema, RolesSchema, StatusUpdateCreateSchema,
)
from oncall.postmortems.models import Postmortem
from oncall.people.models import Team, User
from oncall.web import forms, permissions
from oncall.web.session import login_required, safe_next, web_user
from oncall.web.views import bp, parse_id, status_of

STATUSES = ("open", "triggered", "acknowledged", "resolved", "all")


MAX_PAGE = 1000
PER_PAGE = 50


@bp.get("/incidents", endpoint="incidents")
@login_required
def incidents_list():
    """Filter by team, severity and status, search titles; most urgent first (status, severity, age)."""
    session = get_session()
    me = web_user()
    # Outside their teams a person sees nothing (site admins see every team).
    visible = None if me.is_admin else permissions.member_team_ids(me)
    teams = [t for t in session.scalars(select(Team).order_by(Team.name)) if visible is None or t.id in visible]
    status = request.args.get("status", "open")
    status = status if status in STATUSES else "open"
    severity = request.args.get("severity", "")
    severity = severity if severity in SEVERITIES else None
    team_id = parse_id(request.args.get("team_id"))
    text = (request.args.get("q") or "").strip()[:200]
    suppressed = True if request.args.get("suppressed") == "1" else None
    page = request.args.get("page", default=1, type=int) or 1
    page = min(max(page, 1), MAX_PAGE)
    rows, more = incidents.search_incidents(session, team_id=team_id, status=None if status == "all" else status,
                                            severity=severity, text=text or None, page=page, per_page=PER_PAGE,
                                            team_ids=visible, suppressed=suppressed)
    args = {"team_id": team_id, "status": status, "severity": severity, "q": text or None,
            "suppressed": "1" if suppressed else None}
    return render_template("incidents/list.html", rows=rows, teams=teams, team_id=team_id, status=status,
                           severity=severity, q=text, page=page, more=more, args=args, suppressed=suppressed,
                           team_names={t.id: t.name for t in teams}, now=utcnow())


def _declare_context(**extra) -> dict:
    teams = list(get_session().scalars(select(Team).order_by(Team.name)))
    mine = permissions.member_team_ids(web_user())
    return {"teams": teams, "mine": mine, "errors": {}, "form": {}} | extra


@bp.route("/incidents/new", methods=["GET", "POST"], endpoint="declare_incident")
@login_required
def declare_incident():
    """Declare an incident for a team (anyone may: it is how they ask the team for help); its policy pages
    at once, like the API's POST /api/v1/incidents."""
    if request.method == "GET":
        return render_template("incidents/new.html", **_declare_context(
            form={"team_id": request.args.get("team_id", "")}))
    session = get_session()
    form = request.form
    try:
        data = forms.load(IncidentCreateSchema(), {
            "team_id": forms.integer(form.get("team_id")), "severity": form.get("severity"),
            "title": form.get("title", ""), "description": (form.get("description") or "").strip() or None,
            "links": {"dashboard": (form.get("dashboard") or "").strip() or None,
                      "runbook": (form.get("runbook") or "").strip() or None,
                      "chat": (form.get("chat") or "").strip() or None}},
            names={"links.dashboard": "dashboard", "links.runbook": "runbook", "links.chat": "chat"})
        incident, _created = incidents.create_incident(session, **data, created_by_id=web_user().id, via="web",
                                                       now=utcnow())
    except OncallError as exc:
        session.rollback()
        return render_template("incidents/new.html", **_declare_context(
            errors=exc.fields or {"_": [str(exc)]}, message=str(exc), form=form.to_dict())), status_of(exc)
    session.commit()
    from oncall import worker

    worker.nudge()
    flash("Incident declared: the team's policy is paging now.")
    return redirect(url_for("web.incident", incident_id=incident.id), 303)


def _page_context(incident_id: int, **extra) -> dict:
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    permissions.require_visible(web_user(), incident.team_id, "incident")
    events = sorted(incident.events, key=lambda e: (e.at, e.id))
    notifications = incidents.notifications_of(session, incident.id)
    team = session.get(Team, incident.team_id)
    members = sorted((m.user for m in team.members), key=lambda u: u.name.lower())
    roles = lifecycle.roles_of(session, incident.id)
    updates = lifecycle.updates_of(session, incident.id)
    people = {e.user_id for e in events} | {n.user_id for n in notifications} | {
        incident.acknowledged_by_id, incident.resolved_by_id} | set(roles.values()) | {u.user_id for u in updates}
    people.discard(None)
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(people))).all()) if people else {}
    now = utcnow()
    outlook = escalation.incident_outlook(session, incident, now=now)
    labels = escalation.target_labels(session, team_id=incident.team_id, steps=outlook["steps"])
    postmortem_state = session.scalar(select(Postmortem.state).where(Postmortem.incident_id == incident.id))
    return {"incident": incident, "events": events, "notifications": notifications, "names": names, "team": team,
            "roles": roles, "updates": updates, "update_due": lifecycle.next_update_due(session, incident, now=now),
            "postmortem_state": postmortem_state,
            "members": members, "now": now, "outlook": outlook, "labels": labels,
            "may_act": permissions.is_member(web_user(), incident.team_id), "errors": {}, "form": {}} | extra


@bp.get("/incidents/<int:incident_id>")
@login_required
def incident(incident_id: int):
    return render_template("incidents/show.html", **_page_context(incident_id))


def _act(incident_id: int, action, flash_message: str, **args):
    """Run one incident action for the signed-in team member; a refused input re-renders the page with the
    message (and the status the API would answer), changing nothing."""
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    permissions.require_team_member(web_user(), incident.team_id)
    try:
        action(session, incident, user_id=web_user().id, via="web", now=utcnow(), **args)
    except (Forbidden, NotFound):
        raise
    except OncallError as exc:
        session.rollback()
        return render_template("incidents/show.html", **_page_context(
            incident_id, errors=exc.fields or {"_": [str(exc)]}, message=str(exc),
            form=request.form.to_dict())), status_of(exc)
    session.commit()
    from oncall import worker

    worker.nudge()  # pages just written go out at once when the worker runs in this process
    flash(flash_message)
    # The dashboard's Acknowledge button comes back to the dashboard.
    target = safe_next(request.form.get("next")) if request.form.get("next") else None
    return redirect(target or url_for("web.incident", incident_id=incident_id), 303)


def _load(incident_id: int, schema, data: dict, *, names: dict | None = None) -> dict | object:
    try:
        return forms.load(schema, data, names=names)
    except OncallError as exc:
        get_session().rollback()
        return render_template("incidents/show.html", **_page_context(
            incident_id, errors=exc.fields or {"_": [str(exc)]}, message=str(exc),
            form=request.form.to_dict())), status_of(exc)


@bp.post("/incidents/<int:incident_id>/acknowledge")
@login_required
def acknowledge_incident(incident_id: int):
    return _act(incident_id, incidents.acknowledge, "Incident acknowledged; escalation stopped.")


@bp.post("/incidents/<int:incident_id>/resolve")
@login_required
def resolve_incident(incident_id: int):
    return _act(incident_id, incidents.resolve, "Incident resolved.")


@bp.post("/incidents/<int:incident_id>/escalate")
@login_required
def escalate_incident(incident_id: int):
    return _act(incident_id, incidents.escalate, "Escalated: the next step is being paged now.")


def _member_check(incident_id: int) -> None:
    # Membership before validation, so an outsider learns nothing from the form's messages.
    permissions.require_team_member(web_user(), incidents.get_incident(get_session(), incident_id).team_id)


@bp.post("/incidents/<int:incident_id>/notes")
@login_required
def add_incident_note(incident_id: int):
    _member_check(incident_id)
    data = _load(incident_id, NoteSchema(), {"text": (request.form.get("text") or "").strip()})
    if not isinstance(data, dict):
        return data
    return _act(incident_id, incidents.add_note, "Note added.", text=data["text"])


@bp.post("/incidents/<int:incident_id>/reassign")
@login_required
def reassign_incident(incident_id: int):
    _member_check(incident_id)
    data = _load(incident_id, ReassignSchema(), {"user_id": forms.integer(request.form.get("user_id"))})
    if not isinstance(data, dict):
        return data
    return _act(incident_id, incidents.reassign, "Handed over: they are being paged now.", to_user_id=data["user_id"])


@bp.post("/incidents/<int:incident_id>/severity")
@login_required
def change_incident_severity(incident_id: int):
    _member_check(incident_id)
    data = _load(incident_id, IncidentUpdateSchema(), {"severity": request.form.get("severity")})
    if not isinstance(data, dict):
        return data
    return _act(incident_id, incidents.change_severity, f"Severity is now {data['severity']}.",
                severity=data["severity"])


@bp.post("/incidents/<int:incident_id>/roles")
@login_required
def set_incident_roles(incident_id: int):
    _member_check(incident_id)
    form = request.form
    data = _load(incident_id, RolesSchema(), {role: forms.integer(form.get(role)) if form.get(role) else None
                                               for role in ("commander", "tech_lead", "comms_lead")})
    if not isinstance(data, dict):
        return data
    # A blank choice clears the role (the form always sends all three).
    changes = {role: data.get(role) for role in ("commander", "tech_lead", "comms_lead")}
    return _act(incident_id, lifecycle.set_roles, "Roles saved.", changes=changes)


@bp.post("/incidents/<int:incident_id>/updates")
@login_required
def add_incident_update(incident_id: int):
    _member_check(incident_id)
    data = _load(incident_id, StatusUpdateCreateSchema(), {"status": request.form.get("status"),
                                                           "message": request.form.get("message", "")})
    if not isinstance(data, dict):
        return data
    return _act(incident_id, lifecycle.add_status_update, "Status update posted.", **data)
