"""Bearer-token authentication for /api/v1 and the permission checks views share."""
import logging

from flask import Flask, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from oncall import bodies
from oncall.clock import isoformat_z, utcnow
from oncall.db import after_request_session, get_session, get_sessionmaker
from oncall.errors import Forbidden, Unauthorized
from oncall.people.models import User
from oncall.people.tokens import find_token, record_use

log = logging.getLogger(__name__)

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
        use = find_token(get_session(), token.strip())
        if use is None:
            raise Unauthorized("Unknown or revoked API token.")
        now = utcnow()
        if use.expired(now):
            raise Unauthorized(f"This API token expired at {isoformat_z(use.expires_at)}; create another with "
                               "POST /api/v1/tokens or `oncall token create`.")
        g.current_user_id, g.current_token_id = use.user_id, use.token_id
        if use.due_for_use_record(now):
            # After the request's own transaction: a GET's session cannot write, and on SQLite a second
            # connection would wait for the request's own write lock.
            app = current_app._get_current_object()
            after_request_session(lambda: _record_use(app, use.token_id, now))
        # Only now is the body read: an unauthenticated request never gets its JSON parsed.
        return bodies.check_request()


def _record_use(app: Flask, token_id: int, now) -> None:
    try:
        with get_sessionmaker(app).begin() as session:
            record_use(session, token_id, now)
    except SQLAlchemyError:  # a busy or unreachable database costs the stamp, never the answer
        log.warning("could not record the use of API token %s", token_id, exc_info=True)


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



def may_manage_time_off(actor: User, person: User) -> bool:
    """A person's time off: themselves, site admins, and the admins of a team the person is in (a lead enters
    leave on behalf of their team)."""
    if actor.is_admin or actor.id == person.id:
        return True
    admin_of = {m.team_id for m in actor.memberships if m.role == "admin"}
    return any(m.team_id in admin_of for m in person.memberships)


def require_time_off_manager(actor: User, person: User) -> None:
    if not may_manage_time_off(actor, person):
        raise Forbidden("Only the person, an admin of one of their teams, or a site admin may change their time off.")
