"""Load, check and change users and teams. Never commits: the caller owns the transaction."""
from datetime import datetime, time

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


def create_user(session: Session, *, name: str, email: str, phone: str | None, time_zone: str,
                phone_verified: bool = True) -> User:
    """A new person. `phone_verified`: whether whoever creates them vouches for the number (an administrator
    through the API, the CLI or the demo does; a web invite does not, and the person confirms it by code)."""
    _check_email_free(session, email)
    user = User(name=name, email=email.lower(), phone=phone, time_zone=time_zone,
                phone_verified=bool(phone) and phone_verified)
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, user: User, changes: dict, *, vouched: bool, now: datetime) -> bool:
    """Apply `changes` (UserUpdateSchema's fields). A new phone number goes through phones.set_phone: unless
    an administrator vouches for it, it is unverified and a code is sent to it. Returns whether one was."""
    from oncall.people import phones

    changes = dict(changes)
    if "email" in changes:
        _check_email_free(session, changes["email"], except_id=user.id)
        changes["email"] = changes["email"].lower()
    sent = False
    if "phone" in changes:
        sent = phones.set_phone(session, user, changes.pop("phone"), vouched=vouched, now=now)
    for key, value in changes.items():
        setattr(user, key, value)
    _touch_schedules(session, user)
    session.flush()
    return sent


def _touch_schedules(session: Session, user: User) -> None:
    # Schedules cache people's names and phones (schedules/cache.py): make their rotations look changed.
    from oncall.schedules.service import touch_rotations_of_user

    touch_rotations_of_user(session, user.id)


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
        from oncall.schedules.models import Rotation
        from oncall.schedules.service import touch_rotations

        touch_rotations(session, list(session.scalars(select(Rotation.id).where(Rotation.team_id == team.id))))
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


def change_members(session: Session, team: Team, *, actor: User, user_ids: list[int],
                   admin_ids: list[int] | None) -> Team:
    """set_members by `actor` (a team admin or site admin, checked by the caller): a team admin may not drop
    their own admin role or leave, which could leave the team with nobody to run it."""
    from oncall.errors import Forbidden

    if not actor.is_admin:
        if actor.id not in user_ids:
            raise Forbidden("a team admin cannot remove themselves from the team", fields={"user_ids": ["Keep yourself."]})
        if admin_ids is not None and actor.id not in admin_ids:
            raise Forbidden("a team admin cannot remove their own admin role", fields={"admin_ids": ["Keep yourself."]})
    return set_members(session, team, user_ids=user_ids, admin_ids=admin_ids)


def invite_person(session: Session, *, team: Team, name: str, email: str, phone: str | None,
                  time_zone: str) -> User:
    """A new person in `team` (the caller checked that the inviter is its admin). Their phone is unverified
    until they enter the code sent to it: the inviter does not vouch for it as a site admin would."""
    user = create_user(session, name=name, email=email, phone=phone, time_zone=time_zone, phone_verified=False)
    set_members(session, team, user_ids=team.member_ids + [user.id], admin_ids=None)
    return user


def find_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise Invalid(f"nobody has the email {email}", fields={"email": ["Nobody has this email."]})
    return user


def team_with_people(session: Session, team_id: int) -> Team:
    """The team with its memberships and their people loaded (for a page listing them)."""
    team = session.scalar(select(Team).where(Team.id == team_id)
                          .options(selectinload(Team.members).selectinload(TeamMember.user)))
    if team is None:
        raise NotFound(f"team {team_id} does not exist")
    return team


def teams_visible_to(session: Session, user: User) -> list[Team]:
    """Site admins see every team; anyone else the teams they belong to."""
    query = select(Team).order_by(Team.name, Team.id)
    if not user.is_admin:
        query = query.where(Team.id.in_(select(TeamMember.team_id).where(TeamMember.user_id == user.id)))
    return list(session.scalars(query))
