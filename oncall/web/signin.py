"""Passwords and sign-in with a throttle on failures. Never commits: the caller owns the transaction,
and must commit even when sign-in fails, so the failure is counted."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from oncall.errors import Forbidden, Invalid, NotFound, OncallError, Unauthorized
from oncall.people.models import User
from oncall.web.models import LoginFailure, SignInLink

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


# --- one-time sign-in links ------------------------------------------------------------------------------

SIGN_IN_LINK_LIFETIME = timedelta(days=3)


def may_manage_sign_in(actor: User, person: User) -> bool:
    """Site admins for anyone; a team admin for a person of their team who has never had a password (someone
    they invited), so that no team admin can take over a colleague's account."""
    if actor.is_admin:
        return True
    if person.password_hash or person.is_admin:
        return False
    admin_of = {m.team_id for m in actor.memberships if m.role == "admin"}
    return any(m.team_id in admin_of for m in person.memberships)


def make_sign_in_link(session: Session, *, actor: User, person: User, now: datetime) -> str:
    """A new one-time link's secret for `person` (earlier unused links stop working)."""
    if not may_manage_sign_in(actor, person):
        raise Forbidden("Only site admins, or a team admin for someone of their team who has no password yet, "
                        "may make a sign-in link.")
    session.execute(update(SignInLink).where(SignInLink.user_id == person.id, SignInLink.used_at.is_(None),
                                             SignInLink.expires_at > now).values(expires_at=now))
    secret = secrets.token_urlsafe(32)
    session.add(SignInLink(user_id=person.id, token_hash=hashlib.sha256(secret.encode()).hexdigest(),
                           created_by_id=actor.id, created_at=now, expires_at=now + SIGN_IN_LINK_LIFETIME))
    session.flush()
    return secret


def find_sign_in_link(session: Session, secret: str, *, now: datetime, lock: bool = False):
    """The usable link behind `secret` (unused, unexpired), else None."""
    if not secret or len(secret) > 100:
        return None
    query = select(SignInLink).where(SignInLink.token_hash == hashlib.sha256(secret.encode()).hexdigest())
    link = session.scalar(query.with_for_update() if lock else query)
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link


def use_sign_in_link(session: Session, secret: str, *, password: str, now: datetime) -> User:
    """Set the person's password with a one-time link and use it up; returns the person to sign in."""
    link = find_sign_in_link(session, secret, now=now, lock=True)
    if link is None:
        raise NotFound("This sign-in link has expired or was used already. Ask an admin for a new one.")
    user = session.get(User, link.user_id)
    set_password(session, user=user, password=password)
    link.used_at = now
    session.flush()
    return user


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    if not user.password_hash or not check_password_hash(user.password_hash, current or ""):
        raise Invalid("the current password is wrong", fields={"current_password": ["Wrong password."]})
    set_password(session, user=user, password=new)


def set_first_password(session: Session, *, actor: User, person: User, password: str) -> None:
    """An admin sets the password of a person who has none yet (site admins: anyone's)."""
    if not may_manage_sign_in(actor, person):
        raise Forbidden("Only site admins, or a team admin for someone of their team who has no password yet, "
                        "may set a password for them.")
    set_password(session, user=person, password=password)
