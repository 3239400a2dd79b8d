"""The reports over HTTP: the load per person (JSON and CSV) and the response per severity, on constructed
schedules and incidents."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from oncall.incidents.models import Incident
from oncall.paging.models import Notification
from tests.conftest import ApiClient

UTC = timezone.utc
FEB_02 = datetime(2026, 2, 2, tzinfo=UTC)  # a Monday, before the test clock's 4 March 2026
TWO_WEEKS = {"start": "2026-02-02T00:00:00Z", "end": "2026-02-16T00:00:00Z"}


@pytest.fixture()
def weekly(api, make_team, make_user, make_rotation):
    """Two people, a weekly UTC rotation handing off on Mondays at 00:00."""
    team = make_team()
    ann, ben = make_user(name="Ann", time_zone="UTC"), make_user(name="Ben", time_zone="Asia/Kolkata")
    rotation = make_rotation(participants=[ann["id"], ben["id"]], team_id=team["id"], time_zone="UTC",
                             handoff_time="00:00", start_date="2026-01-05")
    return {"team": team, "ann": ann, "ben": ben, "rotation": rotation}


def test_each_person_carries_a_week_of_two(api, weekly):
    response = api.get(f"/api/v1/teams/{weekly['team']['id']}/reports/load", query_string=TWO_WEEKS)
    assert response.status_code == 200, response.json
    rows = {r["user_id"]: r for r in response.json["people"]}
    assert rows[weekly["ann"]["id"]] | {"name": None} == {"user_id": weekly["ann"]["id"], "name": None,
                                                         "oncall_hours": 168, "night_hours": 63,
                                                         "weekend_hours": 48, "pages": 0, "night_pages": 0}
    # Ben's nights and weekend are Kolkata's: a UTC week still holds 63 hours of his nights; his Saturday starts
    # at 18:30 UTC on Friday, inside his week.
    assert (rows[weekly["ben"]["id"]]["oncall_hours"], rows[weekly["ben"]["id"]]["night_hours"],
            rows[weekly["ben"]["id"]]["weekend_hours"]) == (168, 63, 48)


def test_an_override_moves_the_hours(api, weekly):
    assert api.post(f"/api/v1/rotations/{weekly['rotation']['id']}/overrides", json={
        "user_id": weekly["ben"]["id"], "start": "2026-02-07T00:00:00Z", "end": "2026-02-09T00:00:00Z"}).status_code == 201
    rows = {r["user_id"]: r for r in api.get(f"/api/v1/teams/{weekly['team']['id']}/reports/load",
                                             query_string=TWO_WEEKS).json["people"]}
    ann, ben = rows[weekly["ann"]["id"]], rows[weekly["ben"]["id"]]
    assert (ann["oncall_hours"], ann["weekend_hours"]) == (120, 0), "Ben took Ann's (first) weekend"
    # Ann's weekend in UTC is Saturday 05:30 to Monday 05:30 in Kolkata: 42.5 hours of Ben's own weekend.
    assert (ben["oncall_hours"], ben["weekend_hours"]) == (216, 48 + 42.5)


def test_pages_and_night_pages_come_from_the_pages_sent(api, session, weekly):
    created = api.post("/api/v1/incidents", json={"team_id": weekly["team"]["id"], "severity": "SEV3",
                                                  "title": "Disk filling"})
    assert created.status_code == 201, created.json
    ann, ben = weekly["ann"]["id"], weekly["ben"]["id"]
    for user_id, sent_at in ((ann, datetime(2026, 2, 3, 3, tzinfo=UTC)), (ann, datetime(2026, 2, 3, 12, tzinfo=UTC)),
                             (ben, datetime(2026, 2, 10, 21, 30, tzinfo=UTC)), (ben, None)):
        session.add(Notification(incident_id=created.json["id"], step=9, round=len(str(sent_at)), user_id=user_id,
                                 channel="sms" if sent_at and sent_at.hour != 12 else "voice", state="sent",
                                 sent_at=sent_at, created_at=FEB_02))
    session.commit()
    rows = {r["user_id"]: r for r in api.get(f"/api/v1/teams/{weekly['team']['id']}/reports/load",
                                             query_string=TWO_WEEKS).json["people"]}
    assert (rows[ann]["pages"], rows[ann]["night_pages"]) == (2, 1)
    assert (rows[ben]["pages"], rows[ben]["night_pages"]) == (1, 1), "03:00 in Kolkata; an unsent page is none"


def test_csv_has_the_same_rows(api, weekly):
    response = api.get(f"/api/v1/teams/{weekly['team']['id']}/reports/load", query_string=TWO_WEEKS | {"format": "csv"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["name"], float(r["oncall_hours"]), float(r["night_hours"])) for r in rows] == [
        ("Ann", 168.0, 63.0), ("Ben", 168.0, 63.0)]


def test_response_per_severity(api, session, make_team):
    team = make_team()
    opened = []
    for severity, ack_after in (("SEV1", 120), ("SEV1", 600), ("SEV2", 300), ("SEV2", None)):
        body = api.post("/api/v1/incidents", json={"team_id": team["id"], "severity": severity, "title": "x"}).json
        opened.append((body["id"], ack_after))
    for incident_id, ack_after in opened:
        incident = session.get(Incident, incident_id)
        if ack_after is not None:
            incident.acknowledged_at = incident.created_at + timedelta(seconds=ack_after)
    session.commit()
    rows = {r["severity"]: r for r in api.get(f"/api/v1/teams/{team['id']}/reports/response").json["severities"]}
    assert (rows["SEV1"]["incidents"], rows["SEV1"]["acknowledged_within_target"]) == (2, 1)
    assert rows["SEV1"]["median_seconds_to_acknowledge"] == 360 and rows["SEV1"]["target_seconds"] == 300
    assert (rows["SEV2"]["incidents"], rows["SEV2"]["acknowledged_within_target"]) == (2, 1)
    assert rows["SEV4"]["incidents"] == 0 and rows["SEV4"]["target_seconds"] == 3600


def test_reports_are_for_the_teams_members(client, make_token, weekly):
    outsider = ApiClient(client, make_token("outsider@example.com", admin=False))
    for path in ("load", "response"):
        assert outsider.get(f"/api/v1/teams/{weekly['team']['id']}/reports/{path}").status_code == 403


@pytest.mark.parametrize(("query", "field"), [
    ({"start": "2026-02-10T00:00:00Z", "end": "2026-02-09T00:00:00Z"}, "end"),
    ({"start": "2025-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "end"),
    ({"format": "xml"}, "format"),
    ({"start": "yesterday"}, "start"),
])
def test_a_bad_query_is_a_422_naming_the_field(api, weekly, query, field):
    response = api.get(f"/api/v1/teams/{weekly['team']['id']}/reports/load", query_string=query)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json


def test_an_unknown_team_is_a_404(api):
    assert api.get("/api/v1/teams/999999/reports/load").status_code == 404
