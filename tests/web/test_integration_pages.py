"""The integrations page: connect Alertmanager (token once, a receiver block to paste), list, revoke, and a test
alert that opens and resolves an incident through the webhook's own schema and service."""
import re

import yaml
from sqlalchemy import select

from oncall.incidents.models import Incident, Integration
from oncall.people import service as people


def _connect(b, team_id, name="prod"):
    created = b.post(f"/teams/{team_id}/integrations", {"type": "alertmanager", "name": name})
    assert created.status_code == 201
    html = created.get_data(as_text=True)
    token = re.search(r'id="integration-token">([^<]+)<', html).group(1)
    block = re.search(r'id="receiver-block">([^<]+)</pre>', html, re.S).group(1)
    return token, block.replace("&#34;", '"').replace("&#39;", "'")


def test_connect_shows_the_token_once_and_a_receiver_block_that_works(scenario, browser, client, session):
    b = browser(scenario.alice)
    token, block = _connect(b, scenario.team_id)
    config = yaml.safe_load(block)
    [receiver] = config["receivers"]
    [hook] = receiver["webhook_configs"]
    assert hook["url"] == "https://oncall.example.com/api/v1/integrations/alertmanager"
    assert hook["http_config"]["authorization"] == {"type": "Bearer", "credentials": token}
    assert hook["send_resolved"] is True
    # the listing never shows the token again
    assert token not in b.get(f"/teams/{scenario.team_id}/integrations").get_data(as_text=True)
    # and an alert posted as Alertmanager would, with that token, opens an incident for the team
    payload = {"version": "4", "status": "firing", "alerts": [{
        "status": "firing", "labels": {"alertname": "HighErrorRate", "severity": "critical"},
        "annotations": {"summary": "Checkout errors"}, "startsAt": "2030-01-01T00:00:00Z", "fingerprint": "abc123"}]}
    posted = client.post("/api/v1/integrations/alertmanager", json=payload,
                         headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 200, posted.json
    incident = session.scalar(select(Incident).where(Incident.dedup_key == "abc123"))
    assert (incident.team_id, incident.severity, incident.title) == (scenario.team_id, "SEV1", "Checkout errors")


def test_test_alert_opens_and_resolves_an_incident(scenario, browser, session):
    b = browser(scenario.alice)
    _connect(b, scenario.team_id, name="staging")
    integration = session.scalar(select(Integration).where(Integration.name == "staging"))
    sent = b.post(f"/teams/{scenario.team_id}/integrations/{integration.id}/test")
    assert sent.status_code == 303
    incident = session.scalar(select(Incident).where(Incident.integration_id == integration.id))
    assert incident.status == "resolved" and incident.title == "Test alert through staging"
    assert sent.headers["Location"].endswith(f"/incidents/{incident.id}")
    session.expire_all()
    assert session.get(Integration, integration.id).last_used_at is not None


def test_revoke_stops_the_token(scenario, browser, client, session):
    b = browser(scenario.alice)
    token, _ = _connect(b, scenario.team_id)
    integration = session.scalar(select(Integration))
    assert b.post(f"/teams/{scenario.team_id}/integrations/{integration.id}/revoke").status_code == 303
    payload = {"version": "4", "status": "firing", "alerts": [{
        "status": "firing", "labels": {}, "startsAt": "2030-01-01T00:00:00Z", "fingerprint": "x"}]}
    assert client.post("/api/v1/integrations/alertmanager", json=payload,
                       headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_members_see_the_list_only_and_others_nothing(scenario, browser, make_person, session):
    _connect(browser(scenario.alice), scenario.team_id)
    integration = session.scalar(select(Integration))
    member = browser(scenario.bob)
    html = member.get(f"/teams/{scenario.team_id}/integrations").get_data(as_text=True)
    assert "prod" in html and 'id="integration-form"' not in html and "send a test alert" not in html
    assert member.post(f"/teams/{scenario.team_id}/integrations", {"type": "alertmanager"}).status_code == 403
    assert member.post(f"/teams/{scenario.team_id}/integrations/{integration.id}/test").status_code == 403
    assert member.post(f"/teams/{scenario.team_id}/integrations/{integration.id}/revoke").status_code == 403
    other_admin = make_person("Other Admin")
    other = people.create_team(session, name="Other", slug="other-int", time_zone="UTC")
    people.set_members(session, other, user_ids=[other_admin.id], admin_ids=[other_admin.id])
    session.commit()
    outsider = browser(other_admin)
    assert outsider.get(f"/teams/{scenario.team_id}/integrations").status_code == 404
    assert outsider.post(f"/teams/{scenario.team_id}/integrations/{integration.id}/revoke").status_code == 404
    # an integration of another team is not found under this one
    assert browser(other_admin).post(f"/teams/{other.id}/integrations/{integration.id}/test").status_code == 404
    assert session.scalar(select(Integration)) is not None
    assert session.scalar(select(Incident)) is None
