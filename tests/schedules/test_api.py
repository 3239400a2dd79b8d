"""Rotations, shifts, on-call, overrides and time off through the HTTP API."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from oncall.clock import utcnow
from oncall.schedules.models import Override, Rotation, TimeOff

UTC = timezone.utc


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def shifts(api, rotation_id: int, start: str, end: str) -> list[dict]:
    response = api.get(f"/api/v1/rotations/{rotation_id}/shifts", query_string={"start": start, "end": end})
    assert response.status_code == 200, response.json
    return response.json["shifts"]


def test_product_example_weekly_rotation_across_spring_forward(api, make_rotation):
    rotation = make_rotation(participants=3)
    ids = rotation["participant_ids"]
    result = shifts(api, rotation["id"], "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
    # 2026-01-05 + 8 weeks = 2026-03-02, shift k=8, so participant ids[8 % 3].
    march_2 = next(s for s in result if s["start"] == "2026-03-02T14:00:00Z")
    assert march_2 == {"user_id": ids[8 % 3], "start": "2026-03-02T14:00:00Z", "end": "2026-03-09T13:00:00Z",
                       "source": "rotation", "covering_for": None, "override_id": None}
    assert result[0]["start"] == "2026-03-01T00:00:00Z" and result[-1]["end"] == "2026-04-01T00:00:00Z"
    for a, b in zip(result, result[1:]):
        assert a["end"] == b["start"]


def test_oncall_at_answers_the_shift_and_why(api, make_rotation):
    rotation = make_rotation(participants=3)
    response = api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string={"at": "2026-03-04T12:00:00Z"})
    assert response.status_code == 200
    body = response.json
    assert body["user_id"] == rotation["participant_ids"][8 % 3]
    assert (body["start"], body["end"], body["source"]) == ("2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z", "rotation")
    assert body["user"]["id"] == body["user_id"]


def test_oncall_before_the_rotation_starts_is_uncovered(api, make_rotation):
    rotation = make_rotation(participants=2)
    body = api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string={"at": "2025-12-01T00:00:00Z"}).json
    assert body["user_id"] is None and body["source"] == "uncovered"


def test_team_oncall_lists_every_rotation(api, make_team, make_user, make_rotation):
    team = make_team()
    people = [make_user()["id"] for _ in range(4)]
    primary = make_rotation(participants=people[:2], team_id=team["id"], name="Primary")
    secondary = make_rotation(participants=people[2:], team_id=team["id"], name="Secondary",
                              shift_length={"unit": "days", "count": 1})
    body = api.get(f"/api/v1/teams/{team['id']}/oncall", query_string={"at": "2026-03-04T12:00:00+00:00"}).json
    assert body["at"] == "2026-03-04T12:00:00Z"
    assert [o["rotation_id"] for o in body["oncall"]] == [primary["id"], secondary["id"]]
    assert body["oncall"][0]["user_id"] == people[8 % 2]
    # Daily from 2026-01-05 09:00 EST: 2026-03-04 12:00Z is 07:00 EST, still the shift of 2026-03-03 (k=57).
    assert body["oncall"][1]["user_id"] == people[2 + 57 % 2]


def test_override_covers_part_of_a_shift_and_overlaps_are_refused(api, session, make_rotation, make_user):
    rotation = make_rotation(participants=2)
    cover = make_user()
    body = {"user_id": cover["id"], "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z", "reason": "swap"}
    created = api.post(f"/api/v1/rotations/{rotation['id']}/overrides", json=body)
    assert created.status_code == 201, created.json
    result = shifts(api, rotation["id"], "2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z")
    assert [(s["source"], s["start"], s["end"]) for s in result] == [
        ("rotation", "2026-03-02T14:00:00Z", "2026-03-03T00:00:00Z"),
        ("override", "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"),
        ("rotation", "2026-03-04T00:00:00Z", "2026-03-09T13:00:00Z"),
    ]
    assert result[1]["user_id"] == cover["id"] and result[1]["override_id"] == created.json["id"]
    before = count(session, Override)
    clash = api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
                     json=body | {"start": "2026-03-03T12:00:00Z", "end": "2026-03-05T00:00:00Z"})
    assert clash.status_code == 409
    assert "start" in clash.json["error"]["fields"]
    assert count(session, Override) == before


def test_time_off_is_covered_by_the_next_participant(api, make_rotation):
    rotation = make_rotation(participants=3)
    a, b, c = rotation["participant_ids"]
    on_call = rotation["participant_ids"][8 % 3]  # holds 2026-03-02 .. 03-09
    response = api.post(f"/api/v1/users/{on_call}/time-off",
                        json={"start": "2026-03-04T00:00:00Z", "end": "2026-03-06T00:00:00Z", "reason": "PTO"})
    assert response.status_code == 201
    result = shifts(api, rotation["id"], "2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z")
    substitute = [s for s in result if s["source"] == "time_off"]
    assert len(substitute) == 1
    nxt = rotation["participant_ids"][(rotation["participant_ids"].index(on_call) + 1) % 3]
    assert substitute[0] | {} == {"user_id": nxt, "start": "2026-03-04T00:00:00Z", "end": "2026-03-06T00:00:00Z",
                                  "source": "time_off", "covering_for": on_call, "override_id": None}
    now = api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string={"at": "2026-03-05T00:00:00Z"}).json
    assert now["user_id"] == nxt and now["source"] == "time_off"


def test_override_wins_over_time_off(api, make_rotation, make_user):
    rotation = make_rotation(participants=2)
    on_call = rotation["participant_ids"][8 % 2]
    api.post(f"/api/v1/users/{on_call}/time-off", json={"start": "2026-03-03T00:00:00Z", "end": "2026-03-05T00:00:00Z"})
    cover = make_user()
    api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
             json={"user_id": cover["id"], "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z"})
    result = shifts(api, rotation["id"], "2026-03-03T00:00:00Z", "2026-03-05T00:00:00Z")
    assert [(s["source"], s["user_id"]) for s in result] == [
        ("override", cover["id"]), ("time_off", rotation["participant_ids"][(8 + 1) % 2])]


def test_everyone_away_is_uncovered_never_the_person_on_pto(api, make_rotation):
    rotation = make_rotation(participants=2)
    for uid in rotation["participant_ids"]:
        api.post(f"/api/v1/users/{uid}/time-off", json={"start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z"})
    result = shifts(api, rotation["id"], "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z")
    assert result == [{"user_id": None, "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z",
                       "source": "uncovered", "covering_for": None, "override_id": None}]


def test_changing_participants_takes_effect_from_an_instant(api, make_rotation, make_user):
    rotation = make_rotation(participants=2, start_date="2030-01-07")
    first = shifts(api, rotation["id"], "2030-01-07T00:00:00Z", "2030-03-01T00:00:00Z")
    newcomer = make_user()
    changed = api.patch(f"/api/v1/rotations/{rotation['id']}",
                        json={"participant_ids": [newcomer["id"]], "effective_at": "2030-02-01T00:00:00Z"})
    assert changed.status_code == 200, changed.json
    assert changed.json["participant_ids"] == [newcomer["id"]]
    assert len(changed.json["versions"]) == 2
    after = shifts(api, rotation["id"], "2030-01-07T00:00:00Z", "2030-03-01T00:00:00Z")
    cut = "2030-02-01T00:00:00Z"
    before_cut = [s for s in first if s["start"] < cut]
    # Everything before the change is untouched; the shift in progress is cut at the change.
    assert [s for s in after if s["start"] < cut] == before_cut[:-1] + [before_cut[-1] | {"end": cut}]
    assert after[-1] == {"user_id": newcomer["id"], "start": cut, "end": "2030-03-01T00:00:00Z", "source": "rotation",
                         "covering_for": None, "override_id": None}


def test_changes_cannot_rewrite_the_past(api, session, make_rotation):
    rotation = make_rotation(participants=2)
    response = api.patch(f"/api/v1/rotations/{rotation['id']}",
                         json={"shift_length": {"unit": "days", "count": 1}, "effective_at": "2026-02-01T00:00:00Z"})
    assert response.status_code == 422
    assert "effective_at" in response.json["error"]["fields"]


def test_renaming_does_not_create_a_version(api, make_rotation):
    rotation = make_rotation(participants=2)
    response = api.patch(f"/api/v1/rotations/{rotation['id']}", json={"name": "Renamed"})
    assert response.status_code == 200
    assert response.json["name"] == "Renamed" and len(response.json["versions"]) == 1


def _rotation_body(team_id, user_ids, change):
    return {"team_id": team_id, "name": "R", "time_zone": "America/New_York", "handoff_time": "09:00",
            "shift_length": {"unit": "weeks", "count": 1}, "start_date": "2026-01-05",
            "participant_ids": user_ids} | change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "America/Gotham"}, "time_zone"),
        ({"handoff_time": "25:00"}, "handoff_time"),
        ({"handoff_time": 900}, "handoff_time"),
        ({"shift_length": {"unit": "fortnights", "count": 1}}, "shift_length"),
        ({"shift_length": {"unit": "days", "count": 0}}, "shift_length"),
        ({"shift_length": {"unit": "days", "count": "2"}}, "shift_length"),
        ({"shift_length": {"unit": "weeks", "count": 1000}}, "shift_length"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"participant_ids": []}, "participant_ids"),
        ({"participant_ids": [987654]}, "participant_ids"),
        ({"participant_ids": "1,2"}, "participant_ids"),
        ({"team_id": 987654}, "team_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_rotation_input_is_refused_and_changes_nothing(api, session, make_team, make_user, change, field):
    team, user = make_team(), make_user()
    before = count(session, Rotation)
    body = _rotation_body(team["id"], [user["id"]], change)
    response = api.post("/api/v1/rotations", json=body)
    assert response.status_code in (404, 422), response.json
    assert field in response.json["error"]["fields"], response.json
    assert count(session, Rotation) == before


def test_duplicate_participant_is_refused(api, make_team, make_user):
    team, user = make_team(), make_user()
    response = api.post("/api/v1/rotations", json=_rotation_body(team["id"], [user["id"], user["id"]], {}))
    assert response.status_code == 422
    assert "participant_ids" in response.json["error"]["fields"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-03-01T00:00:00Z", "end": "2027-06-01T00:00:00Z"}, "end"),
        ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "end"),
        ({"start": "2026-03-01T00:00:00", "end": "2026-03-02T00:00:00Z"}, "start"),
        ({"start": "yesterday", "end": "2026-03-02T00:00:00Z"}, "start"),
        ({"end": "2026-03-02T00:00:00Z"}, "start"),
    ],
)
def test_bad_windows_are_422(api, make_rotation, query, field):
    rotation = make_rotation(participants=1)
    response = api.get(f"/api/v1/rotations/{rotation['id']}/shifts", query_string=query)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "end"),
        ({"start": "2026-03-01T00:00:00", "end": "2026-03-02T00:00:00Z"}, "start"),
        ({"end": "2026-03-02T00:00:00Z"}, "start"),
        ({"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z", "user_id": 1}, "user_id"),
    ],
)
def test_bad_time_off_is_refused(api, session, make_user, body, field):
    user = make_user()
    before = count(session, TimeOff)
    response = api.post(f"/api/v1/users/{user['id']}/time-off", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert count(session, TimeOff) == before


def test_override_for_unknown_user_is_refused(api, session, make_rotation):
    rotation = make_rotation(participants=1)
    response = api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
                        json={"user_id": 987654, "start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"})
    assert response.status_code == 422
    assert "user_id" in response.json["error"]["fields"]


def test_time_off_of_someone_else_needs_admin(client, api, make_token, make_user):
    from tests.conftest import ApiClient

    victim = make_user()
    plain = ApiClient(client, make_token("plain@example.com", admin=False))
    response = plain.post(f"/api/v1/users/{victim['id']}/time-off",
                          json={"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"})
    assert response.status_code == 403


def test_override_edit_and_delete(api, make_rotation, make_user):
    rotation = make_rotation(participants=2)
    cover = make_user()
    base = f"/api/v1/rotations/{rotation['id']}/overrides"
    created = api.post(base, json={"user_id": cover["id"], "start": "2026-03-03T00:00:00Z",
                                   "end": "2026-03-04T00:00:00Z"}).json
    moved = api.patch(f"{base}/{created['id']}", json={"end": "2026-03-05T00:00:00Z"})
    assert moved.status_code == 200 and moved.json["end"] == "2026-03-05T00:00:00Z"
    backwards = api.patch(f"{base}/{created['id']}", json={"end": "2026-03-01T00:00:00Z"})
    assert backwards.status_code == 422
    assert api.delete(f"{base}/{created['id']}").status_code == 204
    assert api.get(f"{base}/{created['id']}").status_code == 404


def test_schedule_changes_bump_updated_at(api, make_rotation, make_user):
    rotation = make_rotation(participants=2)
    before = api.get(f"/api/v1/rotations/{rotation['id']}").json["updated_at"]
    api.post(f"/api/v1/users/{rotation['participant_ids'][0]}/time-off",
             json={"start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z"})
    after = api.get(f"/api/v1/rotations/{rotation['id']}").json["updated_at"]
    assert datetime.fromisoformat(after) >= datetime.fromisoformat(before)
    assert after != before or utcnow() - datetime.fromisoformat(before) < timedelta(seconds=5)


def test_renaming_a_user_shows_in_on_call_at_once(api, make_rotation):
    rotation = make_rotation(participants=1)
    uid = rotation["participant_ids"][0]
    at = {"at": "2026-03-03T12:00:00Z"}
    assert api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string=at).json["user"]["id"] == uid
    api.patch(f"/api/v1/users/{uid}", json={"name": "Renamed Person", "phone": "+14155559999"})
    user = api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string=at).json["user"]
    assert (user["name"], user["phone"]) == ("Renamed Person", "+14155559999")


def test_override_taker_outside_the_rotation_has_contact_details(api, make_rotation, make_user):
    rotation = make_rotation(participants=2)
    outsider = make_user(name="Outside Helper")
    api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
             json={"user_id": outsider["id"], "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z"})
    body = api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string={"at": "2026-03-03T12:00:00Z"}).json
    assert body["user"]["name"] == "Outside Helper" and body["source"] == "override"


def test_an_earlier_change_does_not_pull_a_later_scheduled_one_forward(api, make_rotation):
    rotation = make_rotation(participants=3, start_date="2030-01-07", shift_length={"unit": "days", "count": 1})
    a, b, c = rotation["participant_ids"]
    url = f"/api/v1/rotations/{rotation['id']}"
    assert api.patch(url, json={"participant_ids": [a, b], "effective_at": "2030-02-10T00:00:00Z"}).status_code == 200
    # Scheduled second, in force first: from 2030-02-05 handoffs move to 10:00, and c still takes part until 02-10.
    changed = api.patch(url, json={"handoff_time": "10:00", "effective_at": "2030-02-05T00:00:00Z"})
    assert changed.status_code == 200, changed.json
    assert [(v["effective_at"], v["handoff_time"], v["participant_ids"]) for v in changed.json["versions"]] == [
        (None, "09:00", [a, b, c]),
        ("2030-02-05T00:00:00Z", "10:00", [a, b, c]),
        ("2030-02-10T00:00:00Z", "10:00", [a, b]),
    ]
    assert (changed.json["handoff_time"], changed.json["participant_ids"]) == ("10:00", [a, b])
    result = shifts(api, rotation["id"], "2030-02-05T15:00:00Z", "2030-02-12T00:00:00Z")
    # Day k=29 (2030-02-05) onwards, 10:00 EST = 15:00Z: c keeps its turns until the change on 02-10.
    assert [(s["start"], s["user_id"]) for s in result] == [
        ("2030-02-05T15:00:00Z", [a, b, c][29 % 3]),
        ("2030-02-06T15:00:00Z", [a, b, c][30 % 3]),
        ("2030-02-07T15:00:00Z", [a, b, c][31 % 3]),
        ("2030-02-08T15:00:00Z", [a, b, c][32 % 3]),
        ("2030-02-09T15:00:00Z", [a, b, c][33 % 3]),
        ("2030-02-10T00:00:00Z", [a, b][33 % 2]),
        ("2030-02-10T15:00:00Z", [a, b][34 % 2]),
        ("2030-02-11T15:00:00Z", [a, b][35 % 2]),
    ]


def test_a_change_at_the_same_instant_as_a_scheduled_one_amends_it(api, make_rotation):
    rotation = make_rotation(participants=3, start_date="2030-01-07")
    a, b, c = rotation["participant_ids"]
    url = f"/api/v1/rotations/{rotation['id']}"
    api.patch(url, json={"participant_ids": [a, b], "effective_at": "2030-02-10T00:00:00Z"})
    changed = api.patch(url, json={"handoff_time": "10:00", "effective_at": "2030-02-10T00:00:00Z"})
    assert changed.status_code == 200, changed.json
    assert [(v["effective_at"], v["handoff_time"], v["participant_ids"]) for v in changed.json["versions"]] == [
        (None, "09:00", [a, b, c]), ("2030-02-10T00:00:00Z", "10:00", [a, b])]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("get", "/api/v1/rotations/{rid}/oncall?at=9999-12-31T23:59:59Z", None, "at"),
        ("get", "/api/v1/rotations/{rid}/oncall?at=0001-01-01T00:00:00%2B14:00", None, "at"),
        ("get", "/api/v1/teams/{tid}/oncall?at=0001-01-01T00:00:00Z", None, "at"),
        ("get", "/api/v1/rotations/{rid}/shifts?start=9999-12-01T00:00:00Z&end=9999-12-31T23:59:59Z", None, "start"),
        ("get", "/api/v1/rotations/{rid}/shifts?start=0001-01-01T00:00:00Z&end=0001-02-01T00:00:00Z", None, "start"),
        ("post", "/api/v1/rotations/{rid}/overrides", {"start": "9999-12-31T00:00:00Z", "end": "9999-12-31T23:59:59Z"},
         "start"),
        ("post", "/api/v1/users/{uid}/time-off", {"start": "0001-01-01T00:00:00Z", "end": "0001-01-02T00:00:00Z"},
         "start"),
        ("patch", "/api/v1/rotations/{rid}", {"handoff_time": "10:00", "effective_at": "9999-12-31T00:00:00Z"},
         "effective_at"),
        ("patch", "/api/v1/rotations/{rid}", {"start_date": "9999-12-31"}, "start_date"),
        ("post", "/api/v1/rotations", {"start_date": "0001-01-01"}, "start_date"),
    ],
)
def test_instants_outside_any_calendar_are_422_not_500(api, session, make_rotation, method, path, body, field):
    rotation = make_rotation(participants=2)
    uid = rotation["participant_ids"][0]
    if body is not None and path.endswith("/overrides"):
        body = body | {"user_id": uid}
    if path == "/api/v1/rotations":
        body = _rotation_body(rotation["team_id"], rotation["participant_ids"], body)
    counts = [count(session, model) for model in (Rotation, Override, TimeOff)]
    url = path.format(rid=rotation["id"], tid=rotation["team_id"], uid=uid)
    response = getattr(api, method)(url, json=body) if body is not None else getattr(api, method)(url)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    assert [count(session, model) for model in (Rotation, Override, TimeOff)] == counts
    assert api.get(f"/api/v1/rotations/{rotation['id']}").json["versions"] == rotation["versions"]


def test_two_changes_with_the_same_clock_reading_still_refresh_the_cache(app, api, session, make_rotation, make_user):
    """The cache stamp is a change counter, not only a timestamp: a frozen or coarse clock cannot hide a change."""
    from datetime import datetime, timezone

    from sqlalchemy import update

    from oncall.schedules import service

    rotation = make_rotation(participants=2)
    at = datetime(2026, 3, 3, 12, tzinfo=timezone.utc)
    frozen = datetime(2026, 1, 1, tzinfo=timezone.utc)
    cover = make_user()
    freeze = update(Rotation).where(Rotation.id == rotation["id"]).values(updated_at=frozen)
    session.execute(freeze)
    session.commit()
    before = api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string={"at": at.isoformat()}).json
    service.add_override(session, rotation_id=rotation["id"], user_id=cover["id"], start_at=at.replace(hour=0),
                         end_at=at.replace(hour=23), now=frozen)
    session.execute(freeze)  # the change's stamp reads the same clock as before
    session.commit()
    after = api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string={"at": at.isoformat()}).json
    assert before["source"] == "rotation" and after["user_id"] == cover["id"] and after["source"] == "override"


def test_renaming_a_team_touches_its_rotations(api, make_team, make_rotation):
    team = make_team()
    rotation = make_rotation(participants=1, team_id=team["id"])
    before = api.get(f"/api/v1/rotations/{rotation['id']}").json["updated_at"]
    assert api.patch(f"/api/v1/teams/{team['id']}", json={"name": "Renamed team"}).status_code == 200
    assert api.get(f"/api/v1/rotations/{rotation['id']}").json["updated_at"] > before


def test_a_rotation_change_is_computed_before_any_row_is_locked(app, api, make_rotation, make_user, monkeypatch):
    """The pure core checks the new plan before the participants' rows are locked (FOR SHARE) and the rotation's
    row is updated, so no lock waits on the schedule maths; on PostgreSQL the statements themselves show it."""
    from sqlalchemy import event

    from oncall.db import get_engine
    from oncall.schedules import service

    rotation = make_rotation(participants=3)
    newcomer = make_user()["id"]
    order: list[str] = []
    real_build, real_check = service.timeline.build_schedule, service._check_participants
    monkeypatch.setattr(service.timeline, "build_schedule", lambda *a, **k: (order.append("build"), real_build(*a, **k))[1])
    monkeypatch.setattr(service, "_check_participants", lambda *a, **k: (order.append("lock"), real_check(*a, **k))[1])

    def statement(_conn, _cursor, sql, *_):
        if " FOR SHARE" in sql or " FOR UPDATE" in sql or sql.startswith("UPDATE rotations"):
            order.append("lock")

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        response = api.patch(f"/api/v1/rotations/{rotation['id']}",
                             json={"participant_ids": rotation["participant_ids"] + [newcomer]})
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert response.status_code == 200, response.json
    assert "build" in order and "lock" in order
    assert order.index("build") < order.index("lock"), order
