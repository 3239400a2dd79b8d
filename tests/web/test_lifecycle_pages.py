"""The incident lifecycle in the web: roles and status updates on the incident page, the postmortem form, and the
owner's action items on the dashboard."""
import re
from datetime import date, timedelta

import pytest

from oncall.incidents import service as incidents
from oncall.postmortems.models import ActionItem, Postmortem


@pytest.fixture()
def incident(scenario, session):
    incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV1", title="Checkout down",
                                            now=scenario.now)
    session.commit()
    return incident


def resolve(session, incident, scenario, after=timedelta(minutes=40)):
    incidents.resolve(session, incident, user_id=scenario.bob.id, via="web", now=scenario.now + after)
    session.commit()


def test_roles_and_status_updates_on_the_incident_page(scenario, incident, browser):
    bob = browser(scenario.bob)
    page = bob.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert 'id="update-due"' in page and "Next update due" in page and "every 15 minutes for SEV1" in page
    response = bob.post(f"/incidents/{incident.id}/roles", {"commander": str(scenario.carol.id), "tech_lead": "",
                                                            "comms_lead": str(scenario.bob.id)})
    assert response.status_code == 303
    for status, message in [("investigating", "Errors at 5%"), ("identified", "A bad deploy")]:
        assert bob.post(f"/incidents/{incident.id}/updates", {"status": status, "message": message}).status_code == 303
    page = bob.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Commander: Carol Member" in page and "Communications lead: Bob Member" in page
    updates = re.findall(r'<span class="state state-update-(\w+)">', page)
    assert updates == ["identified", "investigating"]  # newest first, each status a badge
    assert "Status update (Identified): A bad deploy" in page  # and on the timeline


def test_refused_update_and_roles_name_the_field_and_change_nothing(scenario, incident, browser, make_person):
    bob = browser(scenario.bob)
    response = bob.post(f"/incidents/{incident.id}/updates", {"status": "fixed", "message": "x"})
    assert response.status_code == 422 and "Must be one of" in response.get_data(as_text=True)
    stranger = make_person("Sam Stranger")
    response = bob.post(f"/incidents/{incident.id}/roles", {"commander": str(stranger.id)})
    assert response.status_code == 422 and "Choose a member of the incident" in response.get_data(as_text=True)
    page = bob.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "No status updates yet." in page and "Commander: <span class=\"muted\">nobody</span>" in page
    outsider = browser(scenario.outsider)
    assert outsider.post(f"/incidents/{incident.id}/updates", {"status": "identified", "message": "x"}).status_code == 403


def test_the_postmortem_form(scenario, incident, browser, session):
    resolve(session, incident, scenario)
    bob = browser(scenario.bob)
    page = bob.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert f'href="/incidents/{incident.id}/postmortem">Write the postmortem' in page
    form = bob.get(f"/incidents/{incident.id}/postmortem").get_data(as_text=True)
    assert "Postmortem: Checkout down" in form and "duration 40m" in form
    assert re.search(r'<textarea name="timeline"[^>]*>- \d\d:\d\d UTC - SEV1 opened', form)
    data = {"title": "Checkout down", "summary": "500s for 40 minutes", "impact": "Checkout", "root_cause": "Deploy",
            "timeline": "- 15:00 UTC - opened", "went_well": "", "went_poorly": "", "lessons": "",
            "item_id": ["", "", ""], "item_text": ["Add a canary", "", "Fix alerts"],
            "item_owner": [str(scenario.carol.id), "", ""], "item_due": ["2026-03-11", "", ""], "item_done": ["2"]}
    response = bob.post(f"/incidents/{incident.id}/postmortem", data | {"publish": "1"})
    assert response.status_code == 303, response.get_data(as_text=True)
    session.expire_all()
    pm = session.query(Postmortem).filter_by(incident_id=incident.id).one()
    assert (pm.state, pm.summary, pm.timeline) == ("published", "500s for 40 minutes", "- 15:00 UTC - opened")
    items = [(i.text, i.owner_id, i.due_on, i.done_by_id) for i in pm.action_items]
    assert items == [("Add a canary", scenario.carol.id, date(2026, 3, 11), None), ("Fix alerts", None, None, scenario.bob.id)]
    # A refused form keeps what was typed, names the problem and changes nothing.
    bad = data | {"item_id": [str(pm.action_items[0].id), "", ""], "item_owner": ["999999", "", ""],
                  "summary": "changed"}
    response = bob.post(f"/incidents/{incident.id}/postmortem", bad)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Choose a member of the incident" in text and "changed</textarea>" in text
    session.expire_all()
    assert session.query(Postmortem).filter_by(incident_id=incident.id).one().summary == "500s for 40 minutes"
    outsider = browser(scenario.outsider)
    assert outsider.post(f"/incidents/{incident.id}/postmortem", data).status_code == 403
    assert outsider.get(f"/incidents/{incident.id}/postmortem").status_code == 404, "outside the team: nothing"


def test_the_owner_sees_open_items_on_the_dashboard_and_closes_them(scenario, incident, browser, session, clock):
    resolve(session, incident, scenario)
    pm = session.query(Postmortem).filter_by(incident_id=incident.id).one()
    session.add_all([ActionItem(postmortem=pm, position=0, text="Add a canary", owner_id=scenario.carol.id,
                                due_on=date(2026, 3, 1), created_at=scenario.now),
                     ActionItem(postmortem=pm, position=1, text="Someone else's", owner_id=scenario.bob.id,
                                created_at=scenario.now)])
    session.commit()
    carol = browser(scenario.carol)
    page = carol.get("/").get_data(as_text=True)
    assert 'id="action-items"' in page and "Add a canary" in page and "overdue" in page
    assert "Someone else&#39;s" not in page and "Someone else's" not in page
    item = pm.action_items[0]
    response = carol.post(f"/action-items/{item.id}/done", {"next": "/"})
    assert response.status_code == 303
    session.expire_all()
    item = session.get(ActionItem, item.id)
    assert item.done_by_id == scenario.carol.id and item.done_at is not None
    assert 'id="action-items"' not in carol.get("/").get_data(as_text=True)
    assert browser(scenario.outsider).post(f"/action-items/{pm.action_items[1].id}/done", {}).status_code == 403


def test_take_command_keeps_the_other_roles(scenario, incident, browser):
    bob, carol = browser(scenario.bob), browser(scenario.carol)
    assert bob.post(f"/incidents/{incident.id}/roles", {"commander": str(scenario.bob.id), "tech_lead": "",
                                                        "comms_lead": str(scenario.alice.id)}).status_code == 303
    assert 'id="take-command"' not in bob.get(f"/incidents/{incident.id}").get_data(as_text=True), "already his"
    page = carol.get(f"/incidents/{incident.id}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)" id="take-command">(.*?)</form>', page, re.S)
    assert form, "a member who is not the commander can take command"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(2)))
    assert carol.post(form.group(1), {k: v for k, v in fields.items() if k != "csrf_token"}).status_code == 303
    page = carol.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Commander: Carol Member" in page and "Communications lead: Alice Admin" in page
    assert 'id="take-command"' not in browser(scenario.outsider).get(f"/incidents/{incident.id}").get_data(as_text=True)
