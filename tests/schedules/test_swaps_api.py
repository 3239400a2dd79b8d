"""Shift swaps over the API: ask, accept (an override and a text to the requester), decline, expiry,
permissions, bad input; and on PostgreSQL two answers racing: exactly one wins."""
import threading
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.db import get_engine
from oncall.errors import Conflict
from oncall.paging.models import Notification
from oncall.people import service as people
from oncall.people.models import Team, User
from oncall.people.tokens import create_api_token
from oncall.schedules import service as schedules, swaps
from oncall.schedules.models import Override, SwapRequest
from tests.conftest import TEST_NOW, ApiClient

UTC = timezone.utc


@pytest.fixture()
def crew(clock, session, client):
    """Team 'Swap' (admin Ada): daily UTC rotation ann -> ben -> cat from Monday 2 March 2026 09:00, so on
    Wednesday 4 March at 15:00 Cat is on call until Thursday 09:00, then Ann until Friday 09:00."""
    users = {}
    for n, name in enumerate(("ann", "ben", "cat", "ada", "olly")):
        users[name] = people.create_user(session, name=name.title(), email=f"{name}@swap.example.com",
                                         phone=f"+1415555077{n}", time_zone="UTC")
    team = people.create_team(session, name="Swap", slug="swap", time_zone="UTC")
    people.set_members(session, team, user_ids=[users[k].id for k in ("ann", "ben", "cat", "ada")],
                       admin_ids=[users["ada"].id])
    rotation = schedules.create_rotation(session, team_id=team.id, name="Swap primary", time_zone="UTC",
                                         handoff_time=time(9), shift_length={"unit": "days", "count": 1},
                                         start_date=date(2026, 3, 2),
                                         participant_ids=[users[k].id for k in ("ann", "ben", "cat")])
    session.commit()
    api = {k: ApiClient(client, create_api_token(session, user=u)) for k, u in users.items()}
    session.commit()
    return {"team": team.id, "rotation": rotation.id, "users": users, "api": api}


THU_09, FRI_09 = datetime(2026, 3, 5, 9, tzinfo=UTC), datetime(2026, 3, 6, 9, tzinfo=UTC)


def _ask(crew, who="ann", **body):
    body = {"start": THU_09.isoformat(), "end": FRI_09.isoformat()} | body
    return crew["api"][who].post(f"/api/v1/rotations/{crew['rotation']}/swap-requests", json=body)


def _texts(session, user) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Notification.body).where(Notification.user_id == user.id,
                                                                Notification.incident_id.is_(None))))


def test_ask_accept_creates_the_override_and_tells_everyone(crew, session):
    u = crew["users"]
    asked = _ask(crew, to_user_id=u["ben"].id, reason="wedding")
    assert asked.status_code == 201, asked.json
    body = asked.json
    assert body["state"] == "open" and body["requester_id"] == u["ann"].id and body["to_user_id"] == u["ben"].id
    assert body["start"] == "2026-03-05T09:00:00Z" and body["end"] == "2026-03-06T09:00:00Z"
    [text] = _texts(session, u["ben"])
    assert text.startswith("Ann asks you to take Swap primary Thu Mar 5 09:00 - Fri Mar 6 09:00 UTC (wedding)")
    listed = crew["api"]["cat"].get(f"/api/v1/teams/{crew['team']}/swap-requests?state=open").json
    assert [s["id"] for s in listed["swap_requests"]] == [body["id"]]
    # Only Ben may answer a request to Ben.
    assert crew["api"]["cat"].post(f"/api/v1/swap-requests/{body['id']}/accept").status_code == 403
    accepted = crew["api"]["ben"].post(f"/api/v1/swap-requests/{body['id']}/accept")
    assert accepted.status_code == 200 and accepted.json["state"] == "accepted"
    on_call = crew["api"]["ann"].get(f"/api/v1/rotations/{crew['rotation']}/oncall?at=2026-03-05T12:00:00Z").json
    assert on_call["user_id"] == u["ben"].id and on_call["source"] == "override"
    override = session.get(Override, accepted.json["override_id"])
    assert override.reason == "swap with Ann"
    assert any(t.startswith("Ben accepted: they take Swap primary Thu Mar 5 09:00") for t in _texts(session, u["ann"]))
    # Answered once: a second answer is a conflict.
    again = crew["api"]["ben"].post(f"/api/v1/swap-requests/{body['id']}/decline")
    assert again.status_code == 409 and again.json["error"]["code"] == "Conflict"
    assert crew["api"]["ann"].get(f"/api/v1/teams/{crew['team']}/swap-requests").json["swap_requests"] == []
    assert len(crew["api"]["ann"].get(f"/api/v1/teams/{crew['team']}/swap-requests?state=accepted")
               .json["swap_requests"]) == 1


def test_ask_the_team_anyone_but_the_requester_may_answer_and_decline_tells_them(crew, session):
    u = crew["users"]
    swap = _ask(crew).json
    assert swap["to_user_id"] is None
    assert {u[k].id for k in ("ben", "cat", "ada")} == {
        n.user_id for n in session.scalars(select(Notification).where(Notification.incident_id.is_(None)))}
    assert crew["api"]["ann"].post(f"/api/v1/swap-requests/{swap['id']}/accept").status_code == 403
    assert crew["api"]["olly"].post(f"/api/v1/swap-requests/{swap['id']}/accept").status_code == 403
    declined = crew["api"]["cat"].post(f"/api/v1/swap-requests/{swap['id']}/decline")
    assert declined.status_code == 200 and declined.json["state"] == "declined"
    assert any(t.startswith("Cat declined to take Swap primary") for t in _texts(session, u["ann"]))
    assert session.scalar(select(Override.id)) is None


def test_only_the_person_on_call_then_or_a_team_admin_may_ask(crew):
    u = crew["users"]
    assert _ask(crew, who="ben").status_code == 403  # Thursday is Ann's
    assert _ask(crew, who="olly").status_code == 403
    # Part Ann's, part Ben's: Ann alone may not ask for it.
    assert _ask(crew, end=(FRI_09 + timedelta(hours=2)).isoformat()).status_code == 403
    admin = _ask(crew, who="ada", to_user_id=u["cat"].id)
    assert admin.status_code == 201 and admin.json["requester_id"] == u["ada"].id


@pytest.mark.parametrize("body,field", [
    ({"start": "2026-03-05T09:00:00"}, "start"),  # no offset
    ({"end": "2026-03-05T08:00:00Z"}, "end"),  # before start
    ({"start": "2026-03-04T09:00:00Z"}, "start"),  # already begun
    ({"to_user_id": "x"}, "to_user_id"),
    ({"to_user_id": 999999}, "to_user_id"),
    ({"reason": "r" * 2001}, "reason"),
])
def test_bad_requests_are_refused_and_change_nothing(crew, session, body, field):
    if field == "to_user_id" and body["to_user_id"] == 999999:
        body = {"to_user_id": crew["users"]["olly"].id}  # a real person outside the team
    response = _ask(crew, **body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert session.scalar(select(SwapRequest.id)) is None


def test_a_request_expires_when_its_time_starts(crew, clock):
    swap = _ask(crew).json
    clock.set(THU_09)
    response = crew["api"]["ben"].post(f"/api/v1/swap-requests/{swap['id']}/accept")
    assert response.status_code == 409 and "expired" in response.json["error"]["message"]
    listed = crew["api"]["ann"].get(f"/api/v1/teams/{crew['team']}/swap-requests?state=expired").json
    assert [s["state"] for s in listed["swap_requests"]] == ["expired"]
    assert crew["api"]["ann"].get(f"/api/v1/teams/{crew['team']}/swap-requests?state=bogus").status_code == 422
    assert crew["api"]["ann"].post("/api/v1/swap-requests/999999/accept").status_code == 404
    assert crew["api"]["ann"].get("/api/v1/teams/999999/swap-requests").status_code == 404


def test_accepting_over_an_existing_override_is_a_conflict_and_keeps_the_request_open(crew, session):
    u = crew["users"]
    swap = _ask(crew, to_user_id=u["ben"].id).json
    schedules.add_override(session, rotation_id=crew["rotation"], user_id=u["cat"].id, start_at=THU_09,
                           end_at=THU_09 + timedelta(hours=1), now=TEST_NOW)
    session.commit()
    assert crew["api"]["ben"].post(f"/api/v1/swap-requests/{swap['id']}/accept").status_code == 409
    session.expire_all()
    assert session.get(SwapRequest, swap["id"]).state == "open"


def test_a_requester_on_call_by_an_override_of_their_own_hands_over_the_asked_part(crew, session):
    """Ann covers Wednesday 15:00 to Friday 09:00 by an override, then asks Ben to take Thursday 09:00-21:00: the
    middle passes to Ben, the rest stays Ann's."""
    u = crew["users"]
    wed_15 = datetime(2026, 3, 4, 15, tzinfo=UTC)
    mine = schedules.add_override(session, rotation_id=crew["rotation"], user_id=u["ann"].id, start_at=wed_15,
                                  end_at=FRI_09, reason="cover", now=TEST_NOW)
    session.commit()
    thu_21 = THU_09 + timedelta(hours=12)
    swap = _ask(crew, to_user_id=u["ben"].id, end=thu_21.isoformat())
    assert swap.status_code == 201, swap.json
    accepted = crew["api"]["ben"].post(f"/api/v1/swap-requests/{swap.json['id']}/accept")
    assert accepted.status_code == 200, accepted.json
    session.expire_all()
    pieces = [(o.user_id, o.start_at, o.end_at) for o in schedules.list_overrides(session, crew["rotation"])]
    assert pieces == [(u["ann"].id, wed_15, THU_09), (u["ben"].id, THU_09, thu_21), (u["ann"].id, thu_21, FRI_09)]
    assert session.get(Override, mine.id) is not None, "Ann's override is kept (shortened), not replaced"


# --- PostgreSQL: two answers at once --------------------------------------------------------------------------

@pytest.fixture()
def committed(app, clock):
    engine = get_engine(app)
    now = clock().replace(second=0, microsecond=0)
    start = (now + timedelta(days=2)).replace(hour=9, minute=0)
    with Session(engine) as s, s.begin():
        users = [people.create_user(s, name=f"Swap {c}", email=f"swap-race-{c}@example.com",
                                    phone=f"+1415555088{i}", time_zone="UTC") for i, c in enumerate("abc")]
        team = people.create_team(s, name="Swap race", slug="swap-race", time_zone="UTC")
        people.set_members(s, team, user_ids=[u.id for u in users], admin_ids=[])
        rotation = schedules.create_rotation(s, team_id=team.id, name="Race", time_zone="UTC", handoff_time=time(9),
                                             shift_length={"unit": "weeks", "count": 1},
                                             start_date=(now - timedelta(days=1)).date(), participant_ids=[users[0].id])
        swap = swaps.create(s, rotation_id=rotation.id, requester=users[0], start_at=start,
                            end_at=start + timedelta(hours=8), now=now, public_url="https://x")
        ids = {"team": team.id, "users": [u.id for u in users], "swap": swap.id}
    yield engine, now, ids
    with Session(engine) as s, s.begin():
        s.delete(s.get(Team, ids["team"]))
        s.flush()
        for uid in ids["users"]:
            s.execute(Notification.__table__.delete().where(Notification.user_id == uid))
            s.delete(s.get(User, uid))


def _race(engine, work) -> list:
    barrier, results = threading.Barrier(2), []

    def run(i):
        with Session(engine) as s:
            barrier.wait()
            try:
                results.append(work(s, i))
                s.commit()
            except Conflict as exc:
                results.append(f"conflict: {exc}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.postgres
@pytest.mark.parametrize("second", ["accept", "decline"])
def test_two_answers_at_once_exactly_one_wins(committed, second):
    engine, now, ids = committed

    def answer(s, i):
        action = swaps.accept if i == 0 or second == "accept" else swaps.decline
        return action(s, swap_id=ids["swap"], user=s.get(User, ids["users"][1 + i]), now=now).state

    results = _race(engine, answer)
    assert sum(r in ("accepted", "declined") for r in results) == 1, results
    assert sum(str(r).startswith("conflict") for r in results) == 1, results
    with Session(engine) as s:
        swap = s.get(SwapRequest, ids["swap"])
        overrides = s.scalars(select(Override).where(Override.rotation_id == swap.rotation_id)).all()
        assert len(overrides) == (1 if swap.state == "accepted" else 0)
        assert swap.state in results
