"""Users, teams and membership through the HTTP API."""
import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from oncall.people.models import Team, User


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_create_and_read_a_user(api):
    body = {"name": "Alice", "email": "Alice@Example.com", "phone": "+14155550101", "time_zone": "America/New_York"}
    created = api.post("/api/v1/users", json=body)
    assert created.status_code == 201
    user = created.json
    assert user["email"] == "alice@example.com"
    assert api.get(f"/api/v1/users/{user['id']}").json == user


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "EST5EDT "}, "time_zone"),
        ({"phone": "4155550101"}, "phone"),
        ({"phone": "+0123"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"name": 7}, "name"),
        ({"shoe_size": 44}, "shoe_size"),
    ],
)
def test_bad_user_input_names_the_field_and_changes_nothing(api, session, change, field):
    before = count(session, User)
    body = {"name": "Alice", "email": "alice@example.com", "phone": "+14155550101", "time_zone": "UTC"} | change
    response = api.post("/api/v1/users", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert count(session, User) == before


def test_missing_fields_are_named(api):
    response = api.post("/api/v1/users", json={})
    assert response.status_code == 422
    assert {"name", "email"} <= set(response.json["error"]["fields"])


def test_duplicate_email_is_a_conflict(api, make_user):
    make_user(email="bob@example.com")
    response = api.post("/api/v1/users", json={"name": "B", "email": "BOB@example.com"})
    assert response.status_code == 409
    assert "email" in response.json["error"]["fields"]


def test_only_admins_create_users(client, make_token):
    from tests.conftest import ApiClient

    plain = ApiClient(client, make_token("plain@example.com", admin=False))
    response = plain.post("/api/v1/users", json={"name": "X", "email": "x@example.com"})
    assert response.status_code == 403


def test_user_may_edit_themselves_but_not_others(client, make_token, make_user, api):
    from tests.conftest import ApiClient

    plain = ApiClient(client, make_token("plain@example.com", admin=False))
    me = api.get("/api/v1/users").json
    my_id = next(u["id"] for u in me if u["email"] == "plain@example.com")
    assert plain.patch(f"/api/v1/users/{my_id}", json={"time_zone": "Europe/London"}).status_code == 200
    other = make_user()
    assert plain.patch(f"/api/v1/users/{other['id']}", json={"name": "Hacked"}).status_code == 403


def test_team_defaults_and_members(api, make_user):
    team = api.post("/api/v1/teams", json={"name": "Payments", "slug": "payments", "time_zone": "America/New_York"})
    assert team.status_code == 201
    assert team.json["business_hours"] == {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
    a, b = make_user(), make_user()
    members = api.put(f"/api/v1/teams/{team.json['id']}/members", json={"user_ids": [a["id"], b["id"]],
                                                                       "admin_ids": [a["id"]]})
    assert members.status_code == 200
    assert members.json == {"user_ids": [a["id"], b["id"]], "admin_ids": [a["id"]]}
    assert api.get(f"/api/v1/teams/{team.json['id']}").json["member_ids"] == [a["id"], b["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "P", "slug": "Bad Slug", "time_zone": "UTC"}, "slug"),
        ({"name": "P", "slug": "p", "time_zone": "Nowhere/City"}, "time_zone"),
        ({"name": "P", "slug": "p", "time_zone": "UTC", "business_hours": {"start": "18:00", "end": "09:00"}},
         "business_hours"),
        ({"name": "P", "slug": "p", "time_zone": "UTC", "business_hours": {"days": ["funday"]}}, "business_hours"),
    ],
)
def test_bad_team_input(api, session, body, field):
    before = count(session, Team)
    response = api.post("/api/v1/teams", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert count(session, Team) == before


def test_members_must_exist(api, make_team):
    team = make_team()
    response = api.put(f"/api/v1/teams/{team['id']}/members", json={"user_ids": [999999]})
    assert response.status_code == 422
    assert "user_ids" in response.json["error"]["fields"]


def test_missing_team_is_404(api):
    assert api.get("/api/v1/teams/424242").status_code == 404


def test_deleting_a_user_removes_their_overrides_from_the_schedule(api, make_rotation, make_user):
    rotation = make_rotation(participants=2)
    cover = make_user()
    api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
             json={"user_id": cover["id"], "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z"})
    at = {"at": "2026-03-03T12:00:00Z"}
    assert api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string=at).json["user_id"] == cover["id"]
    assert api.delete(f"/api/v1/users/{cover['id']}").status_code == 204
    after = api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string=at).json
    assert after["user_id"] in rotation["participant_ids"] and after["source"] == "rotation"


def test_a_rotation_participant_cannot_be_deleted(api, make_rotation):
    rotation = make_rotation(participants=1)
    response = api.delete(f"/api/v1/users/{rotation['participant_ids'][0]}")
    assert response.status_code == 409


ZONE_ENDPOINTS = ["POST /api/v1/users", "PATCH /api/v1/users/{user}", "POST /api/v1/teams", "PATCH /api/v1/teams/{team}",
                  "POST /api/v1/rotations", "PATCH /api/v1/rotations/{rotation}"]


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "posix/UTC"])
@pytest.mark.parametrize("endpoint", ZONE_ENDPOINTS)
def test_zones_that_are_not_places_are_refused_everywhere(api, make_rotation, endpoint, zone):
    rotation = make_rotation()
    user_id, team_id = rotation["participant_ids"][0], rotation["team_id"]
    method, path = endpoint.split()
    path = path.format(user=user_id, team=team_id, rotation=rotation["id"])
    bodies = {
        "/api/v1/users": {"name": "Zed", "email": "zed@example.com"},
        "/api/v1/teams": {"name": "Zone", "slug": "zone"},
        "/api/v1/rotations": {"team_id": team_id, "name": "Zone", "handoff_time": "09:00",
                              "shift_length": {"unit": "days", "count": 1}, "start_date": "2026-01-05",
                              "participant_ids": [user_id]},
    }
    response = api._call(method.lower(), path, json=bodies.get(path, {}) | {"time_zone": zone})
    assert response.status_code == 422, response.json
    assert "time_zone" in response.json["error"]["fields"]


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ({}, {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}),
        ({"start": "08:00"}, {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00"}),
        ({"end": "12:00"}, {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "12:00"}),
        ({"days": ["sat", "sun"]}, {"days": ["sat", "sun"], "start": "09:00", "end": "17:00"}),
        ({"days": []}, {"days": [], "start": "09:00", "end": "17:00"}),
    ],
)
def test_business_hours_left_out_keep_their_defaults(api, hours, expected):
    response = api.post("/api/v1/teams", json={"name": "P", "slug": "p", "time_zone": "UTC", "business_hours": hours})
    assert response.status_code == 201, response.json
    assert response.json["business_hours"] == expected


@pytest.mark.parametrize("hours", [{"start": "18:00"}, {"end": "08:00"}, {"start": "09:00", "end": "09:00"}])
def test_business_hours_ending_before_they_start_are_a_422_with_defaults_too(api, session, hours):
    before = count(session, Team)
    response = api.post("/api/v1/teams", json={"name": "P", "slug": "p", "time_zone": "UTC", "business_hours": hours})
    assert response.status_code == 422
    assert "business_hours" in response.json["error"]["fields"]
    assert count(session, Team) == before


def test_patching_part_of_business_hours_keeps_the_rest(api, make_team):
    team = make_team(business_hours={"days": ["mon"], "start": "10:00", "end": "12:00"})
    changed = api.patch(f"/api/v1/teams/{team['id']}", json={"business_hours": {"end": "11:00"}})
    assert changed.status_code == 200
    assert changed.json["business_hours"] == {"days": ["mon"], "start": "10:00", "end": "11:00"}
    refused = api.patch(f"/api/v1/teams/{team['id']}", json={"business_hours": {"start": "11:30"}})
    assert refused.status_code == 422 and "business_hours" in refused.json["error"]["fields"]
    assert api.get(f"/api/v1/teams/{team['id']}").json["business_hours"] == changed.json["business_hours"]
    renamed = api.patch(f"/api/v1/teams/{team['id']}", json={"name": "Renamed"})
    assert renamed.json["business_hours"] == changed.json["business_hours"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hours=st.fixed_dictionaries({}, optional={
    "days": st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), unique=True),
    "start": st.times().map(lambda t: t.strftime("%H:%M")),
    "end": st.times().map(lambda t: t.strftime("%H:%M")),
}))
def test_any_part_of_business_hours_is_a_201_with_the_merge_or_a_422(api, hours):
    response = api.post("/api/v1/teams", json={"name": "P", "slug": f"hours-{next(_SLUGS)}", "time_zone": "UTC",
                                               "business_hours": hours})
    merged = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"} | hours
    if merged["end"] <= merged["start"]:
        assert response.status_code == 422 and "business_hours" in response.json["error"]["fields"]
    else:
        assert response.status_code == 201, response.json
        assert response.json["business_hours"] == merged


_SLUGS = itertools.count()
