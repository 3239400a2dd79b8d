"""/api/v1/teams/{id}/maintenance-windows: create and delete (team admins), list (members)."""
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from oncall.auth import current_user, require_team_admin, require_team_member
from oncall.clock import utcnow
from oncall.db import get_session
from oncall.fields import Text
from oncall.maintenance import service
from oncall.schedules.schemas import UTCDateTime

bp = Blueprint("maintenance_api", __name__, url_prefix="/api/v1",
               description="Maintenance windows: alerts from the team's machines page nobody")


class WindowCreateSchema(Schema):
    start = UTCDateTime(required=True, attribute="start_at")
    end = UTCDateTime(required=True, attribute="end_at")
    reason = Text(load_default=None, allow_none=True, validate=lambda v: v is None or len(v) <= 2000)


class WindowSchema(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    start = UTCDateTime(attribute="start_at")
    end = UTCDateTime(attribute="end_at")
    reason = fields.String(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = UTCDateTime()


class WindowListQuerySchema(Schema):
    since = UTCDateTime(load_default=None)


class WindowListSchema(Schema):
    maintenance_windows = fields.List(fields.Nested(WindowSchema))


@bp.post("/teams/<int:team_id>/maintenance-windows")
@bp.arguments(WindowCreateSchema)
@bp.response(201, WindowSchema)
def create_window(data, team_id: int):
    """From `start` to `end`, incidents the team's integrations and heartbeats open are kept, marked suppressed
    and page nobody; any still open when the window ends start their escalation then. Incidents a person opens
    still page. Team admins."""
    me = current_user()
    require_team_admin(me, team_id)
    session = get_session()
    window = service.create_window(session, team_id=team_id, created_by_id=me.id, now=utcnow(), **data)
    session.commit()
    return window


@bp.get("/teams/<int:team_id>/maintenance-windows")
@bp.arguments(WindowListQuerySchema, location="query")
@bp.response(200, WindowListSchema)
def list_windows(args, team_id: int):
    """The team's current and coming windows (and past ones ending after `since`)."""
    require_team_member(current_user(), team_id)
    return {"maintenance_windows": service.list_windows(get_session(), team_id, since=args["since"] or utcnow())}


@bp.delete("/teams/<int:team_id>/maintenance-windows/<int:window_id>")
@bp.response(204)
def delete_window(team_id: int, window_id: int):
    """End a window now (team admins): what it held and is still open starts paging."""
    require_team_admin(current_user(), team_id)
    session = get_session()
    service.delete_window(session, service.get_window(session, team_id, window_id), now=utcnow())
    session.commit()
