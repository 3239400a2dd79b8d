"""API token minting and lookup: the token is shown once, only its hash is stored."""
import hashlib
import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from oncall.people.models import ApiToken, User

TOKEN_PREFIX = "oncall_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_api_token(session: Session, *, user: User, name: str | None = None) -> str:
    token = mint_token()
    session.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(token)))
    session.flush()
    return token


# Built once: every API call runs it, and constructing a statement costs more than executing it.
_USER_ID_BY_HASH = select(ApiToken.user_id).where(ApiToken.token_hash == bindparam("token_hash"))


def user_id_for_token(session: Session, token: str) -> int | None:
    """The hot path of every API call: one indexed lookup, no ORM object."""
    return session.connection().scalar(_USER_ID_BY_HASH, {"token_hash": hash_token(token)})


def user_for_token(session: Session, token: str) -> User | None:
    # The lookup is by hash, so timing reveals nothing about stored tokens' text.
    return session.scalars(
        select(User).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == hash_token(token))
    ).first()
