"""Two people acting on the same handoff at once, in separate real transactions (PostgreSQL row locks)."""
import threading
from datetime import time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.db import get_engine
from oncall.errors import Conflict
from oncall.handoffs import service
from oncall.handoffs.models import Handoff, WatchItem
from oncall.incidents.models import Incident, TimelineEvent
from oncall.people import service as people
from oncall.people.models import Team, User
from oncall.schedules import service as schedules

URL = "https://oncall.example.com"
pytestmark = pytest.mark.postgres


@pytest.fixture()
def committed(app, clock):
    """A team of three with a daily rotation, committed for real so that two connections see it."""
    engine = get_engine(app)
    now = clock().replace(second=0, microsecond=0)
    change = now + timedelta(hours=3)
    with Session(engine) as s, s.begin():
        users = [people.create_user(s, name=f"Race {c}", email=f"race-{c}@example.com", phone=f"+1415555097{i}",
                                    time_zone="UTC") for i, c in enumerate("abc")]
        team = people.create_team(s, name="Race handoffs", slug="race-handoffs", time_zone="UTC")
        people.set_members(s, team, user_ids=[u.id for u in users], admin_ids=[])
        rotation = schedules.create_rotation(
            s, team_id=team.id, name="Race", time_zone="UTC", handoff_time=time(change.hour, change.minute),
            shift_length={"unit": "days", "count": 1}, start_date=(now - timedelta(days=4)).date(),
            participant_ids=[u.id for u in users])
        ids = {"team": team.id, "rotation": rotation.id, "users": [u.id for u in users]}
    yield engine, now, ids
    with Session(engine) as s, s.begin():
        for incident in s.scalars(select(Incident).where(Incident.team_id == ids["team"])):
            s.delete(incident)
        s.delete(s.get(Team, ids["team"]))
        s.flush()
        for uid in ids["users"]:
            s.delete(s.get(User, uid))


def _race(engine, work, n: int = 2) -> list:
    barrier, results = threading.Barrier(n), []

    def run(i):
        with Session(engine) as s:
            barrier.wait()
            try:
                results.append(work(s, i))
                s.commit()
            except Conflict as exc:
                results.append(f"conflict: {exc}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("saved_first", [False, True], ids=["no-draft-row", "saved-draft-row"])
def test_two_submissions_of_one_handoff(committed, saved_first):
    """Exactly one submission wins; the other gets a Conflict and adds no watch item."""
    engine, now, ids = committed
    if saved_first:
        with Session(engine) as s, s.begin():
            service.save_handoff(s, rotation_id=ids["rotation"], user=s.get(User, ids["users"][0]), now=now,
                                 public_url=URL, notes="draft", submit=False)

    def submit(s, i):
        handoff = service.save_handoff(s, rotation_id=ids["rotation"], user=s.get(User, ids["users"][i]), now=now,
                                       public_url=URL, notes=f"note {i}", new_watch_items=[{"text": f"item {i}"}])
        return handoff.id

    results = _race(engine, submit)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert sum(str(r).startswith("conflict") for r in results) == 1, results
    with Session(engine) as s:
        rows = s.scalars(select(Handoff).where(Handoff.rotation_id == ids["rotation"])).all()
        assert [h.state for h in rows] == ["submitted"]
        items = s.scalars(select(WatchItem.text).where(WatchItem.team_id == ids["team"])).all()
        assert items == [rows[0].notes.replace("note", "item")]


def test_two_acknowledgements_pass_incidents_on_once(committed):
    """The incoming on-call clicks twice (two tabs): the incident moves once and its timeline says so once."""
    from oncall.incidents import service as incidents

    engine, now, ids = committed
    with Session(engine) as s, s.begin():
        handoff = service.save_handoff(s, rotation_id=ids["rotation"], user=s.get(User, ids["users"][0]), now=now,
                                       public_url=URL)
        outgoing, incoming = handoff.outgoing_user_id, handoff.incoming_user_id
        incident, _ = incidents.create_incident(s, team_id=ids["team"], severity="SEV2", title="Held", now=now)
        incidents.acknowledge(s, incident, user_id=outgoing, via="web", now=now)
        handoff_id, incident_id, change = handoff.id, incident.id, handoff.shift_change_at

    # At the shift change: acknowledged earlier, the incident would pass only then (test_handoffs_api.py).
    def acknowledge(s, _i):
        return service.acknowledge(s, handoff_id=handoff_id, user=s.get(User, incoming), now=change).state

    assert _race(engine, acknowledge) == ["acknowledged", "acknowledged"]
    with Session(engine) as s:
        assert s.get(Incident, incident_id).acknowledged_by_id == incoming
        notes = s.scalars(select(TimelineEvent).where(TimelineEvent.incident_id == incident_id,
                                                      TimelineEvent.via == "handoff")).all()
        assert len(notes) == 1
