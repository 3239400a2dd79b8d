"""Bearer-token authentication for /api/v1 and the permission checks views share."""
from flask import Flask, g, request

from oncall.db import get_session
from oncall.errors import Forbidden, Unauthorized
from oncall.people.models import User
from oncall.people.tokens import user_id_for_token

# Paths under /api/v1 that authenticate differently (or not at all).
PUBLIC_API_PATHS = {"/api/v1/openapi.json"}
OWN_AUTH_API_PATHS = {"/api/v1/integrations/alertmanager"}


def init_app(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        path = request.path
        if not path.startswith("/api/v1") or path in PUBLIC_API_PATHS or path in OWN_AUTH_API_PATHS:
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send 'Authorization: Bearer <token>'; create one with `oncall token create`.")
        user_id = user_id_for_token(get_session(), token.strip())
        if user_id is None:
            raise Unauthorized("Unknown or revoked API token.")
        g.current_user_id = user_id
        return None


def current_user() -> User:
    """The caller, loaded on first use: read-only endpoints never need the whole row."""
    if "current_user" not in g:
        g.current_user = get_session().get(User, g.current_user_id)
    return g.current_user


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only administrators may do this.")


def require_team_admin(user: User, team_id: int) -> None:
    """Site admins and the team's own admins may change its configuration."""
    if user.is_admin:
        return
    if not any(m.team_id == team_id and m.role == "admin" for m in user.memberships):
        raise Forbidden("Only this team's admins may change its configuration.")


def require_team_member(user: User, team_id: int) -> None:
    if user.is_admin:
        return
    if not any(m.team_id == team_id for m in user.memberships):
        raise Forbidden("Only members of this team may do this.")

