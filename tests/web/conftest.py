"""Web fixtures: people with passwords (a fast hash: scrypt is the production default and slow on
purpose), a team with a daily rotation whose next handoff is a few hours away, and signed-in clients."""
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from werkzeug.security import generate_password_hash

from oncall.people import service as people
from oncall.people.models import User
from oncall.schedules import service as schedules

PASSWORD = "correct horse battery"
FAST_HASH = "pbkdf2:sha256:1000"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(response) -> str:
    match = _TOKEN.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


class Browser:
    """The Flask test client used like a browser: forms carry the page's CSRF token."""

    def __init__(self, client) -> None:
        self.client = client

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def token(self) -> str:
        return csrf_from(self.client.get("/time-off"))

    def post(self, path, data=None, *, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        return self.client.post(path, data=data, **kw)

    def sign_in(self, email: str, password: str = PASSWORD):
        token = csrf_from(self.client.get("/sign-in"))
        response = self.client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})
        assert response.status_code == 303, response.get_data(as_text=True)
        return self


@pytest.fixture()
def make_person(session):
    counter = iter(range(1, 10_000))

    def make(name: str | None = None, *, admin: bool = False, password: str | None = PASSWORD,
             time_zone: str = "UTC") -> User:
        n = next(counter)
        name = name or f"Person {n}"
        user = people.create_user(session, name=name, email=f"{name.split()[0].lower()}{n}@example.com",
                                  phone=f"+1415666{n:04d}", time_zone=time_zone)
        user.is_admin = admin
        if password is not None:
            user.password_hash = generate_password_hash(password, method=FAST_HASH)
        session.commit()
        return user

    return make


@pytest.fixture()
def browser(app):
    def make(user: User | None = None) -> Browser:
        b = Browser(app.test_client())
        return b.sign_in(user.email) if user is not None else b

    return make


@dataclass
class Scenario:
    team_id: int
    rotation_id: int
    alice: User  # team admin
    bob: User
    carol: User
    outsider: User  # signed-in person of no team
    now: datetime


@pytest.fixture()
def scenario(session, make_person, clock) -> Scenario:
    """Team 'Web' with a daily UTC rotation alice -> bob -> carol whose next change is ~3 hours away, on the
    test's clock (conftest.TEST_NOW, a Wednesday), so no page or draft depends on the day the suite runs."""
    now = clock()
    alice, bob, carol = make_person("Alice Admin"), make_person("Bob Member"), make_person("Carol Member")
    outsider = make_person("Olga Outsider")
    team = people.create_team(session, name="Web", slug=f"web-{alice.id}", time_zone="UTC")
    people.set_members(session, team, user_ids=[alice.id, bob.id, carol.id], admin_ids=[alice.id])
    change = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
    rotation = schedules.create_rotation(
        session, team_id=team.id, name="Web primary", time_zone="UTC", handoff_time=time(change.hour, change.minute),
        shift_length={"unit": "days", "count": 1}, start_date=(now - timedelta(days=6)).date(),
        participant_ids=[alice.id, bob.id, carol.id])
    session.commit()
    return Scenario(team.id, rotation.id, alice, bob, carol, outsider, now)
