"""/api/v1/users and /api/v1/teams."""
from flask_smorest import Blueprint
from sqlalchemy import exists, select

from oncall.clock import utcnow
from oncall.auth import current_user, require_admin, require_team_admin
from oncall.db import get_session
from oncall.errors import Conflict, Forbidden
from oncall.people import service
from oncall.people.schemas import MembersSchema, TeamMembersSchema, TeamSchema, UserSchema, UserUpdateSchema

bp = Blueprint("people_api", __name__, url_prefix="/api/v1", description="Users and teams")


@bp.get("/users")
@bp.response(200, UserSchema(many=True))
def list_users():
    """List users."""
    return service.list_users(get_session())


@bp.post("/users")
@bp.arguments(UserSchema)
@bp.response(201, UserSchema)
def create_user(data):
    """Create a user (administrators only)."""
    require_admin(current_user())
    session = get_session()
    user = service.create_user(session, **data)
    session.commit()
    return user


@bp.get("/users/<int:user_id>")
@bp.response(200, UserSchema)
def get_user(user_id: int):
    """One user."""
    return service.get_user(get_session(), user_id)


@bp.patch("/users/<int:user_id>")
@bp.arguments(UserUpdateSchema)
@bp.response(200, UserSchema)
def update_user(data, user_id: int):
    """Change a user: themselves or an administrator."""
    me = current_user()
    if me.id != user_id:
        require_admin(me)
    session = get_session()
    user = service.update_user(session, service.get_user(session, user_id), data)
    session.commit()
    return user


@bp.delete("/users/<int:user_id>")
@bp.response(204)
def delete_user(user_id: int):
    """Delete a user who is in no rotation (administrators only)."""
    from oncall.schedules.models import RotationParticipant
    from oncall.schedules.service import touch_rotations_of_user

    require_admin(current_user())
    session = get_session()
    user = service.get_user(session, user_id)
    # Their overrides go with them: the rotations they covered change, so caches and feeds must see it. This
    # locks the user's row first, so nobody can make them a participant between the check below and the delete.
    touch_rotations_of_user(session, user_id, utcnow())
    if session.scalar(select(exists().where(RotationParticipant.user_id == user_id))):
        raise Conflict("this user is a participant of a rotation; remove them from it first")
    session.delete(user)
    session.commit()


@bp.get("/teams")
@bp.response(200, TeamSchema(many=True))
def list_teams():
    """List teams."""
    return service.list_teams(get_session())


@bp.post("/teams")
@bp.arguments(TeamSchema)
@bp.response(201, TeamSchema)
def create_team(data):
    """Create a team (administrators only). Business hours default to Mon-Fri 09:00-17:00 local."""
    require_admin(current_user())
    session = get_session()
    team = service.create_team(session, **data)
    session.commit()
    return team


@bp.get("/teams/<int:team_id>")
@bp.response(200, TeamSchema)
def get_team(team_id: int):
    """One team."""
    return service.get_team(get_session(), team_id)


@bp.patch("/teams/<int:team_id>")
@bp.arguments(TeamSchema(partial=True))
@bp.response(200, TeamSchema)
def update_team(data, team_id: int):
    """Change a team (its admins or administrators)."""
    require_team_admin(current_user(), team_id)
    session = get_session()
    team = service.update_team(session, service.get_team(session, team_id), data)
    session.commit()
    return team


@bp.delete("/teams/<int:team_id>")
@bp.response(204)
def delete_team(team_id: int):
    """Delete a team that has no rotations (administrators only)."""
    from oncall.schedules.models import Rotation

    require_admin(current_user())
    session = get_session()
    team = service.get_team(session, team_id)
    if session.scalar(select(exists().where(Rotation.team_id == team_id))):
        raise Conflict("this team still has rotations; delete them first")
    session.delete(team)
    session.commit()


@bp.put("/teams/<int:team_id>/members")
@bp.arguments(MembersSchema)
@bp.response(200, TeamMembersSchema)
def set_members(data, team_id: int):
    """Replace the team's members; `admin_ids` (a subset) may also set who administers it."""
    me = current_user()
    require_team_admin(me, team_id)
    session = get_session()
    team = service.get_team(session, team_id)
    if not me.is_admin and data.get("admin_ids") is not None and me.id not in data["admin_ids"]:
        raise Forbidden("a team admin cannot remove their own admin role", fields={"admin_ids": ["Keep yourself."]})
    service.set_members(session, team, **data)
    session.commit()
    return {"user_ids": team.member_ids, "admin_ids": [m.user_id for m in team.members if m.role == "admin"]}
