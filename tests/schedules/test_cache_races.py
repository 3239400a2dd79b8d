"""The on-call cache against writes racing in separate real transactions (PostgreSQL row locks)."""
import threading
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.clock import utcnow
from oncall.db import get_engine
from oncall.people import service as people
from oncall.people.models import Team, User
from oncall.schedules import cache, service

pytestmark = pytest.mark.postgres
UTC = timezone.utc


@pytest.fixture()
def committed(app, clock):
    """A daily rotation of a and b, and x outside it, committed so that several connections see them."""
    engine = get_engine(app)
    now = clock()
    with Session(engine) as s, s.begin():
        a, b, x = (people.create_user(s, name=f"Cache {c}", email=f"cache-{c}@example.com", phone=None,
                                      time_zone="UTC") for c in "abx")
        team = people.create_team(s, name="Cache race", slug="cache-race", time_zone="UTC")
        rotation = service.create_rotation(
            s, team_id=team.id, name="Race", time_zone="UTC", handoff_time=time(0, 0),
            shift_length={"unit": "days", "count": 1}, start_date=(now - timedelta(days=3)).date(),
            participant_ids=[a.id, b.id])
        ids = {"team": team.id, "rotation": rotation.id, "a": a.id, "b": b.id, "x": x.id}
    cache.schedules.clear()
    yield engine, now, ids
    cache.schedules.clear()
    with Session(engine) as s, s.begin():
        s.delete(s.get(Team, ids["team"]))
        s.flush()
        for uid in (ids["a"], ids["b"], ids["x"]):
            if (user := s.get(User, uid)) is not None:
                s.delete(user)


def on_call(engine, rotation_id: int, at: datetime):
    with Session(engine) as s:
        [(_entry, shift)] = service.on_call_for(s, rotation_ids=[rotation_id], at=at)
        s.commit()
        return shift


def test_time_off_racing_a_participant_change_is_never_cached_stale(committed):
    engine, now, ids = committed
    at = now + timedelta(hours=1)
    # x books time off while, concurrently, the rotation is changed to put x on call now.
    pto = Session(engine)
    service.add_time_off(pto, user_id=ids["x"], start_at=now - timedelta(days=1), end_at=now + timedelta(days=1),
                         now=now)

    def change():
        with Session(engine) as s, s.begin():
            rotation = service.get_rotation(s, ids["rotation"])
            service.update_rotation(s, rotation, {"participant_ids": [ids["x"]]}, now=utcnow())

    writer = threading.Thread(target=change)
    writer.start()
    writer.join(timeout=0.5)
    on_call(engine, ids["rotation"], at)  # a reader fills the cache meanwhile
    pto.commit()
    pto.close()
    writer.join()
    shift = on_call(engine, ids["rotation"], at)
    # x alone takes part now and is away: nobody covers, never the person on time off.
    assert (shift.user_id, shift.source) == (None, "uncovered"), "a cached schedule from before the time off answered"


def test_override_racing_the_deletion_of_its_user_is_never_cached_stale(committed):
    engine, now, ids = committed
    at = now + timedelta(hours=1)
    deleting = Session(engine)
    service.touch_rotations_of_user(deleting, ids["x"])  # what DELETE /users/{id} does first
    deleting.delete(deleting.get(User, ids["x"]))
    result = {}

    def cover():
        with Session(engine) as s:
            try:
                service.add_override(s, rotation_id=ids["rotation"], user_id=ids["x"], start_at=now,
                                     end_at=now + timedelta(hours=2), now=utcnow())
                s.commit()
                result["ok"] = True
            except Exception as exc:  # the refusal must be a clean domain error
                result["error"] = exc

    writer = threading.Thread(target=cover)
    writer.start()
    writer.join(timeout=0.5)
    on_call(engine, ids["rotation"], at)
    deleting.commit()
    deleting.close()
    writer.join()
    from oncall.errors import Invalid

    assert isinstance(result.get("error"), Invalid), result
    shift = on_call(engine, ids["rotation"], at)
    assert shift.user_id != ids["x"]
    with Session(engine) as s:
        assert s.scalar(select(User.id).where(User.id == ids["x"])) is None
