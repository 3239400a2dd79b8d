"""Phone numbers and their verification. Never commits: the caller owns the transaction.

Only a verified number is paged. A number becomes verified in one of two ways:
- a person enters it (the web profile, or the API for themselves) and types back the code sent to it by SMS,
  through the paging outbox like every other message (the console notifier prints it);
- an administrator sets it (the API or the CLI as a site admin, `oncall demo`): they vouch for it, as they
  always did before numbers were verified, so provisioning scripts and the demo keep working.
A number that changes starts unverified again (unless an administrator sets it)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncall.errors import Conflict, Invalid
from oncall.paging.models import PENDING, SMS, TEST_PAGE, VERIFY_PHONE, Notification
from oncall.paging.texts import test_page_sms, verification_sms
from oncall.people.models import PhoneVerification, User

CODE_LIFETIME = timedelta(minutes=10)
# Six digits and five tries: a guesser has one chance in 200,000 per code, and a code costs them an SMS
# that the person sees.
CODE_DIGITS = 6
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
# Each code is an SMS we pay for and a message on someone's phone: a bound per person and day.
MAX_CODES_PER_DAY = 10
TEST_PAGES_PER_HOUR = 5


def _hash(user_id: int, phone: str, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{phone}:{code}".encode()).hexdigest()


def set_phone(session: Session, user: User, phone: str | None, *, vouched: bool, now: datetime) -> bool:
    """Give `user` this number (None removes it). Returns whether a verification code was sent: a new number
    not vouched for by an administrator is unverified until its code is entered. The same number again
    changes nothing."""
    if phone == user.phone and (user.phone_verified or not vouched):
        return False
    user.phone = phone
    user.phone_verified = bool(phone) and vouched
    session.flush()
    if phone and not vouched:
        send_code(session, user, now=now)
        return True
    return False


def _codes_since(session: Session, user_id: int, since: datetime) -> list[PhoneVerification]:
    return list(session.scalars(select(PhoneVerification).where(
        PhoneVerification.user_id == user_id, PhoneVerification.created_at > since)
        .order_by(PhoneVerification.created_at.desc(), PhoneVerification.id.desc())))


def send_code(session: Session, user: User, *, now: datetime) -> PhoneVerification:
    """Put a new code for the user's current number in the outbox (earlier codes stop working)."""
    if not user.phone:
        raise Invalid("add a phone number first", fields={"phone": ["Add a phone number first."]})
    if user.phone_verified:
        raise Conflict(f"{user.phone} is verified already", fields={"code": ["This number is verified already."]})
    recent = _codes_since(session, user.id, now - timedelta(days=1))
    if recent and now - recent[0].created_at < RESEND_AFTER and recent[0].phone == user.phone:
        wait = int((recent[0].created_at + RESEND_AFTER - now).total_seconds()) + 1
        raise Invalid(f"a code was sent less than a minute ago; ask again in {wait} seconds",
                      fields={"code": [f"A code was just sent. Ask again in {wait} seconds."]})
    if len(recent) >= MAX_CODES_PER_DAY:
        raise Invalid(f"{MAX_CODES_PER_DAY} codes were sent in the last day; try again tomorrow",
                      fields={"code": [f"{MAX_CODES_PER_DAY} codes in a day is the limit. Try again tomorrow."]})
    for old in recent:
        if old.verified_at is None:
            old.expires_at = min(old.expires_at, now)
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    record = PhoneVerification(user_id=user.id, phone=user.phone, code_hash=_hash(user.id, user.phone, code),
                               created_at=now, expires_at=now + CODE_LIFETIME, attempts=0)
    session.add(record)
    session.add(Notification(incident_id=None, step=0, round=0, user_id=user.id, channel=SMS, state=PENDING,
                             next_attempt_at=now, created_at=now, to=user.phone, purpose=VERIFY_PHONE,
                             body=verification_sms(code, minutes=int(CODE_LIFETIME.total_seconds() // 60))))
    session.flush()
    return record


@dataclass(frozen=True)
class Outcome:
    verified: bool
    message: str


def confirm_code(session: Session, user: User, code: str, *, now: datetime) -> Outcome:
    """Check a code typed back. A wrong code counts against the code's tries, so the caller commits whatever
    the outcome (and shows `message` when not verified)."""
    code = "".join((code or "").split())
    if user.phone_verified:
        return Outcome(True, f"{user.phone} is verified.")
    if not user.phone:
        return Outcome(False, "Add a phone number first.")
    record = session.scalar(select(PhoneVerification).where(
        PhoneVerification.user_id == user.id, PhoneVerification.phone == user.phone,
        PhoneVerification.verified_at.is_(None))
        .order_by(PhoneVerification.created_at.desc(), PhoneVerification.id.desc()).limit(1).with_for_update())
    if record is None or record.expires_at <= now:
        return Outcome(False, "That code has expired. Send a new one.")
    if record.attempts >= MAX_ATTEMPTS:
        return Outcome(False, "Too many wrong codes. Send a new one.")
    record.attempts += 1
    session.flush()
    if not (code.isdigit() and len(code) == CODE_DIGITS
            and hmac.compare_digest(record.code_hash, _hash(user.id, user.phone, code))):
        left = MAX_ATTEMPTS - record.attempts
        return Outcome(False, f"Wrong code; {left} {'try' if left == 1 else 'tries'} left." if left else
                       "Wrong code, and that was the last try. Send a new one.")
    record.verified_at = now
    user.phone_verified = True
    session.flush()
    return Outcome(True, f"{user.phone} is verified: pages will reach you there.")


def send_test_page(session: Session, user: User, *, now: datetime) -> Notification:
    """A test SMS through the outbox, as a page would go (the person's SMS window, STOP, retries)."""
    if not user.pageable_phone:
        raise Invalid("verify your phone number first", fields={"phone": ["Verify your phone number first."]})
    if user.sms_opted_out:
        raise Invalid("you have opted out of SMS (texted STOP); text START to the oncall number to opt back in",
                      fields={"phone": ["You texted STOP: text START to receive SMS again."]})
    sent = session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.purpose == TEST_PAGE,
        Notification.created_at > now - timedelta(hours=1)))
    if sent >= TEST_PAGES_PER_HOUR:
        raise Invalid(f"{TEST_PAGES_PER_HOUR} test pages an hour is the limit",
                      fields={"phone": [f"{TEST_PAGES_PER_HOUR} test pages an hour is the limit."]})
    row = Notification(incident_id=None, step=0, round=0, user_id=user.id, channel=SMS, state=PENDING,
                       next_attempt_at=now, created_at=now, to=user.phone, purpose=TEST_PAGE,
                       body=test_page_sms(user.name))
    session.add(row)
    session.flush()
    return row


def channels(user: User) -> list[dict]:
    """Which channels reach the person, and why not when they do not (for their profile page)."""
    if not user.phone:
        reason = "no phone number"
        return [{"channel": "sms", "ok": False, "why": reason}, {"channel": "voice", "ok": False, "why": reason}]
    if not user.phone_verified:
        reason = f"{user.phone} is not verified yet"
        return [{"channel": "sms", "ok": False, "why": reason}, {"channel": "voice", "ok": False, "why": reason}]
    return [{"channel": "sms", "ok": not user.sms_opted_out,
             "why": "you texted STOP (pages come by voice instead)" if user.sms_opted_out else user.phone},
            {"channel": "voice", "ok": True, "why": user.phone}]


def unverified_on_rotations(session: Session, *, team_ids: list[int], now: datetime) -> dict[int, list[dict]]:
    """Per team: the people on one of its rotations (now or in a version taking effect later) who cannot be
    paged because they have no verified number, each with the rotations they are on."""
    from sqlalchemy.orm import selectinload

    from oncall.schedules.models import Rotation, RotationVersion

    if not team_ids:
        return {}
    rotations = session.scalars(select(Rotation).where(Rotation.team_id.in_(team_ids), Rotation.archived_at.is_(None))
                                .options(selectinload(Rotation.versions).selectinload(RotationVersion.participants))
                                .order_by(Rotation.name, Rotation.id))
    on: dict[tuple[int, int], list[str]] = {}
    for rotation in rotations:
        versions = rotation.versions
        in_force = max((i for i, v in enumerate(versions) if v.effective_at is None or v.effective_at <= now),
                       default=0)
        for user_id in dict.fromkeys(uid for v in versions[in_force:] for uid in v.participant_ids):
            on.setdefault((rotation.team_id, user_id), []).append(rotation.name)
    user_ids = {uid for _, uid in on}
    people = {u.id: u for u in session.scalars(select(User).where(
        User.id.in_(user_ids), (User.phone.is_(None)) | (User.phone_verified.is_(False))))} if user_ids else {}
    out: dict[int, list[dict]] = {}
    for (team_id, user_id), names in on.items():
        user = people.get(user_id)
        if user is not None:
            out.setdefault(team_id, []).append({"user_id": user.id, "name": user.name, "phone": user.phone,
                                                "rotations": names})
    for rows in out.values():
        rows.sort(key=lambda r: r["name"].lower())
    return out
