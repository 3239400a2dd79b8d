"""/api/v1/incidents (open, list, read, acknowledge, resolve, escalate, notes), team integrations and the
Alertmanager webhook, which authenticates with a team's integration token instead of a user's."""
from flask import current_app, g, request
from flask_smorest import Blueprint
from sqlalchemy import select

from oncall.auth import current_user, require_team_admin, require_team_member
from oncall.bodies import check_request
from oncall.ratelimits import count_refused_webhook
from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Unauthorized
from oncall.incidents import alertmanager, lifecycle, service
from oncall.postmortems.models import Postmortem
from oncall.incidents.models import Incident, Integration
from oncall.incidents.schemas import (
    AlertmanagerResultSchema, AlertmanagerSchema, IncidentCreateSchema, IncidentDetailSchema, IncidentListSchema,
    IncidentQuerySchema, IncidentUpdateSchema, IntegrationCreatedSchema, IntegrationCreateSchema,
    IntegrationListSchema, NoteSchema, ReassignSchema, RolesSchema, StatusUpdateCreateSchema, StatusUpdateSchema,
    TimelineEventSchema,
)

bp = Blueprint("incidents_api", __name__, url_prefix="/api/v1", description="Incidents and integrations")


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"]


def incident_body(incident: Incident, *, full: bool = False) -> dict:
    body = {c: getattr(incident, c) for c in (
        "id", "code", "team_id", "severity", "title", "description", "status", "dedup_key", "links", "source",
        "trigger_count", "created_at", "created_by_id", "last_triggered_at", "acknowledged_at",
        "acknowledged_by_id", "acknowledged_via", "resolved_at", "resolved_by_id", "resolved_via", "alert")}
    body["url"] = f"{_public_url()}/incidents/{incident.id}"
    body |= {"suppressed": incident.suppressed_at is not None, "held": incident.held,
             "maintenance_window_id": incident.maintenance_window_id}
    body["escalation"] = {"next_step": incident.next_step, "round": incident.round,
                          "next_step_at": incident.next_step_at, "exhausted_at": incident.exhausted_at,
                          "policy": incident.policy}
    if full:
        session = get_session()
        body["timeline"] = list(incident.events)
        body["notifications"] = service.notifications_of(session, incident.id)
        body["roles"] = lifecycle.roles_of(session, incident.id)
        body["updates"] = lifecycle.updates_of(session, incident.id)
        body["update_due"] = lifecycle.next_update_due(session, incident, now=utcnow())
        body["postmortem_state"] = session.scalar(select(Postmortem.state).where(Postmortem.incident_id == incident.id))
    return body


def _after_commit() -> None:
    # Pages of a new step are in the outbox now; when the worker runs in this process, send them at once.
    from oncall import worker

    worker.nudge()


@bp.post("/incidents")
@bp.arguments(IncidentCreateSchema)
@bp.response(201, IncidentDetailSchema)
@bp.alt_response(200, schema=IncidentDetailSchema, description="An open incident of the team has this dedup_key: "
                                                               "it is returned, noted on its timeline, not paged.")
def create_incident(data):
    """Open an incident; the team's escalation policy for its severity starts at once."""
    session = get_session()
    incident, created = service.create_incident(session, **data, created_by_id=current_user().id, via="api",
                                                now=utcnow())
    session.commit()
    _after_commit()
    return incident_body(incident, full=True), 201 if created else 200


@bp.get("/incidents")
@bp.arguments(IncidentQuerySchema, location="query")
@bp.response(200, IncidentListSchema)
def list_incidents(args):
    """Incidents, newest first, filtered by team_id, status (or "open"), severity and since (created at or after)."""
    return {"incidents": [incident_body(i) for i in service.list_incidents(get_session(), **args)]}


@bp.get("/incidents/<int:incident_id>")
@bp.response(200, IncidentDetailSchema)
def get_incident(incident_id: int):
    """One incident with its whole timeline and every notification."""
    return incident_body(service.get_incident(get_session(), incident_id), full=True)


def _act(incident_id: int, action, **args) -> dict:
    session = get_session()
    incident = service.get_incident(session, incident_id)
    me = current_user()
    require_team_member(me, incident.team_id)
    incident = action(session, incident, user_id=me.id, via="api", now=utcnow(), **args)
    session.commit()
    _after_commit()
    session.refresh(incident)
    return incident_body(incident, full=True)


@bp.post("/incidents/<int:incident_id>/acknowledge")
@bp.response(200, IncidentDetailSchema)
def acknowledge(incident_id: int):
    """Stop the escalation (team members). Acknowledging twice is fine; a resolved incident is a 409."""
    return _act(incident_id, service.acknowledge)


@bp.post("/incidents/<int:incident_id>/resolve")
@bp.response(200, IncidentDetailSchema)
def resolve(incident_id: int):
    """Close the incident (team members). Resolving twice is fine."""
    return _act(incident_id, service.resolve)


@bp.post("/incidents/<int:incident_id>/escalate")
@bp.response(200, IncidentDetailSchema)
def escalate(incident_id: int):
    """Page the next step of the policy now (team members); 409 once resolved."""
    return _act(incident_id, service.escalate)


@bp.post("/incidents/<int:incident_id>/reassign")
@bp.arguments(ReassignSchema)
@bp.response(200, IncidentDetailSchema)
def reassign(data, incident_id: int):
    """Hand the incident to a member of its team (team members): they are paged now by SMS and voice, it is
    unacknowledged until they acknowledge, and the policy goes on from its next step after five minutes.
    422 for someone outside the team or without a phone; 409 once resolved."""
    return _act(incident_id, service.reassign, to_user_id=data["user_id"])


@bp.patch("/incidents/<int:incident_id>")
@bp.arguments(IncidentUpdateSchema)
@bp.response(200, IncidentDetailSchema)
def update_incident(data, incident_id: int):
    """Change the severity (team members): the incident follows the new severity's policy from its first
    step, unacknowledged again. 409 once resolved."""
    return _act(incident_id, service.change_severity, severity=data["severity"])


@bp.post("/incidents/<int:incident_id>/notes")
@bp.arguments(NoteSchema)
@bp.response(201, TimelineEventSchema)
def add_note(data, incident_id: int):
    """Add a note to the timeline (team members)."""
    session = get_session()
    incident = service.get_incident(session, incident_id)
    me = current_user()
    require_team_member(me, incident.team_id)
    event = service.add_note(session, incident, text=data["text"], user_id=me.id, via="api", now=utcnow())
    session.commit()
    return event


@bp.put("/incidents/<int:incident_id>/roles")
@bp.arguments(RolesSchema)
@bp.response(200, IncidentDetailSchema)
def set_roles(data, incident_id: int):
    """Name the commander, technical lead and communications lead (team members; each a member of the team,
    or null to clear; a role left out keeps its holder; one person may hold several)."""
    return _act(incident_id, lifecycle.set_roles, changes=data)


@bp.post("/incidents/<int:incident_id>/updates")
@bp.arguments(StatusUpdateCreateSchema)
@bp.response(201, StatusUpdateSchema)
def add_status_update(data, incident_id: int):
    """Post a status update for stakeholders (team members); it restarts the update cadence. "resolved"
    resolves the incident. 409 once the incident is resolved."""
    session = get_session()
    incident = service.get_incident(session, incident_id)
    me = current_user()
    require_team_member(me, incident.team_id)
    update = lifecycle.add_status_update(session, incident, **data, user_id=me.id, via="api", now=utcnow())
    session.commit()
    return update


# --- integrations ------------------------------------------------------------------------------------------

def integration_body(integration: Integration, token: str | None = None) -> dict:
    body = {c: getattr(integration, c) for c in ("id", "team_id", "type", "name", "created_at", "created_by_id",
                                                 "last_used_at")}
    body["url"] = f"{_public_url()}/api/v1/integrations/{integration.type}"
    if token is not None:
        body["token"] = token
    return body


@bp.post("/teams/<int:team_id>/integrations")
@bp.arguments(IntegrationCreateSchema)
@bp.response(201, IntegrationCreatedSchema)
def create_integration(data, team_id: int):
    """Create an integration token for the team (team admins). The token is shown in this response only."""
    me = current_user()
    require_team_admin(me, team_id)
    session = get_session()
    integration, token = service.create_integration(session, team_id=team_id, created_by_id=me.id, now=utcnow(),
                                                    **data)
    session.commit()
    return integration_body(integration, token)


@bp.get("/teams/<int:team_id>/integrations")
@bp.response(200, IntegrationListSchema)
def list_integrations(team_id: int):
    """The team's integrations, without their tokens (team members)."""
    require_team_member(current_user(), team_id)
    return {"integrations": [integration_body(i) for i in service.list_integrations(get_session(), team_id=team_id)]}


@bp.delete("/teams/<int:team_id>/integrations/<int:integration_id>")
@bp.response(204)
def delete_integration(team_id: int, integration_id: int):
    """Revoke an integration token (team admins): its next request is a 401."""
    require_team_admin(current_user(), team_id)
    session = get_session()
    service.delete_integration(session, team_id=team_id, integration_id=integration_id)
    session.commit()


@bp.before_request
def _integration_token():
    """The Alertmanager webhook authenticates with a team's integration token (auth.py lets its path through
    without a user token), checked before its payload is even parsed: a wrong token is a 401, never a 422."""
    if request.endpoint != f"{bp.name}.alertmanager_webhook":
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    integration = None
    if scheme.lower() == "bearer" and token.strip():
        integration = service.integration_for_token(get_session(), token.strip(), type="alertmanager")
    if integration is None:
        count_refused_webhook()
        raise Unauthorized("Send the team's Alertmanager integration token as 'Authorization: Bearer <token>'.")
    g.integration = integration
    return check_request()


@bp.post("/integrations/alertmanager")
@bp.arguments(AlertmanagerSchema)
@bp.response(200, AlertmanagerResultSchema)
@bp.doc(security=[{"bearerAuth": []}], description=(
    "Prometheus Alertmanager webhook_config target (payload version 4). The bearer is a team's integration "
    "token (Alertmanager: http_config.authorization.credentials). Firing alerts open incidents with the "
    "fingerprint as dedup key; repeats of the same firing alert page nobody; resolved alerts resolve them."))
def alertmanager_webhook(payload):
    """Receive an Alertmanager notification."""
    session = get_session()
    results = service.apply_alerts(session, integration=g.integration, alerts=alertmanager.map_payload(payload),
                                   now=utcnow())
    session.commit()
    _after_commit()
    return {"results": results}
