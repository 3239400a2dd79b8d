"""/api/v1/tokens: a person's own API tokens (administrators: anyone's). The token itself is shown once."""
from flask import g
from flask_smorest import Blueprint

from oncall.auth import current_user
from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Forbidden
from oncall.people import tokens
from oncall.people.schemas import ApiTokenSchema, NewApiTokenSchema, NewApiTokenResultSchema, TokenQuerySchema

bp = Blueprint("tokens_api", __name__, url_prefix="/api/v1", description="API tokens")


def _owner_id(requested: int | None) -> int:
    """Whose tokens: yours unless you name someone else, which only administrators may."""
    me = current_user()
    if requested is None or requested == me.id:
        return me.id
    if not me.is_admin:
        raise Forbidden("Only administrators may manage other people's tokens.", fields={"user_id": ["Not yours."]})
    return requested


def _visible_token(token_id: int):
    """The token if it is the caller's or the caller is an administrator; otherwise it does not exist for them."""
    me = current_user()
    return tokens.get_token(get_session(), token_id, owner_id=None if me.is_admin else me.id)


@bp.get("/tokens")
@bp.arguments(TokenQuerySchema, location="query")
@bp.response(200, ApiTokenSchema(many=True))
def list_tokens(args):
    """Your API tokens (administrators: `user_id` lists someone else's), newest first, without their secret."""
    session = get_session()
    return [tokens.describe(t, now=utcnow()) for t in tokens.list_tokens(session, user_id=_owner_id(args["user_id"]))]


@bp.post("/tokens")
@bp.arguments(NewApiTokenSchema)
@bp.response(201, NewApiTokenResultSchema)
def create_token(data):
    """Create a token, shown once in the answer. It expires no later than the token that creates it
    (`expires_at` defaults to that), so a token can never extend its own life; administrators may create one
    for someone else with `user_id`."""
    session = get_session()
    now = utcnow()
    owner = tokens.get_owner(session, _owner_id(data["user_id"]))
    record, secret = tokens.issue_token(session, user=owner, name=data["name"], expires_at=data["expires_at"],
                                        creator_token_id=g.current_token_id, now=now)
    session.commit()
    return tokens.describe(record, now=now) | {"token": secret}


@bp.get("/tokens/<int:token_id>")
@bp.response(200, ApiTokenSchema)
def get_token(token_id: int):
    """One of your tokens (administrators: anyone's), without its secret."""
    return tokens.describe(_visible_token(token_id), now=utcnow())


@bp.delete("/tokens/<int:token_id>")
@bp.response(204)
def revoke_token(token_id: int):
    """Revoke a token at once (the one making this call too, if it is that one)."""
    session = get_session()
    tokens.revoke(session, _visible_token(token_id))
    session.commit()
