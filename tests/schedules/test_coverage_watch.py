"""Coverage gaps of a team over the API, and the worker's watch that texts a team's admins once per new gap."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from oncall.paging.models import Notification
from oncall.schedules import coverage_watch
from oncall.schedules.models import CoverageWarning
from oncall.worker import Worker


@pytest.fixture()
def team_with_gap(api, make_team, make_user, make_rotation, clock):
    """A team whose two-person rotation has nobody on [now + 2 days, now + 3 days): both are on time off."""
    team = make_team()
    admin, member, other = make_user(name="Ada"), make_user(), make_user()
    rotation = make_rotation(participants=[member["id"], other["id"]], team_id=team["id"], name="Payments")
    assert api.put(f"/api/v1/teams/{team['id']}/members", json={
        "user_ids": [admin["id"], member["id"], other["id"]], "admin_ids": [admin["id"]]}).status_code == 200
    start = clock().replace(microsecond=0) + timedelta(days=2)
    for person in (member, other):
        assert api.post(f"/api/v1/users/{person['id']}/time-off", json={
            "start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}).status_code == 201
    return {"team": team, "rotation": rotation, "admin": admin, "start": start, "end": start + timedelta(days=1)}


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def test_the_api_lists_every_gap_of_the_window(api, team_with_gap, make_rotation):
    team = team_with_gap["team"]
    response = api.get(f"/api/v1/teams/{team['id']}/coverage")
    assert response.status_code == 200, response.json
    assert response.json["gaps"] == [{"rotation_id": team_with_gap["rotation"]["id"],
                                      "start": iso(team_with_gap["start"]), "end": iso(team_with_gap["end"])}]
    later = api.get(f"/api/v1/teams/{team['id']}/coverage", query_string={
        "start": iso(team_with_gap["end"]), "end": iso(team_with_gap["end"] + timedelta(days=3))})
    assert later.json["gaps"] == []
    half = api.get(f"/api/v1/teams/{team['id']}/coverage", query_string={
        "start": iso(team_with_gap["start"] + timedelta(hours=12)), "end": iso(team_with_gap["end"] + timedelta(days=1))})
    assert [(g["start"], g["end"]) for g in half.json["gaps"]] == [
        (iso(team_with_gap["start"] + timedelta(hours=12)), iso(team_with_gap["end"]))], "clipped to the window"


def test_an_archived_rotation_leaves_no_gap(api, team_with_gap):
    rotation = team_with_gap["rotation"]
    assert api.post(f"/api/v1/rotations/{rotation['id']}/archive").status_code in (200, 204)
    assert api.get(f"/api/v1/teams/{team_with_gap['team']['id']}/coverage").json["gaps"] == []


@pytest.mark.parametrize(("query", "field"), [
    ({"start": "2026-03-10T00:00:00Z", "end": "2026-03-09T00:00:00Z"}, "end"),
    ({"start": "2026-03-01T00:00:00Z", "end": "2027-06-01T00:00:00Z"}, "end"),
    ({"start": "soon"}, "start"),
])
def test_a_bad_window_is_a_422_naming_the_field(api, make_team, query, field):
    response = api.get(f"/api/v1/teams/{make_team()['id']}/coverage", query_string=query)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json


def test_an_unknown_team_is_a_404(api):
    assert api.get("/api/v1/teams/999999/coverage").status_code == 404


def texts_to(session, user_id: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Notification.body).where(Notification.user_id == user_id,
                                                                Notification.incident_id.is_(None))))


def test_the_watch_texts_the_team_admins_once_per_new_gap(app, api, session, team_with_gap, clock):
    worker = Worker(app)
    assert worker.watch_coverage() == 1
    texts = texts_to(session, team_with_gap["admin"]["id"])
    assert len(texts) == 1 and "nobody is on call for Payments" in texts[0] and "/rotations/" in texts[0]
    assert worker.watch_coverage() == 0, "an unchanged rotation is not looked at again at once"
    # A change to the rotation that leaves the gap as it was sends nothing more.
    rotation_id = team_with_gap["rotation"]["id"]
    assert api.patch(f"/api/v1/rotations/{rotation_id}", json={"name": "Payments primary"}).status_code == 200
    assert worker.watch_coverage() == 0
    assert len(texts_to(session, team_with_gap["admin"]["id"])) == 1
    # A second, separate gap is new.
    person = team_with_gap["rotation"]["participant_ids"]
    start = team_with_gap["start"] + timedelta(days=3)
    for uid in person:
        assert api.post(f"/api/v1/users/{uid}/time-off", json={
            "start": start.isoformat(), "end": (start + timedelta(hours=6)).isoformat()}).status_code == 201
    assert worker.watch_coverage() == 1
    assert len(texts_to(session, team_with_gap["admin"]["id"])) == 2
    assert not texts_to(session, person[0]), "members who are not admins are not texted"


def test_a_gap_beyond_a_week_is_not_texted_until_it_comes_within_one(app, api, session, make_team, make_user,
                                                                      make_rotation, clock):
    team = make_team()
    admin, member = make_user(), make_user()
    make_rotation(participants=[member["id"]], team_id=team["id"])
    api.put(f"/api/v1/teams/{team['id']}/members", json={"user_ids": [admin["id"], member["id"]],
                                                          "admin_ids": [admin["id"]]})
    start = clock().replace(microsecond=0) + timedelta(days=10)
    api.post(f"/api/v1/users/{member['id']}/time-off", json={"start": start.isoformat(),
                                                             "end": (start + timedelta(days=1)).isoformat()})
    worker = Worker(app)
    assert worker.watch_coverage() == 0
    clock.advance(timedelta(days=4))  # a day later than the daily recheck: within the week now
    assert worker.watch_coverage() == 1
    assert len(texts_to(session, admin["id"])) == 1


def test_a_team_without_admins_tells_the_site_administrators(app, api, session, make_team, make_user, make_rotation,
                                                              clock, make_token):
    team = make_team()
    member = make_user()
    make_rotation(participants=[member["id"]], team_id=team["id"])
    start = clock().replace(microsecond=0) + timedelta(days=1)
    api.post(f"/api/v1/users/{member['id']}/time-off", json={"start": start.isoformat(),
                                                             "end": (start + timedelta(hours=5)).isoformat()})
    from oncall.people.models import User

    site_admins = list(session.scalars(select(User.id).where(User.is_admin.is_(True))))
    assert site_admins
    assert Worker(app).watch_coverage() == 1
    session.expire_all()
    texted = set(session.scalars(select(Notification.user_id).where(Notification.incident_id.is_(None))))
    assert texted == {uid for uid in site_admins if session.get(User, uid).phone}


def test_two_workers_record_a_gap_once(session, team_with_gap, clock):
    gap = coverage_watch.Gap(team_with_gap["rotation"]["id"], team_with_gap["start"], team_with_gap["end"])
    assert coverage_watch._record(session, gap, clock()) is True
    assert coverage_watch._record(session, gap, clock()) is False
    assert session.scalar(select(func.count()).select_from(CoverageWarning)) == 1


def test_the_text_is_in_the_readers_zone():
    from datetime import datetime, timezone

    gap = coverage_watch.Gap(1, datetime(2026, 3, 8, 14, tzinfo=timezone.utc), datetime(2026, 3, 8, 20, tzinfo=timezone.utc))
    text = coverage_watch.gap_text(gap, "Payments", "Core", "Europe/London", "https://x/rotations/1")
    assert "Sun 08 Mar 14:00-20:00 GMT" in text
    text = coverage_watch.gap_text(gap, "Payments", "Core", "America/New_York", "https://x/rotations/1")
    assert "Sun 08 Mar 10:00-16:00 EDT" in text


@pytest.mark.postgres
def test_two_workers_at_once_warn_of_a_gap_once(app, clock):
    """Two workers' coverage watches run at the same instant over committed data: one warning, one text."""
    import threading
    from datetime import date, time

    from sqlalchemy.orm import Session

    from oncall.db import get_engine
    from oncall.people import service as people
    from oncall.people.models import Team, User
    from oncall.schedules import service as schedules

    engine = get_engine(app)
    now = clock().replace(microsecond=0)
    with Session(engine) as s, s.begin():
        admin, a, b = [people.create_user(s, name=f"Gap {c}", email=f"gap-race-{c}@example.com",
                                          phone=f"+1415555099{i}", time_zone="UTC") for i, c in enumerate("xab")]
        team = people.create_team(s, name="Gap race", slug="gap-race", time_zone="UTC")
        people.set_members(s, team, user_ids=[admin.id, a.id, b.id], admin_ids=[admin.id])
        rotation = schedules.create_rotation(s, team_id=team.id, name="Gap race", time_zone="UTC", handoff_time=time(9),
                                             shift_length={"unit": "days", "count": 1}, start_date=date(2026, 1, 5),
                                             participant_ids=[a.id, b.id])
        for person in (a, b):
            schedules.add_time_off(s, user_id=person.id, start_at=now + timedelta(days=1),
                                   end_at=now + timedelta(days=1, hours=8), now=now)
        ids = {"team": team.id, "users": [admin.id, a.id, b.id], "rotation": rotation.id}
    barrier, found = threading.Barrier(2), []

    def run():
        with Session(engine) as s:
            barrier.wait()
            found.append(coverage_watch.watch(s, now, public_url="https://x"))
            s.commit()

    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with Session(engine) as s:
            warnings = s.scalars(select(CoverageWarning).where(CoverageWarning.rotation_id == ids["rotation"])).all()
            texts = s.scalars(select(Notification.body).where(Notification.user_id == ids["users"][0])).all()
        assert sorted(found) == [0, 1] and len(warnings) == 1 and len(texts) == 1, (found, texts)
    finally:
        with Session(engine) as s, s.begin():
            s.delete(s.get(Team, ids["team"]))
            s.flush()
            for uid in ids["users"]:
                s.execute(Notification.__table__.delete().where(Notification.user_id == uid))
                s.delete(s.get(User, uid))
