"""API tokens: minted and shown once (only a hash is kept), looked up on every call, listed, expired and
revoked. Never commits: the caller owns the transaction."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from oncall.errors import Invalid, NotFound
from oncall.people.models import ApiToken, User

TOKEN_PREFIX = "oncall_"
# last_used_at is for people deciding which tokens to revoke: to the minute is plenty, and it spares every
# API call a write (one per token and minute at most).
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Enough for every script and integration a person runs; a bound, so a loop cannot fill the table.
MAX_TOKENS_PER_USER = 100


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenUse:
    """What authentication needs to know about a presented token."""

    token_id: int
    user_id: int
    expires_at: datetime | None
    last_used_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def due_for_use_record(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION


# Built once: every API call runs it, and constructing a statement costs more than executing it.
_USE_BY_HASH = select(ApiToken.id, ApiToken.user_id, ApiToken.expires_at, ApiToken.last_used_at).where(
    ApiToken.token_hash == bindparam("token_hash"))


def find_token(session: Session, token: str) -> TokenUse | None:
    """The hot path of every API call: one indexed lookup, no ORM object. The lookup is by hash, so timing
    reveals nothing about stored tokens' text."""
    row = session.connection().execute(_USE_BY_HASH, {"token_hash": hash_token(token)}).first()
    return TokenUse(*row) if row is not None else None


def record_use(session: Session, token_id: int, now: datetime) -> None:
    """Stamp last_used_at, unless another process did within the resolution (checked in the statement, so
    concurrent calls with one token write once)."""
    session.execute(update(ApiToken).where(
        ApiToken.id == token_id,
        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_RESOLUTION),
    ).values(last_used_at=now))


def issue_token(session: Session, *, user: User, name: str | None, now: datetime, expires_at: datetime | None = None,
                creator_token_id: int | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`: its row and its text (to show once). Made through the API (`creator_token_id`),
    it expires no later than the token that made it, so no token can extend its own life."""
    if expires_at is not None and expires_at <= now:
        raise Invalid("a token must expire in the future", fields={"expires_at": ["Must be in the future."]})
    if creator_token_id is not None:
        limit = session.scalar(select(ApiToken.expires_at).where(ApiToken.id == creator_token_id))
        if limit is not None:
            if expires_at is not None and expires_at > limit:
                raise Invalid("a token cannot outlive the token that creates it",
                              fields={"expires_at": [f"At most {limit.isoformat()}, when your token expires."]})
            expires_at = expires_at or limit
    count = session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id))
    if count >= MAX_TOKENS_PER_USER:
        raise Invalid(f"{user.email} has {count} tokens already; revoke some first",
                      fields={"user_id": [f"At most {MAX_TOKENS_PER_USER} tokens per person."]})
    secret = mint_token()
    record = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret), created_at=now, expires_at=expires_at)
    session.add(record)
    session.flush()
    return record, secret


def create_api_token(session: Session, *, user: User, name: str | None = None,
                     expires_at: datetime | None = None) -> str:
    """A new token's text (for the CLI, the demo and tests)."""
    from oncall.clock import utcnow

    return issue_token(session, user=user, name=name, expires_at=expires_at, now=utcnow())[1]


def get_owner(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", fields={"user_id": ["No such user."]})
    return user


def list_tokens(session: Session, *, user_id: int | None = None) -> list[ApiToken]:
    """Newest first; everyone's when `user_id` is None (the CLI)."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query))


def get_token(session: Session, token_id: int, *, owner_id: int | None = None) -> ApiToken:
    """The token; with `owner_id`, only if it is theirs (anyone else's does not exist for them)."""
    token = session.get(ApiToken, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise NotFound(f"token {token_id} does not exist")
    return token


def revoke(session: Session, token: ApiToken) -> None:
    """Revoked tokens are deleted: nothing about them is needed any more, and the hash lookup stays small."""
    session.delete(token)
    session.flush()


def describe(token: ApiToken, *, now: datetime) -> dict:
    return {"id": token.id, "user_id": token.user_id, "name": token.name, "created_at": token.created_at,
            "expires_at": token.expires_at, "last_used_at": token.last_used_at,
            "expired": token.expires_at is not None and token.expires_at <= now}
