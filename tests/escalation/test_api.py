"""GET/PUT /api/v1/teams/<id>/escalation-policies[/<SEV>]."""
import pytest

from tests.conftest import ApiClient


def test_new_team_without_rotations_gets_whole_team_defaults(api, make_team):
    team = make_team()
    response = api.get(f"/api/v1/teams/{team['id']}/escalation-policies")
    assert response.status_code == 200
    policies = {p["severity"]: p for p in response.json["policies"]}
    assert list(policies) == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert policies["SEV1"]["source"] == "default"
    assert policies["SEV1"]["steps"] == [
        {"delay_minutes": 0, "targets": [{"type": "team", "id": team["id"]}], "channels": ["sms", "voice"]}]


def test_defaults_follow_rotations_added_later(api, make_team, make_rotation):
    team = make_team()
    primary = make_rotation(team_id=team["id"])
    secondary = make_rotation(team_id=team["id"], name="Secondary")
    body = api.get(f"/api/v1/teams/{team['id']}/escalation-policies/SEV1").json
    assert body["repeat"] == 2 and body["updated_at"] is None
    assert [(s["delay_minutes"], s["targets"], s["channels"]) for s in body["steps"]] == [
        (0, [{"type": "rotation", "id": primary["id"]}], ["sms", "voice"]),
        (5, [{"type": "rotation", "id": secondary["id"]}], ["sms", "voice"]),
        (10, [{"type": "team", "id": team["id"]}], ["sms", "voice"]),
    ]


def test_put_then_get_round_trips(api, make_team, make_rotation, make_user):
    team = make_team()
    rotation = make_rotation(team_id=team["id"])
    user = make_user()
    api.put(f"/api/v1/teams/{team['id']}/members", json={"user_ids": [user["id"]]})
    body = {"repeat": 1, "steps": [
        {"delay_minutes": 0, "targets": [{"type": "rotation", "id": rotation["id"]}], "channels": ["sms"]},
        {"delay_minutes": 7, "targets": [{"type": "user", "id": user["id"]}, {"type": "team"}],
         "channels": ["voice", "sms"]}]}
    put = api.put(f"/api/v1/teams/{team['id']}/escalation-policies/sev2", json=body)
    assert put.status_code == 200, put.json
    assert put.json["source"] == "team" and put.json["severity"] == "SEV2"
    got = api.get(f"/api/v1/teams/{team['id']}/escalation-policies/SEV2").json
    assert got["steps"][1]["targets"] == [{"type": "user", "id": user["id"]}, {"type": "team", "id": team["id"]}]
    assert got["repeat"] == 1 and got["updated_at"].endswith("Z")
    others = api.get(f"/api/v1/teams/{team['id']}/escalation-policies").json["policies"]
    assert [p["source"] for p in others] == ["default", "team", "default", "default"]


def test_what_get_returns_can_be_put_back(api, make_team, make_rotation):
    team = make_team()
    make_rotation(team_id=team["id"])
    body = api.get(f"/api/v1/teams/{team['id']}/escalation-policies/SEV1").json
    body["repeat"] = 1
    response = api.put(f"/api/v1/teams/{team['id']}/escalation-policies/SEV1", json=body)
    assert response.status_code == 200, response.json
    assert response.json["steps"] == body["steps"] and response.json["source"] == "team"
    typo = api.put(f"/api/v1/teams/{team['id']}/escalation-policies/SEV1", json=body | {"repeats": 2})
    assert typo.status_code == 422 and typo.json["error"]["fields"] == {"repeats": ["Unknown field."]}


def _step(**overrides):
    return {"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["sms"]} | overrides


@pytest.mark.parametrize("body,fields", [
    ({}, {"steps": ["Missing data for required field."]}),
    ({"steps": []}, {"steps": ["Length must be between 1 and 20."]}),
    ({"steps": [_step(delay_minutes=-1)]}, {"steps": {"0": {"delay_minutes": ["Must be greater than or equal to 0 and less than or equal to 10080."]}}}),
    ({"steps": [_step(delay_minutes="5")]}, {"steps": {"0": {"delay_minutes": ["Not a valid integer."]}}}),
    ({"steps": [_step(channels=["fax"])]}, {"steps": {"0": {"channels": {"0": ["Must be one of: sms, voice."]}}}}),
    ({"steps": [_step(targets=[{"type": "rotation"}])]}, {"steps": {"0": {"targets": {"0": {"id": ["Missing data for required field."]}}}}}),
    ({"steps": [_step(targets=[{"type": "pager"}])]}, {"steps": {"0": {"targets": {"0": {"type": ["Must be one of: rotation, user, team."]}}}}}),
    ({"steps": [_step(), _step(delay_minutes=5)]}, {"steps": {"1": {"targets": ["Same targets and channels as step 0; use repeat to page them again."]}}}),
    ({"steps": [_step()], "repeat": 2}, {"repeat": ["Passes restart as long after the last step as its delay; with a last delay of 0 every pass would page at the same instant."]}),
    ({"steps": [_step(targets=[{"type": "team", "id": 999999}])]}, "team-target"),
    ({"steps": [_step(targets=[{"type": "rotation", "id": 999999}])]}, {"steps": {"0": {"targets": {"0": {"id": ["Rotation 999999 does not exist."]}}}}}),
    ({"steps": [_step(targets=[{"type": "user", "id": 999999}])]}, {"steps": {"0": {"targets": {"0": {"id": ["User 999999 does not exist."]}}}}}),
    ({"steps": "nope"}, {"steps": ["Not a valid list."]}),
])
def test_invalid_policies_are_422_naming_the_field(api, make_team, body, fields):
    team = make_team()
    response = api.put(f"/api/v1/teams/{team['id']}/escalation-policies/SEV1", json=body)
    assert response.status_code == 422, response.json
    if fields == "team-target":
        fields = {"steps": {"0": {"targets": {"0": {"id": [f"A team target can only be this team ({team['id']})."]}}}}}
    assert response.json["error"]["fields"] == fields


def test_targets_of_another_team_are_rejected(api, make_team, make_rotation, make_user):
    team, other = make_team(), make_team()
    foreign_rotation = make_rotation(team_id=other["id"])
    outsider = make_user()
    body = {"steps": [
        {"delay_minutes": 0, "targets": [{"type": "rotation", "id": foreign_rotation["id"]}], "channels": ["sms"]},
        {"delay_minutes": 5, "targets": [{"type": "user", "id": outsider["id"]}], "channels": ["sms"]}]}
    response = api.put(f"/api/v1/teams/{team['id']}/escalation-policies/SEV3", json=body)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"steps": {
        "0": {"targets": {"0": {"id": [f"Rotation {foreign_rotation['id']} belongs to another team."]}}},
        "1": {"targets": {"0": {"id": [f"User {outsider['id']} is not a member of this team."]}}}}}


@pytest.mark.parametrize("path,status", [
    ("/api/v1/teams/999999/escalation-policies", 404),
    ("/api/v1/teams/999999/escalation-policies/SEV1", 404),
    ("/api/v1/teams/{team}/escalation-policies/SEV5", 404),
    ("/api/v1/teams/{team}/escalation-policies/critical", 404),
])
def test_unknown_team_or_severity_is_404(api, make_team, path, status):
    team = make_team()
    response = api.get(path.format(team=team["id"]))
    assert response.status_code == status
    assert set(response.json["error"]) == {"code", "message", "fields"}


def test_only_team_admins_may_change_a_policy(api, client, make_team, make_token):
    team = make_team()
    outsider = ApiClient(client, make_token(email="someone@example.com", admin=False))
    body = {"steps": [_step()]}
    assert outsider.get(f"/api/v1/teams/{team['id']}/escalation-policies/SEV1").status_code == 200
    response = outsider.put(f"/api/v1/teams/{team['id']}/escalation-policies/SEV1", json=body)
    assert response.status_code == 403
    assert api.put(f"/api/v1/teams/{team['id']}/escalation-policies/SEV1", json=body).status_code == 200
