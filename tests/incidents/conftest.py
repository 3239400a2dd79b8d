"""Fixtures for incidents, escalation and the outbox: a fake notifier, a team with two rotations, a clock.

Also imported by tests/escalation and tests/paging/test_outbox*.py."""
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from oncall.db import get_sessionmaker
from oncall.escalation import engine
from oncall.escalation import service as escalation
from oncall.incidents import service as incidents
from oncall.incidents.models import Incident, TimelineEvent
from oncall.paging import outbox
from oncall.paging.models import Notification
from oncall.people import service as people
from oncall.schedules import service as schedules

UTC = timezone.utc
# Wednesday 4 March 2026, 10:00 in New York: business hours, and the first shift of rotations that
# started on Monday 2 March.
T0 = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
PUBLIC_URL = "https://oncall.example.com"


class FakeNotifier:
    """Records what it is asked to send. `fail_with[phone]` = a list of exceptions raised by the next sends to
    that phone (one per send); `fail_always[phone]` = raised on every send."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.fail_with: dict[str, list[Exception]] = {}
        self.fail_always: dict[str, Exception] = {}
        self._n = 0
        self._lock = threading.Lock()  # the outbox sends several pages in parallel

    def _send(self, channel: str, to: str, body: str, status_callback: str | None) -> str:
        with self._lock:
            if to in self.fail_always:
                raise self.fail_always[to]
            if self.fail_with.get(to):
                raise self.fail_with[to].pop(0)
            self._n += 1
            provider_id = f"{'SM' if channel == 'sms' else 'CA'}{self._n:032x}"
            self.sent.append({"id": provider_id, "channel": channel, "to": to, "body": body,
                              "callback": status_callback})
            return provider_id

    def send_sms(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        return self._send("sms", to, body, status_callback)

    def place_call(self, *, to: str, twiml: str, status_callback: str | None = None) -> str:
        return self._send("voice", to, twiml, status_callback)

    def to(self, phone: str) -> list[dict]:
        return [s for s in self.sent if s["to"] == phone]

    def by_channel(self) -> dict[str, list[dict]]:
        """Pages sent in one dispatch go out in parallel, so tests look them up rather than rely on order."""
        result: dict[str, list[dict]] = {}
        for page in self.sent:
            result.setdefault(page["channel"], []).append(page)
        return result


@dataclass
class World:
    """A team "Payments" (New York) with alice and bob on the primary rotation and carol and dave on the
    secondary, weekly from Monday 2 March 09:00 (alice and carol first), plus erin, a member on no rotation."""

    app: object
    session: object
    notifier: FakeNotifier
    team_id: int
    primary_id: int
    secondary_id: int
    users: dict

    @property
    def sessions(self):
        return get_sessionmaker(self.app)

    def uid(self, name: str) -> int:
        return self.users[name].id

    def phone(self, name: str) -> str:
        return self.users[name].phone

    def set_policy(self, severity: str, steps: list[dict], repeat: int = 0) -> None:
        escalation.set_policy(self.session, team_id=self.team_id, severity=severity,
                              data={"steps": steps, "repeat": repeat}, user_id=None, now=T0)
        self.session.commit()

    def open(self, severity: str = "SEV2", *, at: datetime = T0, title: str = "Checkout errors", **kwargs) -> Incident:
        incident, created = incidents.create_incident(self.session, team_id=self.team_id, severity=severity,
                                                      title=title, now=at, **kwargs)
        self.session.commit()
        return incident

    def tick(self, at: datetime) -> int:
        return engine.tick(self.sessions, now=at)

    def dispatch(self, at: datetime, **kwargs) -> int:
        return outbox.dispatch_due(self.sessions, self.notifier, now=at, public_url=PUBLIC_URL, **kwargs)

    def incident(self, incident_id: int) -> Incident:
        self.session.expire_all()
        return self.session.get(Incident, incident_id)

    def timeline(self, incident_id: int) -> list[TimelineEvent]:
        self.session.expire_all()
        return list(self.session.scalars(select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
                                         .order_by(TimelineEvent.id)))

    def kinds(self, incident_id: int) -> list[str]:
        return [e.kind for e in self.timeline(incident_id)]

    def notifications(self, incident_id: int | None = None) -> list[Notification]:
        self.session.expire_all()
        query = select(Notification).order_by(Notification.id)
        if incident_id is not None:
            query = query.where(Notification.incident_id == incident_id)
        return list(self.session.scalars(query))

    def pages(self, incident_id: int, **filters) -> list[tuple[str, str, int, int]]:
        """(user name, channel, step, round) of the incident's notifications."""
        names = {u.id: n for n, u in self.users.items()}
        return [(names[n.user_id], n.channel, n.step, n.round) for n in self.notifications(incident_id)
                if all(getattr(n, k) == v for k, v in filters.items())]


@pytest.fixture()
def notifier() -> FakeNotifier:
    return FakeNotifier()


@pytest.fixture()
def world(app, session, notifier) -> World:
    users = {}
    for i, name in enumerate(["alice", "bob", "carol", "dave", "erin"], start=1):
        users[name] = people.create_user(session, name=name.title(), email=f"{name}@payments.example.com",
                                         phone=f"+1415555{i:04d}", time_zone="America/New_York")
    team = people.create_team(session, name="Payments", slug="payments-escalation", time_zone="America/New_York")
    people.set_members(session, team, user_ids=[u.id for u in users.values()], admin_ids=[])
    common = {"time_zone": "America/New_York", "handoff_time": time(9, 0),
              "shift_length": {"unit": "weeks", "count": 1}, "start_date": datetime(2026, 3, 2).date()}
    primary = schedules.create_rotation(session, team_id=team.id, name="Primary",
                                        participant_ids=[users["alice"].id, users["bob"].id], **common)
    secondary = schedules.create_rotation(session, team_id=team.id, name="Secondary",
                                          participant_ids=[users["carol"].id, users["dave"].id], **common)
    session.commit()
    return World(app, session, notifier, team.id, primary.id, secondary.id, users)


def rotation(rotation_id: int) -> dict:
    return {"type": "rotation", "id": rotation_id}


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)

