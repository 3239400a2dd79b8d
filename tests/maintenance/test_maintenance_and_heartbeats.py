"""Maintenance windows and heartbeat monitors, with a controlled clock: an alert inside a window pages nobody
and is kept, marked suppressed; one outside pages; a held incident still open when its window ends starts
paging; a missed heartbeat opens one incident, the next ping resolves it."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from oncall.incidents.models import Incident
from oncall.paging.models import Notification
from oncall.worker import Worker
from tests.incidents.test_alertmanager import alert, hook, payload  # noqa: F401 (hook is a fixture)


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def pages_of(session, incident_id: int) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Notification).where(Notification.incident_id == incident_id))


@pytest.fixture()
def window(api, hook, clock):  # noqa: F811
    def make(start, end, reason="Database upgrade"):
        response = api.post(f"/api/v1/teams/{hook.team['id']}/maintenance-windows",
                            json={"start": iso(start), "end": iso(end), "reason": reason})
        assert response.status_code == 201, response.json
        return response.json

    return make


def test_an_alert_inside_a_window_pages_nobody_and_is_kept_suppressed(api, hook, window, session, clock):  # noqa: F811
    now = clock()
    made = window(now - timedelta(minutes=5), now + timedelta(hours=1))
    [result] = hook(payload()).json["results"]
    incident = api.get(f"/api/v1/incidents/{result['incident_id']}").json
    assert incident["suppressed"] is True and incident["held"] is True
    assert incident["maintenance_window_id"] == made["id"]
    assert incident["notifications"] == [] and pages_of(session, incident["id"]) == 0
    assert incident["timeline"][-1]["kind"] == "suppressed"
    assert Worker(app=api.client.application).watch_machines() == (0, 0), "the window is not over"
    listed = api.get("/api/v1/incidents", query_string={"team_id": hook.team["id"]}).json["incidents"]
    assert [i["id"] for i in listed] == [incident["id"]], "kept and visible"
    person = api.post("/api/v1/incidents", json={"team_id": hook.team["id"], "severity": "SEV3", "title": "By hand"}).json
    for flag, expected in (("true", [incident["id"]]), ("false", [person["id"]])):
        got = api.get("/api/v1/incidents", query_string={"team_id": hook.team["id"], "suppressed": flag}).json
        assert [i["id"] for i in got["incidents"]] == expected, flag


def test_a_person_s_incident_pages_during_a_window(api, hook, window, clock):  # noqa: F811
    now = clock()
    window(now - timedelta(minutes=5), now + timedelta(hours=1))
    made = api.post("/api/v1/incidents", json={"team_id": hook.team["id"], "severity": "SEV1", "title": "Down"}).json
    assert made["suppressed"] is False and made["notifications"]


def test_an_alert_outside_a_window_pages(api, hook, window, clock):  # noqa: F811
    now = clock()
    window(now + timedelta(hours=1), now + timedelta(hours=2))
    [result] = hook(payload()).json["results"]
    incident = api.get(f"/api/v1/incidents/{result['incident_id']}").json
    assert incident["suppressed"] is False and incident["notifications"]


def test_a_held_incident_still_open_when_its_window_ends_starts_paging(app, api, hook, window, session, clock):  # noqa: F811
    now = clock()
    window(now - timedelta(minutes=5), now + timedelta(minutes=30))
    [result] = hook(payload()).json["results"]
    # Alertmanager's repeat during the window only retriggers it.
    assert hook(payload()).json["results"][0]["action"] == "unchanged"
    clock.advance(timedelta(minutes=31))
    assert Worker(app).watch_machines() == (1, 0)
    incident = api.get(f"/api/v1/incidents/{result['incident_id']}").json
    assert incident["held"] is False and incident["suppressed"] is True and incident["notifications"]
    assert "released" in [e["kind"] for e in incident["timeline"]]
    assert Worker(app).watch_machines() == (0, 0), "released once"


def test_resolved_or_acknowledged_during_the_window_it_never_pages(app, api, hook, window, session, clock):  # noqa: F811
    now = clock()
    window(now - timedelta(minutes=5), now + timedelta(minutes=30))
    [first] = hook(payload()).json["results"]
    [second] = hook(payload(alert(fingerprint="ffff000011112222"))).json["results"]
    assert hook(payload(alert(status="resolved"))).json["results"][0]["action"] == "resolved"
    assert api.post(f"/api/v1/incidents/{second['incident_id']}/acknowledge").status_code == 200
    clock.advance(timedelta(minutes=31))
    assert Worker(app).watch_machines() == (0, 0)
    for incident_id in (first["incident_id"], second["incident_id"]):
        assert pages_of(session, incident_id) == 0


def test_deleting_a_window_releases_what_it_held(api, hook, window, session, clock):  # noqa: F811
    now = clock()
    made = window(now - timedelta(minutes=5), now + timedelta(hours=2))
    [result] = hook(payload()).json["results"]
    assert api.delete(f"/api/v1/teams/{hook.team['id']}/maintenance-windows/{made['id']}").status_code == 204
    incident = api.get(f"/api/v1/incidents/{result['incident_id']}").json
    assert incident["held"] is False and incident["notifications"]
    assert api.get(f"/api/v1/teams/{hook.team['id']}/maintenance-windows").json["maintenance_windows"] == []


@pytest.mark.parametrize(("body", "field"), [
    ({"start": "2026-03-04T16:00:00Z", "end": "2026-03-04T15:00:00Z"}, "end"),
    ({"start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z"}, "end"),
    ({"start": "soon", "end": "2026-03-04T15:00:00Z"}, "start"),
    ({"end": "2026-03-05T15:00:00Z"}, "start"),
    ({"start": "2026-03-04T16:00:00Z", "end": "2026-03-04T17:00:00Z", "reason": "a\x00b"}, "reason"),
])
def test_bad_windows_are_refused_naming_the_field(api, hook, body, field, session):  # noqa: F811
    response = api.post(f"/api/v1/teams/{hook.team['id']}/maintenance-windows", json=body)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json
    assert api.get(f"/api/v1/teams/{hook.team['id']}/maintenance-windows").json["maintenance_windows"] == []


# --- heartbeats -------------------------------------------------------------------------------------------

@pytest.fixture()
def heartbeat(api, hook, client):  # noqa: F811
    response = api.post(f"/api/v1/teams/{hook.team['id']}/heartbeats",
                        json={"name": "Nightly backup", "interval_minutes": 10, "severity": "SEV2"})
    assert response.status_code == 201, response.json
    body = response.json
    body["path"] = body["ping_url"].split("://", 1)[1].split("/", 1)[1]
    body["path"] = "/" + body["path"]
    return body


def test_a_missed_heartbeat_opens_one_incident_and_the_next_ping_resolves_it(app, api, client, heartbeat, session,
                                                                              clock):
    worker = Worker(app)
    assert client.post(heartbeat["path"]).status_code == 200
    clock.advance(timedelta(minutes=9))
    assert worker.watch_machines() == (0, 0)
    clock.advance(timedelta(minutes=2))
    assert worker.watch_machines() == (0, 1)
    assert worker.watch_machines() == (0, 0), "one incident per silence"
    session.expire_all()
    [incident] = session.scalars(select(Incident).where(Incident.dedup_key == f"heartbeat:{heartbeat['id']}")).all()
    assert (incident.severity, incident.title, incident.status) == ("SEV2", "Heartbeat missed: Nightly backup",
                                                                    "triggered")
    assert pages_of(session, incident.id) > 0
    assert client.post(heartbeat["path"], json={"receiver": "watchdog"}).status_code == 200
    session.expire_all()
    assert session.get(Incident, incident.id).status == "resolved"
    assert session.get(Incident, incident.id).resolved_via == "heartbeat"
    listed = api.get(f"/api/v1/teams/{heartbeat['team_id']}/heartbeats").json["heartbeats"]
    assert listed[0]["incident_id"] is None and "ping_url" not in listed[0]


def test_a_heartbeat_missed_during_maintenance_is_held(app, api, client, heartbeat, window, session, clock):
    now = clock()
    window(now, now + timedelta(hours=1))
    clock.advance(timedelta(minutes=11))
    assert Worker(app).watch_machines() == (0, 1)
    session.expire_all()
    incident = session.scalar(select(Incident).where(Incident.dedup_key == f"heartbeat:{heartbeat['id']}"))
    assert incident.held and pages_of(session, incident.id) == 0


def test_an_unknown_or_deleted_ping_url_is_a_404(api, client, heartbeat):
    assert client.post("/heartbeats/" + "x" * 43).status_code == 404
    assert client.post("/heartbeats/short").status_code == 404
    assert api.delete(f"/api/v1/teams/{heartbeat['team_id']}/heartbeats/{heartbeat['id']}").status_code == 204
    assert client.post(heartbeat["path"]).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "", "interval_minutes": 5, "severity": "SEV1"}, "name"),
    ({"name": "x", "interval_minutes": 0, "severity": "SEV1"}, "interval_minutes"),
    ({"name": "x", "interval_minutes": 5, "severity": "SEV9"}, "severity"),
    ({"name": "x", "interval_minutes": "5", "severity": "SEV1"}, "interval_minutes"),
])
def test_bad_heartbeats_are_refused_naming_the_field(api, hook, body, field):  # noqa: F811
    response = api.post(f"/api/v1/teams/{hook.team['id']}/heartbeats", json=body)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json
