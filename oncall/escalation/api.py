"""/api/v1/teams/<id>/escalation-policies: one policy per severity, defaults until a team admin sets one."""
from flask_smorest import Blueprint

from oncall.auth import current_user, require_team_admin
from oncall.clock import utcnow
from oncall.db import get_session
from oncall.escalation import service
from oncall.escalation.schemas import PolicyListSchema, PolicySchema

bp = Blueprint("escalation_api", __name__, url_prefix="/api/v1", description="Escalation policies")


@bp.get("/teams/<int:team_id>/escalation-policies")
@bp.response(200, PolicyListSchema)
def list_policies(team_id: int):
    """The team's policy for each severity, SEV1 to SEV4 (`source` says whether it is the default)."""
    return {"team_id": team_id, "policies": service.team_policies(get_session(), team_id=team_id)}


@bp.get("/teams/<int:team_id>/escalation-policies/<string:severity>")
@bp.response(200, PolicySchema)
def get_policy(team_id: int, severity: str):
    """The team's policy for one severity (SEV1..SEV4)."""
    return service.team_policy(get_session(), team_id=team_id, severity=service.parse_severity(severity))


@bp.put("/teams/<int:team_id>/escalation-policies/<string:severity>")
@bp.arguments(PolicySchema)
@bp.response(200, PolicySchema)
def put_policy(data, team_id: int, severity: str):
    """Replace the team's policy for one severity (team admins). Incidents already open keep theirs.

    Steps run in order, each `delay_minutes` after the previous one; targets are `{"type": "rotation", "id": ..}`
    (its on-call), `{"type": "user", "id": ..}` (a team member) or `{"type": "team"}` (every member)."""
    severity = service.parse_severity(severity)
    me = current_user()
    require_team_admin(me, team_id)
    session = get_session()
    policy = service.set_policy(session, team_id=team_id, severity=severity, data=data, user_id=me.id, now=utcnow())
    session.commit()
    return policy
