"""Everything about a team is invisible to people outside it (issue 9): every page that shows a team's rotation,
calendar, shifts, incidents, postmortems, handoffs or watch items answers an outsider 404 (as if it did not
exist) and its members and site admins 200; the incident list shows an outsider none of the team's incidents."""
from datetime import timedelta

import pytest

from oncall.handoffs import service as handoffs
from oncall.incidents import service as incidents


@pytest.fixture()
def pages(scenario, session):
    incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="Secret outage",
                                            now=scenario.now)
    incidents.resolve(session, incident, user_id=scenario.bob.id, via="web", now=scenario.now)  # its postmortem
    session.commit()
    start = scenario.now + timedelta(hours=4)
    shift = f"start={start.isoformat().replace('+00:00', 'Z')}&end={(start + timedelta(hours=2)).isoformat().replace('+00:00', 'Z')}"
    return [f"/teams/{scenario.team_id}", f"/teams/{scenario.team_id}/calendar",
            f"/teams/{scenario.team_id}/watch-items", f"/teams/{scenario.team_id}/reports",
            f"/teams/{scenario.team_id}/escalation", f"/rotations/{scenario.rotation_id}",
            f"/rotations/{scenario.rotation_id}/handoffs", f"/rotations/{scenario.rotation_id}/shift?{shift}",
            f"/incidents/{incident.id}", f"/incidents/{incident.id}/postmortem",
            f"/incidents/{incident.id}/postmortem.md"]


def test_an_outsider_sees_none_of_a_teams_pages(browser, scenario, pages, make_person):
    outsider, member = browser(scenario.outsider), browser(scenario.bob)
    admin = browser(make_person("Sam Site", admin=True))
    for path in pages:
        assert outsider.get(path).status_code == 404, path
        assert member.get(path).status_code == 200, path
        assert admin.get(path).status_code == 200, path


def test_the_incident_list_shows_an_outsider_nothing_of_the_team(browser, scenario, pages):
    listed = browser(scenario.outsider).get("/incidents?status=all").get_data(as_text=True)
    assert "Secret outage" not in listed and ">Web<" not in listed
    asked = browser(scenario.outsider).get(f"/incidents?status=all&team_id={scenario.team_id}").get_data(as_text=True)
    assert "Secret outage" not in asked
    assert "Secret outage" in browser(scenario.bob).get("/incidents?status=all").get_data(as_text=True)


def test_a_submitted_handoff_is_for_the_team_only(browser, scenario, session):
    handoff = handoffs.save_handoff(session, rotation_id=scenario.rotation_id, user=scenario.alice, now=scenario.now,
                                    public_url="http://localhost", notes="All quiet.")
    session.commit()
    assert browser(scenario.outsider).get(f"/handoffs/{handoff.id}").status_code == 404
    assert browser(scenario.bob).get(f"/handoffs/{handoff.id}").status_code == 200
