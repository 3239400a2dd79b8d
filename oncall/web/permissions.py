"""Who may do what on the web pages. Any signed-in person may look; team members act on their team
(handoffs, watch items, incidents, overrides); team admins and site admins change its rotations."""
from oncall.auth import require_team_admin, require_team_member  # noqa: F401  (the raising variants)
from oncall.people.models import User


def is_member(user: User, team_id: int) -> bool:
    return user.is_admin or any(m.team_id == team_id for m in user.memberships)


def is_team_admin(user: User, team_id: int) -> bool:
    return user.is_admin or any(m.team_id == team_id and m.role == "admin" for m in user.memberships)


def member_team_ids(user: User) -> set[int]:
    return {m.team_id for m in user.memberships}
