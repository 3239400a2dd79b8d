"""/api/v1/rotations (with shifts, on-call, overrides), team on-call and users' time off."""
from flask_smorest import Blueprint
from marshmallow import Schema

from oncall.auth import current_user, require_team_admin, require_team_member
from oncall.clock import utcnow
from oncall.db import get_session
from oncall.fields import Id
from oncall.fields import require
from oncall.people import service as people
from oncall.schedules import coverage_watch, service
from oncall.schedules.cache import CachedSchedule
from oncall.schedules.schemas import (
    AtSchema, CoverageSchema, MAX_WINDOW, OnCallSchema, OverrideSchema, RotationSchema, RotationUpdateSchema, ShiftListSchema,
    TeamOnCallSchema, TimeOffSchema, UTCDateTime, WindowSchema,
)

bp = Blueprint("schedules_api", __name__, url_prefix="/api/v1", description="Rotations, overrides, time off")


class RotationQuerySchema(Schema):
    team_id = Id(strict=False, load_default=None)


class OptionalWindowSchema(Schema):
    start = UTCDateTime(load_default=None)
    end = UTCDateTime(load_default=None)


def _rotation_body(rotation) -> dict:
    current = rotation.current
    return {
        "id": rotation.id,
        "team_id": rotation.team_id,
        "name": rotation.name,
        "time_zone": current.time_zone,
        "handoff_time": current.handoff_time,
        "shift_length": current.shift_length,
        "start_date": current.start_date,
        "participant_ids": current.participant_ids,
        "versions": rotation.versions,
        "updated_at": rotation.updated_at,
        "archived_at": rotation.archived_at,
    }


def _oncall_body(rotation: CachedSchedule, shift, users) -> dict:
    return {
        "rotation_id": rotation.rotation_id,
        "rotation_name": rotation.name,
        "user_id": shift.user_id,
        "user": users.get(shift.user_id),
        "start_at": shift.start_at,
        "end_at": shift.end_at,
        "source": shift.source,
        "covering_for": shift.covering_for,
        "override_id": shift.override_id,
    }


@bp.get("/rotations")
@bp.arguments(RotationQuerySchema, location="query")
@bp.response(200, RotationSchema(many=True))
def list_rotations(args):
    """List rotations, optionally of one team."""
    return [_rotation_body(r) for r in service.list_rotations(get_session(), team_id=args["team_id"])]


@bp.post("/rotations")
@bp.arguments(RotationSchema)
@bp.response(201, RotationSchema)
def create_rotation(data):
    """Create a rotation: the first shift starts at start_date + handoff_time local, participants in order."""
    require_team_admin(current_user(), data["team_id"])
    session = get_session()
    rotation = service.create_rotation(session, **data)
    session.commit()
    return _rotation_body(service.get_rotation(session, rotation.id))


@bp.get("/rotations/<int:rotation_id>")
@bp.response(200, RotationSchema)
def get_rotation(rotation_id: int):
    """One rotation, with every version of its configuration."""
    return _rotation_body(service.get_rotation(get_session(), rotation_id))


@bp.patch("/rotations/<int:rotation_id>")
@bp.arguments(RotationUpdateSchema)
@bp.response(200, RotationSchema)
def update_rotation(data, rotation_id: int):
    """Rename at once; participants, shift length, handoff time, zone or start date change from `effective_at`
    (default now), leaving earlier shifts as they were; changes already scheduled later still happen then."""
    session = get_session()
    rotation = service.get_rotation(session, rotation_id)
    require_team_admin(current_user(), rotation.team_id)
    service.update_rotation(session, rotation, data, now=utcnow())
    session.commit()
    return _rotation_body(service.get_rotation(session, rotation_id))


@bp.post("/rotations/<int:rotation_id>/archive")
@bp.response(200, RotationSchema)
def archive_rotation(rotation_id: int):
    """Archive a rotation (team admins): it pages nobody from now on and leaves the team's lists, default
    policies and handoff reminders; its history stays. Archiving twice changes nothing."""
    session = get_session()
    rotation = service.get_rotation(session, rotation_id)
    require_team_admin(current_user(), rotation.team_id)
    service.archive_rotation(session, rotation, now=utcnow())
    session.commit()
    return _rotation_body(service.get_rotation(session, rotation_id))


@bp.delete("/rotations/<int:rotation_id>")
@bp.response(204)
def delete_rotation(rotation_id: int):
    """Delete a rotation with its overrides."""
    session = get_session()
    rotation = service.get_rotation(session, rotation_id)
    require_team_admin(current_user(), rotation.team_id)
    session.delete(rotation)
    session.commit()


@bp.get("/rotations/<int:rotation_id>/shifts")
@bp.arguments(WindowSchema, location="query")
@bp.response(200, ShiftListSchema)
def list_shifts(window, rotation_id: int):
    """Final, contiguous shifts of [start, end) with overrides and time off applied (at most 400 days)."""
    shifts = service.shifts_between(get_session(), rotation_id=rotation_id, **window)
    return {"rotation_id": rotation_id, "start": window["start"], "end": window["end"], "shifts": shifts}


@bp.get("/rotations/<int:rotation_id>/oncall")
@bp.arguments(AtSchema(), location="query")  # instances, not classes: built once, not per request
@bp.response(200, OnCallSchema())
def rotation_oncall(args, rotation_id: int):
    """Who is on call at `at` (default now): user, the shift's start and end, and why."""
    session = get_session()
    at = args["at"] or utcnow()
    [(rotation, shift)] = service.on_call_for(session, rotation_ids=[rotation_id], at=at)
    return _oncall_body(rotation, shift, rotation.people)


@bp.get("/teams/<int:team_id>/oncall")
@bp.arguments(AtSchema(), location="query")
@bp.response(200, TeamOnCallSchema())
def team_oncall(args, team_id: int):
    """Who is on call at `at` (default now) in each of the team's rotations."""
    session = get_session()
    at = args["at"] or utcnow()
    pairs = service.team_on_call_at(session, team_id=team_id, at=at)
    return {"team_id": team_id, "at": at, "oncall": [_oncall_body(r, s, r.people) for r, s in pairs]}


@bp.get("/teams/<int:team_id>/coverage")
@bp.arguments(OptionalWindowSchema, location="query")
@bp.response(200, CoverageSchema())
def team_coverage(args, team_id: int):
    """Every stretch of [start, end) (default: the next 14 days) in which a rotation of the team has nobody on
    call, from the final shifts (overrides and time off applied)."""
    session = get_session()
    people.get_team(session, team_id)
    start = args["start"] or utcnow()
    end = args["end"] or start + coverage_watch.DEFAULT_SPAN
    require(end > start, "end", "Must be after start.")
    require(end - start <= MAX_WINDOW, "end", f"Windows are limited to {MAX_WINDOW.days} days.")
    gaps = coverage_watch.team_gaps(session, team_id, start, end)
    return {"team_id": team_id, "start": start, "end": end,
            "gaps": [{"rotation_id": g.rotation_id, "start": g.start_at, "end": g.end_at} for g in gaps]}


# --- overrides -------------------------------------------------------------------------------

@bp.get("/rotations/<int:rotation_id>/overrides")
@bp.arguments(OptionalWindowSchema, location="query")
@bp.response(200, OverrideSchema(many=True))
def list_overrides(args, rotation_id: int):
    """Overrides of a rotation, optionally those overlapping [start, end)."""
    session = get_session()
    service.get_rotation(session, rotation_id)
    return service.list_overrides(session, rotation_id, args["start"], args["end"])


@bp.post("/rotations/<int:rotation_id>/overrides")
@bp.arguments(OverrideSchema)
@bp.response(201, OverrideSchema)
def create_override(data, rotation_id: int):
    """Someone covers the rotation from start to end. 409 if it overlaps another override."""
    session = get_session()
    me = current_user()
    require_team_member(me, service.get_rotation(session, rotation_id).team_id)
    override = service.add_override(session, rotation_id=rotation_id, created_by_id=me.id, now=utcnow(), **data)
    session.commit()
    return override


@bp.get("/rotations/<int:rotation_id>/overrides/<int:override_id>")
@bp.response(200, OverrideSchema)
def get_override(rotation_id: int, override_id: int):
    """One override."""
    return service.get_override(get_session(), rotation_id, override_id)


@bp.patch("/rotations/<int:rotation_id>/overrides/<int:override_id>")
@bp.arguments(OverrideSchema(partial=True))
@bp.response(200, OverrideSchema)
def update_override(data, rotation_id: int, override_id: int):
    """Change an override's person, window or reason."""
    session = get_session()
    require_team_member(current_user(), service.get_rotation(session, rotation_id).team_id)
    override = service.get_override(session, rotation_id, override_id)
    service.update_override(session, override, data, now=utcnow())
    session.commit()
    return override


@bp.delete("/rotations/<int:rotation_id>/overrides/<int:override_id>")
@bp.response(204)
def delete_override(rotation_id: int, override_id: int):
    """Remove an override."""
    session = get_session()
    require_team_member(current_user(), service.get_rotation(session, rotation_id).team_id)
    service.delete_override(session, service.get_override(session, rotation_id, override_id), now=utcnow())
    session.commit()


# --- time off --------------------------------------------------------------------------------

def _require_self_or_admin(user_id: int) -> None:
    """The person, a site admin, or an admin of one of the person's teams (auth.may_manage_time_off)."""
    from oncall.auth import require_time_off_manager
    from oncall.people.service import get_user

    require_time_off_manager(current_user(), get_user(get_session(), user_id))


@bp.get("/users/<int:user_id>/time-off")
@bp.response(200, TimeOffSchema(many=True))
def list_time_off(user_id: int):
    """A user's time off."""
    session = get_session()
    from oncall.people.service import get_user

    get_user(session, user_id)
    return service.list_time_off(session, user_id)


@bp.post("/users/<int:user_id>/time-off")
@bp.arguments(TimeOffSchema)
@bp.response(201, TimeOffSchema)
def create_time_off(data, user_id: int):
    """Record time off; the user's shifts in it go to the next available participant of each rotation."""
    _require_self_or_admin(user_id)
    session = get_session()
    entry = service.add_time_off(session, user_id=user_id, now=utcnow(), **data)
    session.commit()
    return entry


@bp.get("/users/<int:user_id>/time-off/<int:time_off_id>")
@bp.response(200, TimeOffSchema)
def get_time_off(user_id: int, time_off_id: int):
    """One time-off entry."""
    return service.get_time_off(get_session(), user_id, time_off_id)


@bp.patch("/users/<int:user_id>/time-off/<int:time_off_id>")
@bp.arguments(TimeOffSchema(partial=True))
@bp.response(200, TimeOffSchema)
def update_time_off(data, user_id: int, time_off_id: int):
    """Change a time-off entry."""
    _require_self_or_admin(user_id)
    session = get_session()
    entry = service.update_time_off(session, service.get_time_off(session, user_id, time_off_id), data, now=utcnow())
    session.commit()
    return entry


@bp.delete("/users/<int:user_id>/time-off/<int:time_off_id>")
@bp.response(204)
def delete_time_off(user_id: int, time_off_id: int):
    """Cancel a time-off entry."""
    _require_self_or_admin(user_id)
    session = get_session()
    service.delete_time_off(session, service.get_time_off(session, user_id, time_off_id), now=utcnow())
    session.commit()
