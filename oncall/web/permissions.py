"""Who may do what on the web pages. Only a team's members (and site admins) see anything of it; members act on their team
(handoffs, watch items, incidents, overrides); team admins and site admins change its rotations."""
from oncall.auth import require_team_admin, require_team_member  # noqa: F401  (the raising variants)
from oncall.errors import NotFound
from oncall.people.models import User


def is_member(user: User, team_id: int) -> bool:
    return user.is_admin or any(m.team_id == team_id for m in user.memberships)


def require_visible(user: User, team_id: int, what: str = "page") -> None:
    """Everything about a team (its rotations, calendars, incidents, handoffs) is for its members and site
    admins: anyone else gets a 404, as if it did not exist (its names are not theirs to learn)."""
    if not is_member(user, team_id):
        raise NotFound(f"{what} not found")


def is_team_admin(user: User, team_id: int) -> bool:
    return user.is_admin or any(m.team_id == team_id and m.role == "admin" for m in user.memberships)


def member_team_ids(user: User) -> set[int]:
    return {m.team_id for m in user.memberships}
