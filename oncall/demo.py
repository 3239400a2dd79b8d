"""Demo data: a few teams, rotations, overrides and time off around today, so every view shows something."""
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.people import service as people
from oncall.people.models import Team
from oncall.schedules import service as schedules

PEOPLE = [
    ("Alice Adams", "alice@example.com", "+14155550101", "America/New_York"),
    ("Bob Brown", "bob@example.com", "+14155550102", "America/New_York"),
    ("Carol Chen", "carol@example.com", "+14155550103", "America/Los_Angeles"),
    ("Dave Diaz", "dave@example.com", "+442071838750", "Europe/London"),
    ("Erin Evans", "erin@example.com", "+919812345678", "Asia/Kolkata"),
    ("Frank Fox", "frank@example.com", "+61255501234", "Australia/Sydney"),
]


def load_demo(session: Session, *, now: datetime) -> bool:
    """Create the demo data unless it is already there. Returns whether anything was created."""
    if session.scalar(select(Team.id).where(Team.slug == "payments")) is not None:
        return False
    users = [people.create_user(session, name=n, email=e, phone=p, time_zone=z) for n, e, p, z in PEOPLE]
    alice, bob, carol, dave, erin, frank = users
    alice.is_admin = True

    payments = people.create_team(session, name="Payments", slug="payments", time_zone="America/New_York")
    people.set_members(session, payments, user_ids=[alice.id, bob.id, carol.id, dave.id], admin_ids=[alice.id])
    platform = people.create_team(session, name="Platform", slug="platform", time_zone="Europe/London",
                                  business_hours={"days": ["mon", "tue", "wed", "thu", "fri"],
                                                  "start": time(8, 0), "end": time(18, 0)})
    people.set_members(session, platform, user_ids=[dave.id, erin.id, frank.id], admin_ids=[dave.id])

    # Start a few weeks back on a Monday so the history, the current shift and the next ones all exist.
    today = now.date()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=4)
    primary = schedules.create_rotation(
        session, team_id=payments.id, name="Payments primary", time_zone="America/New_York",
        handoff_time=time(9, 0), shift_length={"unit": "weeks", "count": 1}, start_date=monday,
        participant_ids=[alice.id, bob.id, carol.id],
    )
    secondary = schedules.create_rotation(
        session, team_id=payments.id, name="Payments secondary", time_zone="America/New_York",
        handoff_time=time(9, 0), shift_length={"unit": "days", "count": 1}, start_date=monday,
        participant_ids=[dave.id, carol.id, bob.id, alice.id],
    )
    follow_the_sun = schedules.create_rotation(
        session, team_id=platform.id, name="Platform follow-the-sun", time_zone="UTC",
        handoff_time=time(0, 0), shift_length={"unit": "hours", "count": 8}, start_date=monday,
        participant_ids=[erin.id, dave.id, frank.id],
    )
    day = datetime.combine(today, time(0, 0), tzinfo=now.tzinfo)
    schedules.add_override(session, rotation_id=primary.id, user_id=dave.id, start_at=day + timedelta(days=2, hours=18),
                           end_at=day + timedelta(days=3, hours=6), reason="Covering Carol's evening", now=now)
    schedules.add_override(session, rotation_id=follow_the_sun.id, user_id=dave.id,
                           start_at=day + timedelta(days=5), end_at=day + timedelta(days=5, hours=8),
                           reason="Swap with Erin", now=now)
    schedules.add_time_off(session, user_id=bob.id, start_at=day + timedelta(days=7),
                           end_at=day + timedelta(days=12), reason="Vacation", now=now)
    schedules.add_time_off(session, user_id=frank.id, start_at=day + timedelta(days=1),
                           end_at=day + timedelta(days=3), reason="Conference", now=now)
    session.flush()
    from oncall.web.demo import load_web_demo

    load_web_demo(session, now=now, users=users, payments=payments, platform=platform, handoff_rotation=secondary)
    return True


def first_monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


DEMO_ADMIN = "alice@example.com"
DEMO_TOKEN_FILE = "demo_token"


def demo_api_token(session: Session, *, instance_path: str, now: datetime) -> tuple[str, Path]:
    """The demo admin's API token, the same at every start of the quick start, and the file keeping it.

    Like every token it is stored hashed; its text is kept in the instance folder (mode 0600) so the quick
    start can print it again. That exposes nothing new: the secret key beside it (same folder, same mode)
    already lets its reader sign in as this admin. A token that was revoked or expired, or the file of
    another database, is replaced by a new one."""
    from oncall.instance import read_private, replace
    from oncall.people.tokens import find_token, issue_token

    admin = people.ensure_user(session, email=DEMO_ADMIN, admin=True)
    path = Path(instance_path) / DEMO_TOKEN_FILE
    kept = read_private(path)
    if kept:
        use = find_token(session, kept)
        if use is not None and use.user_id == admin.id and not use.expired(now):
            return kept, path
    _, token = issue_token(session, user=admin, name="demo", now=now)
    replace(path, token)
    return token, path
