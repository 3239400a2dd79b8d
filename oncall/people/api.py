"""/api/v1/users and /api/v1/teams."""
from flask_smorest import Blueprint
from sqlalchemy import exists, select

from oncall.clock import utcnow
from oncall.auth import current_user, require_admin, require_team_admin
from oncall.db import get_session
from oncall.errors import Conflict, Forbidden, Invalid
from oncall.people import phones, service
from oncall.people.schemas import (MembersSchema, PhoneCodeSchema, PhoneVerificationSchema, TeamMembersSchema, TeamSchema,
                                   UserSchema, UserUpdateSchema)

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
    """Change a user: themselves or an administrator. A phone number set by an administrator counts as
    verified; one a person sets for themselves is not (`phone_verified` false) until they send back the code
    texted to it (POST /api/v1/users/{id}/phone-verification)."""
    me = current_user()
    if me.id != user_id:
        require_admin(me)
    session = get_session()
    user = service.get_user(session, user_id)
    # An administrator vouches for the number they set; anyone else's own new number waits for its code.
    service.update_user(session, user, data, vouched=me.is_admin, now=utcnow())
    session.commit()
    return user


def _own_phone(user_id: int):
    me = current_user()
    if me.id != user_id:
        raise Forbidden("Only the person themselves can verify their phone number (the code goes to their phone).")
    return me


@bp.post("/users/<int:user_id>/phone-verification")
@bp.response(202, PhoneVerificationSchema)
def send_phone_code(user_id: int):
    """Text a new verification code to your own unverified phone number (at most one a minute, ten a day);
    earlier codes stop working."""
    me = _own_phone(user_id)
    session = get_session()
    phones.send_code(session, me, now=utcnow())
    session.commit()
    return {"phone": me.phone, "phone_verified": me.phone_verified,
            "message": f"A code is on its way to {me.phone}; it expires in "
                       f"{int(phones.CODE_LIFETIME.total_seconds() // 60)} minutes."}


@bp.post("/users/<int:user_id>/phone-verification/confirm")
@bp.arguments(PhoneCodeSchema)
@bp.response(200, PhoneVerificationSchema)
def confirm_phone_code(data, user_id: int):
    """Send back the code texted to your phone: 200 once the number is verified, 422 for a wrong or expired
    code (five tries per code)."""
    me = _own_phone(user_id)
    session = get_session()
    outcome = phones.confirm_code(session, me, data["code"], now=utcnow())
    session.commit()  # a wrong code counts against its tries
    if not outcome.verified:
        raise Invalid(outcome.message, fields={"code": [outcome.message]})
    return {"phone": me.phone, "phone_verified": True, "message": outcome.message}


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
    touch_rotations_of_user(session, user_id)
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
    service.change_members(session, team, actor=me, **data)
    session.commit()
    return {"user_ids": team.member_ids, "admin_ids": [m.user_id for m in team.members if m.role == "admin"]}
