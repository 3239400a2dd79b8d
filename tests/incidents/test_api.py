"""/api/v1/incidents and /api/v1/teams/<id>/integrations over HTTP."""
import pytest

from tests.conftest import ApiClient


@pytest.fixture()
def team(api, make_team, make_rotation, make_user):
    team = make_team()
    rotation = make_rotation(team_id=team["id"], start_date="2026-01-05")
    return team | {"rotation": rotation}


def open_incident(api, team, **overrides):
    body = {"team_id": team["id"], "severity": "SEV2", "title": "Checkout errors at 5%", "description": "Spiking",
            "links": {"dashboard": "https://grafana.example.com/d/checkout", "runbook": "http://wiki:8080/checkout",
                      "chat": "#incidents-payments"}} | overrides
    return api.post("/api/v1/incidents", json=body)


def test_open_an_incident_pages_step_zero_at_once(api, team):
    response = open_incident(api, team, severity="sev2")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["severity"] == "SEV2" and body["status"] == "triggered" and body["source"] == "api"
    assert body["links"] == {"dashboard": "https://grafana.example.com/d/checkout",
                             "runbook": "http://wiki:8080/checkout", "chat": "#incidents-payments"}
    assert 1000 <= body["code"] <= 99999
    assert body["url"] == f"https://oncall.example.com/incidents/{body['id']}"
    assert body["created_at"].endswith("Z")
    assert [e["kind"] for e in body["timeline"]] == ["created", "step"]
    assert body["timeline"][0]["message"] == f"SEV2 opened for {team['name']}: Checkout errors at 5%"
    # Step 0 of the default SEV2 policy: SMS and call to the primary's on-call, waiting in the outbox.
    assert [(n["channel"], n["state"]) for n in body["notifications"]] == [("sms", "pending"), ("voice", "pending")]
    assert body["escalation"]["next_step"] == 1
    assert body["escalation"]["policy"]["source"] == "default"


def test_a_second_trigger_with_an_open_key_joins_the_incident(api, team):
    first = open_incident(api, team, dedup_key="checkout-errors").json
    again = open_incident(api, team, dedup_key="checkout-errors", title="Checkout errors at 9%")
    assert again.status_code == 200
    assert again.json["id"] == first["id"] and again.json["trigger_count"] == 2
    assert [e["kind"] for e in again.json["timeline"]][-1] == "retriggered"
    assert len(again.json["notifications"]) == len(first["notifications"])
    # Other teams and other keys are separate incidents.
    assert open_incident(api, team, dedup_key="other").status_code == 201
    # Once resolved, the key opens a new incident.
    api.post(f"/api/v1/incidents/{first['id']}/resolve")
    reopened = open_incident(api, team, dedup_key="checkout-errors")
    assert reopened.status_code == 201 and reopened.json["id"] != first["id"]


@pytest.mark.parametrize("overrides,fields", [
    ({"team_id": None}, {"team_id": ["Field may not be null."]}),
    ({"team_id": "1"}, {"team_id": ["Not a valid integer."]}),
    ({"team_id": 999999}, {"team_id": ["Unknown team."]}),
    ({"severity": "SEV5"}, {"severity": ["Must be one of: SEV1, SEV2, SEV3, SEV4."]}),
    ({"severity": 1}, {"severity": ["Not a valid string."]}),
    ({"title": ""}, {"title": ["Must not be blank."]}),
    ({"title": "   "}, {"title": ["Must not be blank."]}),
    ({"title": "x" * 501}, {"title": ["Length must be between 1 and 500."]}),
    ({"dedup_key": ""}, {"dedup_key": ["Length must be between 1 and 255."]}),
    ({"links": {"dashboard": "javascript:alert(1)"}}, {"links": {"dashboard": ["Not a valid URL."]}}),
    ({"links": "https://x"}, {"links": {"_schema": ["Invalid input type."]}}),
    ({"links": {"pager": "x"}}, {"links": {"pager": ["Unknown field."]}}),
])
def test_invalid_incidents_are_422_naming_the_field(api, team, overrides, fields):
    response = open_incident(api, team, **overrides)
    assert response.status_code == 422, response.json
    assert response.json["error"]["fields"] == fields


def test_missing_fields_are_named(api):
    response = api.post("/api/v1/incidents", json={})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"team_id", "severity", "title"}


def test_list_filters(api, team, make_team):
    other = make_team()
    a = open_incident(api, team, severity="SEV1").json
    b = open_incident(api, team, severity="SEV3").json
    c = open_incident(api, other, severity="SEV3").json
    api.post(f"/api/v1/incidents/{b['id']}/resolve")

    def ids(query):
        response = api.get(f"/api/v1/incidents{query}")
        assert response.status_code == 200, response.json
        assert all("timeline" not in i for i in response.json["incidents"])
        return [i["id"] for i in response.json["incidents"]]

    assert ids(f"?team_id={team['id']}") == [b["id"], a["id"]]
    assert ids(f"?team_id={team['id']}&status=open") == [a["id"]]
    assert ids(f"?team_id={team['id']}&status=resolved") == [b["id"]]
    assert ids(f"?severity=sev3&team_id={other['id']}") == [c["id"]]
    assert ids(f"?since={a['created_at']}&team_id={team['id']}&limit=1") == [b["id"]]
    assert ids(f"?team_id={team['id']}&before_id={b['id']}") == [a["id"]]
    assert ids("?since=2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize("query,field", [
    ("?status=sleeping", "status"), ("?severity=low", "severity"), ("?since=2026-03-01T00:00:00", "since"),
    ("?since=yesterday", "since"), ("?limit=0", "limit"), ("?limit=501", "limit"), ("?team_id=abc", "team_id"),
])
def test_invalid_list_filters_are_422(api, query, field):
    response = api.get(f"/api/v1/incidents{query}")
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_detail_has_the_whole_timeline(api, team):
    incident = open_incident(api, team).json
    api.post(f"/api/v1/incidents/{incident['id']}/notes", json={"text": "Rolled back deploy 42"})
    body = api.get(f"/api/v1/incidents/{incident['id']}").json
    assert [e["kind"] for e in body["timeline"]] == ["created", "step", "note"]
    note = body["timeline"][-1]
    assert note["message"] == "Rolled back deploy 42" and note["via"] == "api" and note["user_id"] is not None
    assert api.get("/api/v1/incidents/999999").status_code == 404


def test_acknowledge_resolve_escalate(api, team):
    incident = open_incident(api, team).json
    path = f"/api/v1/incidents/{incident['id']}"
    ack = api.post(f"{path}/acknowledge")
    assert ack.status_code == 200
    assert ack.json["status"] == "acknowledged" and ack.json["acknowledged_via"] == "api"
    assert ack.json["escalation"]["next_step_at"] is None
    assert {n["state"] for n in ack.json["notifications"]} == {"cancelled"}
    assert api.post(f"{path}/acknowledge").status_code == 200  # twice is fine
    escalated = api.post(f"{path}/escalate")
    assert escalated.status_code == 200 and escalated.json["status"] == "triggered"
    resolved = api.post(f"{path}/resolve")
    assert resolved.status_code == 200 and resolved.json["resolved_at"].endswith("Z")
    assert api.post(f"{path}/resolve").status_code == 200
    for action in ("acknowledge", "escalate"):
        response = api.post(f"{path}/{action}")
        assert response.status_code == 409 and response.json["error"]["code"] == "Conflict"
    kinds = [e["kind"] for e in api.get(path).json["timeline"]]
    assert kinds.count("acknowledged") == 1 and kinds.count("resolved") == 1 and "escalated" in kinds


def test_only_team_members_act_on_an_incident(api, client, team, make_token):
    incident = open_incident(api, team).json
    outsider = ApiClient(client, make_token(email="outsider@example.com", admin=False))
    assert outsider.get(f"/api/v1/incidents/{incident['id']}").status_code == 200
    for action in ("acknowledge", "resolve", "escalate"):
        assert outsider.post(f"/api/v1/incidents/{incident['id']}/{action}").status_code == 403
    assert outsider.post(f"/api/v1/incidents/{incident['id']}/notes", json={"text": "hi"}).status_code == 403
    # Anyone may declare an incident for a team: that is how they ask it for help.
    assert open_incident(outsider, team).status_code == 201


@pytest.mark.parametrize("body,field", [({}, "text"), ({"text": ""}, "text"), ({"text": "x" * 5001}, "text")])
def test_invalid_notes_are_422(api, team, body, field):
    incident = open_incident(api, team).json
    response = api.post(f"/api/v1/incidents/{incident['id']}/notes", json=body)
    assert response.status_code == 422 and field in response.json["error"]["fields"]


# --- integrations --------------------------------------------------------------------------------------------

def test_integration_tokens_are_shown_once_listed_without_and_revocable(api, client, team):
    created = api.post(f"/api/v1/teams/{team['id']}/integrations", json={"type": "alertmanager", "name": "prod"})
    assert created.status_code == 201
    token = created.json["token"]
    assert token.startswith("oncall_int_") and created.json["url"].endswith("/api/v1/integrations/alertmanager")
    listed = api.get(f"/api/v1/teams/{team['id']}/integrations").json["integrations"]
    assert [i["id"] for i in listed] == [created.json["id"]] and "token" not in listed[0]
    hook = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/integrations/alertmanager", json={}, headers=hook).status_code == 422
    assert api.delete(f"/api/v1/teams/{team['id']}/integrations/{created.json['id']}").status_code == 204
    assert client.post("/api/v1/integrations/alertmanager", json={}, headers=hook).status_code == 401
    assert api.delete(f"/api/v1/teams/{team['id']}/integrations/{created.json['id']}").status_code == 404


@pytest.mark.parametrize("body,field", [({}, "type"), ({"type": "pagerduty"}, "type"), ({"type": "alertmanager",
                                                                                          "name": "x" * 201}, "name")])
def test_invalid_integrations_are_422(api, team, body, field):
    response = api.post(f"/api/v1/teams/{team['id']}/integrations", json=body)
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_only_team_admins_manage_integrations(api, client, team, make_token):
    outsider = ApiClient(client, make_token(email="outsider@example.com", admin=False))
    assert outsider.post(f"/api/v1/teams/{team['id']}/integrations", json={"type": "alertmanager"}).status_code == 403
    assert outsider.get(f"/api/v1/teams/{team['id']}/integrations").status_code == 403
    assert api.post("/api/v1/teams/999999/integrations", json={"type": "alertmanager"}).status_code == 404
