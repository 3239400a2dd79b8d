"""Roles and status updates of an incident over the API, with their validation."""
from datetime import timedelta

import pytest

from tests.conftest import TEST_NOW, ApiClient
from tests.incidents.test_api import open_incident


@pytest.fixture()
def team(api, make_team, make_rotation):
    team = make_team()
    rotation = make_rotation(team_id=team["id"], start_date="2026-01-05")
    return team | {"rotation": rotation, "members": rotation["participant_ids"]}


def test_roles_are_named_changed_and_cleared(api, team):
    incident = open_incident(api, team, severity="SEV1").json
    path = f"/api/v1/incidents/{incident['id']}"
    assert incident["roles"] == {"commander": None, "tech_lead": None, "comms_lead": None}
    a, b, _c = team["members"]
    response = api.put(f"{path}/roles", json={"commander": a, "tech_lead": b, "comms_lead": a})
    assert response.status_code == 200, response.json
    assert response.json["roles"] == {"commander": a, "tech_lead": b, "comms_lead": a}  # one person, two roles
    event = response.json["timeline"][-1]
    assert event["kind"] == "roles" and event["message"].startswith("Roles: commander: User")
    # A role left out keeps its holder; null clears one.
    body = api.put(f"{path}/roles", json={"tech_lead": None}).json
    assert body["roles"] == {"commander": a, "tech_lead": None, "comms_lead": a}
    # Naming the same people again adds nothing to the timeline.
    before = len(api.get(path).json["timeline"])
    assert len(api.put(f"{path}/roles", json={"commander": a}).json["timeline"]) == before


@pytest.mark.parametrize("body, field", [
    ({"commander": "x"}, "commander"), ({"tech_lead": 0}, "tech_lead"), ({"comms_lead": 2**40}, "comms_lead"),
    ({"captain": 1}, "captain"), ({"commander": 999999}, "commander"),
])
def test_roles_refuse_bad_input_naming_the_field_and_change_nothing(api, team, body, field):
    incident = open_incident(api, team, severity="SEV1").json
    path = f"/api/v1/incidents/{incident['id']}"
    api.put(f"{path}/roles", json={"commander": team["members"][0]})
    response = api.put(f"{path}/roles", json=body | {"tech_lead": team["members"][1]} if field != "tech_lead" else body)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json
    after = api.get(path).json
    assert after["roles"] == {"commander": team["members"][0], "tech_lead": None, "comms_lead": None}


def test_roles_need_members_of_the_team(api, team, make_user, client, make_token):
    incident = open_incident(api, team).json
    path = f"/api/v1/incidents/{incident['id']}"
    stranger = make_user()["id"]
    response = api.put(f"{path}/roles", json={"commander": stranger})
    assert response.status_code == 422 and list(response.json["error"]["fields"]) == ["commander"]
    outsider = ApiClient(client, make_token(email="outsider@example.com", admin=False))
    assert outsider.put(f"{path}/roles", json={"commander": team["members"][0]}).status_code == 403
    assert outsider.post(f"{path}/updates", json={"status": "identified", "message": "x"}).status_code == 403
    assert api.put("/api/v1/incidents/999999/roles", json={}).status_code == 404


def test_status_updates_newest_first_on_the_timeline_and_restart_the_cadence(clock, api, team):
    incident = open_incident(api, team, severity="SEV1").json
    path = f"/api/v1/incidents/{incident['id']}"
    assert incident["updates"] == [] and incident["update_due"]["due_at"].startswith(
        (TEST_NOW + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M"))
    clock.advance(timedelta(minutes=10))
    first = api.post(f"{path}/updates", json={"status": "investigating", "message": " Errors at 5% "})
    assert first.status_code == 201, first.json
    assert first.json["status"] == "investigating" and first.json["message"] == "Errors at 5%"
    clock.advance(timedelta(minutes=20))
    second = api.post(f"{path}/updates", json={"status": "identified", "message": "A bad deploy"}).json
    body = api.get(path).json
    assert [u["id"] for u in body["updates"]] == [second["id"], first.json["id"]]
    assert [e["message"] for e in body["timeline"] if e["kind"] == "status_update"] == [
        "Status update (Investigating): Errors at 5%", "Status update (Identified): A bad deploy"]
    assert body["update_due"]["due_at"].startswith(
        (TEST_NOW + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M")) and body["update_due"]["late"] is False


@pytest.mark.parametrize("body, field", [
    ({"message": "x"}, "status"), ({"status": "fixed", "message": "x"}, "status"),
    ({"status": "identified"}, "message"), ({"status": "identified", "message": "   "}, "message"),
    ({"status": "identified", "message": "x" * 5001}, "message"), ({"status": 3, "message": "x"}, "status"),
])
def test_status_updates_refuse_bad_input_naming_the_field(api, team, body, field):
    incident = open_incident(api, team, severity="SEV2").json
    path = f"/api/v1/incidents/{incident['id']}"
    response = api.post(f"{path}/updates", json=body)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json
    after = api.get(path).json
    assert after["updates"] == [] and [e["kind"] for e in after["timeline"]] == ["created", "step"]


def test_a_resolved_update_resolves_and_ends_updates(api, team):
    incident = open_incident(api, team, severity="SEV2").json
    path = f"/api/v1/incidents/{incident['id']}"
    response = api.post(f"{path}/updates", json={"status": "resolved", "message": "Rolled back; all clear"})
    assert response.status_code == 201
    body = api.get(path).json
    assert body["status"] == "resolved" and body["update_due"] is None
    assert [e["kind"] for e in body["timeline"]][-2:] == ["status_update", "resolved"]
    assert body["postmortem_state"] == "draft"
    late = api.post(f"{path}/updates", json={"status": "monitoring", "message": "still fine"})
    assert late.status_code == 409 and late.json["error"]["code"] == "Conflict"


def test_lower_severities_have_no_cadence(api, team):
    incident = open_incident(api, team, severity="SEV3").json
    assert incident["update_due"] is None
    api.post(f"/api/v1/incidents/{incident['id']}/resolve")
    assert api.get(f"/api/v1/incidents/{incident['id']}").json["postmortem_state"] is None
