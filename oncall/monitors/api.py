"""/api/v1/teams/{id}/heartbeats (bearer auth) and the ping URL /heartbeats/{secret} (the secret is the auth)."""
from flask import Blueprint as FlaskBlueprint, current_app, jsonify
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from oncall.auth import current_user, require_team_admin, require_team_member
from oncall.clock import database_now, utcnow
from oncall.db import get_session
from oncall.escalation.policy import SEVERITIES
from oncall.fields import Name
from oncall.monitors import service
from oncall.schedules.schemas import UTCDateTime

bp = Blueprint("heartbeats_api", __name__, url_prefix="/api/v1",
               description="Heartbeat monitors: a missed ping opens an incident, the next ping resolves it")
pings = FlaskBlueprint("heartbeat_pings", __name__)

MAX_INTERVAL_MINUTES = 7 * 24 * 60


class MonitorCreateSchema(Schema):
    name = Name(required=True, max_length=200)
    interval_minutes = fields.Integer(required=True, strict=True,
                                      validate=validate.Range(min=1, max=MAX_INTERVAL_MINUTES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))


class MonitorSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    name = fields.String()
    interval_minutes = fields.Integer()
    severity = fields.String()
    created_at = UTCDateTime()
    last_ping_at = UTCDateTime(allow_none=True)
    due_at = UTCDateTime()
    incident_id = fields.Integer(allow_none=True)


class MonitorCreatedSchema(MonitorSchema):
    ping_url = fields.String(metadata={"description": "POST here (no other auth); shown only in this response."})


class MonitorListSchema(Schema):
    heartbeats = fields.List(fields.Nested(MonitorSchema))


@bp.post("/teams/<int:team_id>/heartbeats")
@bp.arguments(MonitorCreateSchema)
@bp.response(201, MonitorCreatedSchema)
def create_monitor(data, team_id: int):
    """A heartbeat for something that must keep talking (team admins). When no ping reaches `ping_url` for
    `interval_minutes`, an incident of `severity` opens; the next ping resolves it."""
    me = current_user()
    require_team_admin(me, team_id)
    session = get_session()
    monitor = service.create_monitor(session, team_id=team_id, created_by_id=me.id, now=utcnow(), **data)
    session.commit()
    body = {field: getattr(monitor, field) for field in MonitorSchema().fields}
    return body | {"ping_url": service.ping_url(current_app.config["PUBLIC_URL"], monitor.secret)}


@bp.get("/teams/<int:team_id>/heartbeats")
@bp.response(200, MonitorListSchema)
def list_monitors(team_id: int):
    """The team's heartbeats, without their ping URLs (team members)."""
    require_team_member(current_user(), team_id)
    return {"heartbeats": service.list_monitors(get_session(), team_id)}


@bp.delete("/teams/<int:team_id>/heartbeats/<int:monitor_id>")
@bp.response(204)
def delete_monitor(team_id: int, monitor_id: int):
    """Delete a heartbeat (team admins): its ping URL answers 404 from now on."""
    require_team_admin(current_user(), team_id)
    session = get_session()
    service.delete_monitor(session, service.get_monitor(session, team_id, monitor_id))
    session.commit()


@pings.post("/heartbeats/<secret>")
def ping(secret: str):
    """A ping: any body (Alertmanager's webhook JSON, curl's nothing) is ignored. 404 for an unknown secret."""
    session = get_session()
    monitor = service.ping(session, secret, database_now(session))
    if monitor is None:
        return jsonify({"error": {"code": "NotFound", "message": "No such heartbeat."}}), 404
    session.commit()
    return jsonify({"status": "ok", "heartbeat_id": monitor.id})
