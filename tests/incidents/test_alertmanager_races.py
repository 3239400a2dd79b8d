"""Alertmanager webhooks racing in separate real transactions (PostgreSQL): one alert, one incident, one set of
pages, however many copies of it arrive at once."""
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncall.db import get_engine
from oncall.escalation import service as escalation
from oncall.incidents import alertmanager, service
from oncall.incidents.models import Incident, Integration, TimelineEvent
from oncall.paging.models import Notification
from oncall.people import service as people
from oncall.people.models import Team, User

pytestmark = pytest.mark.postgres
COPIES = 6


@pytest.fixture()
def committed(app, clock):
    """A team of two paged by SMS and voice, with an Alertmanager integration, committed for real."""
    engine = get_engine(app)
    with Session(engine) as s, s.begin():
        users = [people.create_user(s, name=f"Storm {c}", email=f"storm-{c}@example.com", phone=f"+1415555098{i}",
                                    time_zone="UTC") for i, c in enumerate("ab")]
        team = people.create_team(s, name="Storm races", slug="storm-races", time_zone="UTC")
        people.set_members(s, team, user_ids=[u.id for u in users], admin_ids=[])
        escalation.set_policy(s, team_id=team.id, severity="SEV1", user_id=None, now=clock(), data={
            "repeat": 0, "steps": [{"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["sms", "voice"]}]})
        integration, _ = service.create_integration(s, team_id=team.id, type="alertmanager", now=clock())
        integration.last_used_at = clock()  # stamped this minute: the copies below do not queue on its row
        ids = {"team": team.id, "integration": integration.id, "users": [u.id for u in users]}
    yield engine, ids
    with Session(engine) as s, s.begin():
        for incident in s.scalars(select(Incident).where(Incident.team_id == ids["team"])):
            s.delete(incident)
        s.delete(s.get(Team, ids["team"]))
        s.flush()
        for uid in ids["users"]:
            s.delete(s.get(User, uid))


def test_copies_of_one_alert_at_once_open_one_incident_and_page_once(committed, clock, monkeypatch):
    engine, ids = committed
    [event] = alertmanager.map_payload({"alerts": [{
        "status": "firing", "fingerprint": "race-1", "labels": {"alertname": "Race", "severity": "critical"},
        "annotations": {}, "startsAt": clock()}]})
    barrier, looked, actions, errors = threading.Barrier(COPIES), threading.Barrier(COPIES), [], []
    latest_with_key = service._latest_with_key

    def every_copy_finds_no_incident(*args):
        # The worst case: all copies look before any has opened one, so all of them try to.
        found = latest_with_key(*args)
        looked.wait()
        return found

    monkeypatch.setattr(service, "_latest_with_key", every_copy_finds_no_incident)

    def deliver():
        try:
            with Session(engine) as s:
                integration = s.get(Integration, ids["integration"])
                barrier.wait()
                [result] = service.apply_alerts(s, integration=integration, alerts=[event], now=clock())
                s.commit()
                actions.append(result["action"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(COPIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    counts = Counter(actions)
    assert counts == {"created": 1, "retriggered": COPIES - 1}, counts
    with Session(engine) as s:
        [incident_id] = s.scalars(select(Incident.id).where(Incident.team_id == ids["team"]))
        pages = s.execute(select(Notification.user_id, Notification.channel)
                          .where(Notification.incident_id == incident_id)).all()
        assert sorted(pages) == sorted((u, c) for u in ids["users"] for c in ("sms", "voice"))
        kinds = Counter(s.scalars(select(TimelineEvent.kind).where(TimelineEvent.incident_id == incident_id)))
        assert kinds == {"created": 1, "step": 1, "exhausted": 1, "retriggered": COPIES - 1}
        assert s.scalar(select(func.count()).select_from(Incident).where(Incident.team_id == ids["team"])) == 1
