"""Passwords and sign-in with a throttle on failures. Never commits: the caller owns the transaction,
and must commit even when sign-in fails, so the failure is counted."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from oncall.errors import Invalid, OncallError, Unauthorized
from oncall.people.models import User
from oncall.web.models import LoginFailure

# 5 failures per email and address in 15 minutes stop password guessing at about 480 a day per
# address while a person who mistypes a few times is not locked out for long.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# Werkzeug 3 defaults to scrypt (memory-hard); spelled out so a library change cannot weaken it.
HASH_METHOD = "scrypt"


class Throttled(OncallError):
    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, int(retry_after.total_seconds() // 60) + (retry_after.total_seconds() % 60 > 0))
        super().__init__(f"Too many failed sign-ins for this email from your address. Try again in {minutes} minutes.")
        self.retry_after = retry_after


def hash_password(password: str, method: str = HASH_METHOD) -> str:
    return generate_password_hash(password, method=method)


def set_password(session: Session, *, user: User, password: str, method: str = HASH_METHOD) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"passwords need at least {MIN_PASSWORD_LENGTH} characters",
                      fields={"password": [f"At least {MIN_PASSWORD_LENGTH} characters."]})
    user.password_hash = hash_password(password, method)
    session.flush()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not a real password, only here to spend the same time")


def _recent_failures(session: Session, email: str, ip: str, now: datetime) -> list[datetime]:
    return list(session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.email == email, LoginFailure.ip == ip, LoginFailure.at > now - FAILURE_WINDOW)
        .order_by(LoginFailure.at)
    ))


def _take_turn(session: Session, email: str, ip: str) -> None:
    """Attempts for one email from one address run one at a time, from counting the failures to recording
    this one: otherwise a burst of simultaneous guesses all count the same few failures and all get checked.
    Held until the caller's transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        # A transaction-scoped advisory lock on the pair (a hash collision only makes two pairs take turns);
        # unlike a row lock it needs no row to exist first, and it never blocks attempts for other pairs.
        key = int.from_bytes(hashlib.sha256(f"{email}\0{ip}".encode()).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))
    # SQLite: the request's transaction began IMMEDIATE (oncall.db), so it already holds the database's only
    # write lock from its first statement; attempts (and every other write) take turns there.


def authenticate(session: Session, *, email: str, password: str, ip: str, now: datetime) -> User:
    """The user with this email and password. Raises Throttled after MAX_FAILURES recent failures for this
    email from this address (even for the right password, so guessing learns nothing), else Unauthorized.
    The count and the check are atomic: at most MAX_FAILURES guesses are ever checked, however many arrive
    at once."""
    email = (email or "").strip().lower()[:320]
    ip = (ip or "unknown")[:64]
    _take_turn(session, email, ip)
    failures = _recent_failures(session, email, ip, now)
    if len(failures) >= MAX_FAILURES:
        raise Throttled(failures[-MAX_FAILURES] + FAILURE_WINDOW - now)
    user = session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    # Check a hash even for unknown emails, so response time does not tell which emails exist.
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    if not check_password_hash(stored, password or "") or user is None or not user.password_hash:
        session.add(LoginFailure(email=email, ip=ip, at=now))
        session.flush()
        raise Unauthorized("Wrong email or password.")
    session.execute(delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.ip == ip))
    # Old failures of everyone are only dead weight; clearing them here keeps the table small.
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - FAILURE_WINDOW))
    return user


def session_fingerprint(user: User) -> str:
    """Ties a signed-in session to the password it was opened with and to the user's session epoch: a new
    password, or signing out, ends every session opened before."""
    return hashlib.sha256(f"{user.password_hash or ''}:{user.session_epoch or 0}".encode()).hexdigest()[:16]
