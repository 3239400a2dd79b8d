"""Load, check and change users and teams. Never commits: the caller owns the transaction."""
from datetime import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from oncall.errors import Conflict, Invalid, NotFound
from oncall.people.models import WEEKDAYS, Team, TeamMember, User


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} does not exist")
    return team


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).options(selectinload(User.memberships)).order_by(User.id)))


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).options(selectinload(Team.members)).order_by(Team.id)))


def _check_email_free(session: Session, email: str, *, except_id: int | None = None) -> None:
    existing = session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    if existing is not None and existing != except_id:
        raise Conflict(f"a user with email {email} already exists", fields={"email": ["Already in use."]})


def create_user(session: Session, *, name: str, email: str, phone: str | None, time_zone: str) -> User:
    _check_email_free(session, email)
    user = User(name=name, email=email.lower(), phone=phone, time_zone=time_zone)
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user: User, changes: dict) -> User:
    if "email" in changes:
        _check_email_free(session, changes["email"], except_id=user.id)
        changes["email"] = changes["email"].lower()
    for key, value in changes.items():
        setattr(user, key, value)
    _touch_schedules(session, user)
    session.flush()
    return user


def _touch_schedules(session: Session, user: User) -> None:
    # Schedules cache people's names and phones (schedules/cache.py): make their rotations look changed.
    from oncall.clock import utcnow
    from oncall.schedules.service import touch_rotations_of_user

    touch_rotations_of_user(session, user.id, utcnow())


def ensure_user(session: Session, *, email: str, name: str | None = None, admin: bool = False) -> User:
    """Used by `oncall token create`: find the user by email or create them."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None:
        user = User(name=name or email.split("@")[0], email=email.lower(), time_zone="UTC")
        session.add(user)
    elif name and name != user.name:
        user.name = name
        _touch_schedules(session, user)
    if admin:
        user.is_admin = True
    session.flush()
    return user


DEFAULT_BUSINESS_HOURS = {"days": list(WEEKDAYS[:5]), "start": time(9, 0), "end": time(17, 0)}


def _apply_business_hours(team: Team, hours: dict | None) -> None:
    """Merge the parts given onto the team's hours (a new team starts from the defaults), then check the whole."""
    current = {
        "days": DEFAULT_BUSINESS_HOURS["days"] if team.business_days is None else
        [day for day in team.business_days.split(",") if day],
        "start": team.business_start if team.business_start is not None else DEFAULT_BUSINESS_HOURS["start"],
        "end": team.business_end if team.business_end is not None else DEFAULT_BUSINESS_HOURS["end"],
    }
    merged = current | {key: value for key, value in (hours or {}).items() if value is not None}
    if merged["end"] <= merged["start"]:
        raise Invalid("business hours must end after they start",
                      fields={"business_hours": {"end": ["Business hours must end after they start."]}})
    team.business_days = ",".join(merged["days"])
    team.business_start, team.business_end = merged["start"], merged["end"]


def _check_slug_free(session: Session, slug: str, *, except_id: int | None = None) -> None:
    existing = session.scalar(select(Team.id).where(Team.slug == slug))
    if existing is not None and existing != except_id:
        raise Conflict(f"a team with slug {slug} already exists", fields={"slug": ["Already in use."]})


def create_team(session: Session, *, name: str, slug: str, time_zone: str, business_hours: dict | None = None) -> Team:
    _check_slug_free(session, slug)
    team = Team(name=name, slug=slug, time_zone=time_zone)
    _apply_business_hours(team, business_hours)
    session.add(team)
    session.flush()
    return team


def update_team(session: Session, team: Team, changes: dict) -> Team:
    if "slug" in changes:
        _check_slug_free(session, changes["slug"], except_id=team.id)
    if "business_hours" in changes:
        _apply_business_hours(team, changes.pop("business_hours"))
    for key, value in changes.items():
        setattr(team, key, value)
    if {"name", "time_zone"} & changes.keys():
        # The team's calendar feed is named after it and set in its zone (feeds/): make it look changed.
        from oncall.clock import utcnow
        from oncall.schedules.models import Rotation
        from oncall.schedules.service import touch_rotations

        touch_rotations(session, list(session.scalars(select(Rotation.id).where(Rotation.team_id == team.id))),
                        utcnow())
    session.flush()
    return team


def set_members(session: Session, team: Team, *, user_ids: list[int], admin_ids: list[int] | None) -> Team:
    wanted = list(dict.fromkeys(user_ids))
    found = set(session.scalars(select(User.id).where(User.id.in_(wanted)))) if wanted else set()
    missing = [uid for uid in wanted if uid not in found]
    if missing:
        raise Invalid(f"unknown users {missing}", fields={"user_ids": [f"Unknown user ids: {missing}"]})
    current = {m.user_id: m for m in team.members}
    if admin_ids is None:  # keep existing admin roles when the caller only lists members
        admin_ids = [uid for uid, m in current.items() if m.role == "admin"]
    for uid, member in list(current.items()):
        if uid not in wanted:
            team.members.remove(member)
    for uid in wanted:
        role = "admin" if uid in admin_ids else "member"
        if uid in current:
            current[uid].role = role
        else:
            team.members.append(TeamMember(user_id=uid, role=role))
    session.flush()
    return team
