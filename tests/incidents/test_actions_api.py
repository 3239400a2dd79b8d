"""Reassigning an incident and changing its severity over the API."""
from datetime import timedelta

import pytest

from tests.conftest import TEST_NOW, ApiClient
from tests.incidents.test_api import open_incident


@pytest.fixture()
def team(api, make_team, make_rotation):
    team = make_team()
    rotation = make_rotation(team_id=team["id"], start_date="2026-01-05")
    return team | {"rotation": rotation, "members": rotation["participant_ids"]}


def _pages(body) -> list[tuple]:
    return sorted((n["user_id"], n["channel"]) for n in body["notifications"] if n["state"] == "pending")


def test_reassign_pages_the_person_and_unacknowledges(clock, api, team):
    incident = open_incident(api, team).json
    path = f"/api/v1/incidents/{incident['id']}"
    api.post(f"{path}/acknowledge")
    someone = team["members"][2]
    response = api.post(f"{path}/reassign", json={"user_id": someone})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "triggered" and body["acknowledged_by_id"] is None
    assert _pages(body) == [(someone, "sms"), (someone, "voice")]
    event = body["timeline"][-1]
    assert event["kind"] == "reassigned" and "no longer acknowledged" in event["message"]
    # The policy goes on unless they acknowledge: after five minutes, or its next step's own delay if longer.
    escalation = body["escalation"]
    wait = max(5, escalation["policy"]["steps"][escalation["next_step"]]["delay_minutes"])
    assert escalation["next_step_at"].startswith((TEST_NOW + timedelta(minutes=wait)).strftime("%Y-%m-%dT%H:%M"))
    # Handing it to the same person again pages again.
    clock.advance(timedelta(seconds=3))
    again = api.post(f"{path}/reassign", json={"user_id": someone}).json
    assert len([n for n in again["notifications"] if n["user_id"] == someone and n["step"] == -2]) == 4


def test_reassign_refuses_outsiders_and_bad_input(api, team, make_user, client, make_token):
    incident = open_incident(api, team).json
    path = f"/api/v1/incidents/{incident['id']}"
    stranger = make_user()["id"]
    for body, field in [({}, "user_id"), ({"user_id": "x"}, "user_id"), ({"user_id": stranger}, "user_id"),
                        ({"user_id": 999999}, "user_id")]:
        response = api.post(f"{path}/reassign", json=body)
        assert response.status_code == 422 and field in response.json["error"]["fields"], (body, response.json)
    after = api.get(path).json
    assert [e["kind"] for e in after["timeline"]] == ["created", "step"]  # nothing changed
    outsider = ApiClient(client, make_token(email="outsider@example.com", admin=False))
    assert outsider.post(f"{path}/reassign", json={"user_id": team["members"][0]}).status_code == 403
    assert outsider.patch(path, json={"severity": "SEV1"}).status_code == 403
    api.post(f"{path}/resolve")
    assert api.post(f"{path}/reassign", json={"user_id": team["members"][0]}).status_code == 409
    assert api.patch(path, json={"severity": "SEV1"}).status_code == 409


def test_severity_change_follows_the_new_policy_from_its_first_step(clock, api, team):
    incident = open_incident(api, team, severity="SEV3").json
    path = f"/api/v1/incidents/{incident['id']}"
    assert incident["escalation"]["policy"]["severity"] == "SEV3"
    first_pages = _pages(incident)
    api.post(f"{path}/acknowledge")
    response = api.patch(path, json={"severity": "sev1"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["severity"] == "SEV1" and body["status"] == "triggered"
    assert body["escalation"]["policy"]["severity"] == "SEV1"
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[-2:] == ["severity_changed", "step"]
    # Step 0 of the SEV1 policy pages the on-call again, even one the SEV3 policy's step 0 paged already.
    assert first_pages and set(first_pages) <= set(_pages(body))
    assert "pass" not in body["timeline"][-1]["message"] or "pass 1 of" in body["timeline"][-1]["message"]
    same = api.patch(path, json={"severity": "SEV1"}).json
    assert len(same["timeline"]) == len(body["timeline"])  # the same severity again changes nothing
    assert api.patch(path, json={}).status_code == 422
    for bad in ({"severity": "SEV9"}, {"severity": 1}, {"severity": None}):
        response = api.patch(path, json=bad)
        assert response.status_code == 422 and "severity" in response.json["error"]["fields"]
