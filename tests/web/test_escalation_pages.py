"""Escalation policy pages: four severities side by side with whom each step pages now; team admins edit steps
(delay, targets, channels) and repeat; the incident page shows the policy it follows and who is paged next."""
from datetime import timedelta

from sqlalchemy import select

from oncall.escalation.models import EscalationPolicy
from oncall.incidents import service as incidents
from oncall.people import service as people


def test_the_policies_page_shows_four_severities_and_who_each_step_pages_now(scenario, browser, session):
    scenario.carol.phone = None
    session.commit()
    html = browser(scenario.bob).get(f"/teams/{scenario.team_id}/escalation").get_data(as_text=True)
    for severity in ("SEV1", "SEV2", "SEV3", "SEV4"):
        assert f'id="{severity.lower()}"' in html
    assert "on call for Web primary" in html and "Now: " in html
    assert "Edit SEV1" not in html  # a plain member sees no edit button
    admin = browser(scenario.alice).get(f"/teams/{scenario.team_id}/escalation").get_data(as_text=True)
    assert "Edit SEV1" in admin
    assert browser(scenario.outsider).get(f"/teams/{scenario.team_id}/escalation").status_code == 404


def test_team_admin_edits_steps_adds_one_and_removes_one(scenario, browser, session):
    b = browser(scenario.alice)
    form = b.get(f"/teams/{scenario.team_id}/escalation/SEV2").get_data(as_text=True)
    assert 'name="step-0-delay"' in form and "Add a step" in form
    saved = b.post(f"/teams/{scenario.team_id}/escalation/SEV2", {
        "step-0-delay": "0", "step-0-target": [f"rotation:{scenario.rotation_id}"], "step-0-channel": ["sms"],
        "step-1-delay": "5", "step-1-target": [f"user:{scenario.carol.id}", "team"], "step-1-channel": ["voice"],
        "step-1-remove": "1",
        "step-2-delay": "15", "step-2-target": [f"user:{scenario.bob.id}"], "step-2-channel": ["sms", "voice"],
        "repeat": "2"})
    assert saved.status_code == 303
    row = session.scalar(select(EscalationPolicy).where(EscalationPolicy.team_id == scenario.team_id,
                                                        EscalationPolicy.severity == "SEV2"))
    assert row.repeat == 2
    assert row.steps == [
        {"delay_minutes": 0, "targets": [{"type": "rotation", "id": scenario.rotation_id}], "channels": ["sms"]},
        {"delay_minutes": 15, "targets": [{"type": "user", "id": scenario.bob.id}], "channels": ["sms", "voice"]}]
    page = b.get(f"/teams/{scenario.team_id}/escalation").get_data(as_text=True)
    sev2 = page[page.index('id="sev2"'):page.index('id="sev3"')]
    assert "After 15 min" in sev2 and "Bob Member" in sev2 and "Repeats 2 more times" in sev2


def test_a_bad_policy_keeps_what_was_typed(scenario, browser, session):
    refused = browser(scenario.alice).post(f"/teams/{scenario.team_id}/escalation/SEV1", {
        "step-0-delay": "0", "step-0-target": [f"user:{scenario.outsider.id}"], "step-0-channel": ["sms"],
        "repeat": "0"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "is not a member of this team" in html
    assert 'name="step-0-delay" min="0" value="0"' in html  # the form comes back as typed
    step = html[html.index('id="step-0"'):html.index("</fieldset>", html.index('id="step-0"'))]
    assert "is not a member of this team" in step, "the message stands beside its step"
    assert session.scalar(select(EscalationPolicy)) is None


def test_a_bad_second_step_is_named_beside_it_whatever_steps_were_removed(scenario, browser):
    refused = browser(scenario.alice).post(f"/teams/{scenario.team_id}/escalation/SEV1", {
        "step-0-delay": "0", "step-0-target": ["team"], "step-0-channel": ["sms"], "step-0-remove": "1",
        "step-1-delay": "5", "step-1-target": ["team"], "step-1-channel": ["sms"],
        "step-2-delay": "-3", "step-2-target": ["team"], "step-2-channel": ["sms"], "repeat": "0"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    step = html[html.index('id="step-2"'):html.index("</fieldset>", html.index('id="step-2"'))]
    assert "delay minutes" in step, step


def test_members_and_other_teams_admins_cannot_edit(scenario, browser, make_person, session, client):
    other_admin = make_person("Other Admin")
    other = people.create_team(session, name="Other", slug="other-esc", time_zone="UTC")
    people.set_members(session, other, user_ids=[other_admin.id], admin_ids=[other_admin.id])
    session.commit()
    form = {"step-0-delay": "0", "step-0-target": ["team"], "step-0-channel": ["sms"], "repeat": "0"}
    assert browser(scenario.bob).get(f"/teams/{scenario.team_id}/escalation/SEV1").status_code == 403
    assert browser(scenario.bob).post(f"/teams/{scenario.team_id}/escalation/SEV1", form).status_code == 403
    assert browser(other_admin).post(f"/teams/{scenario.team_id}/escalation/SEV1", form).status_code == 404
    assert browser(scenario.alice).get(f"/teams/{scenario.team_id}/escalation/SEV9").status_code == 404
    assert session.scalar(select(EscalationPolicy)) is None
    from oncall.people.tokens import create_api_token
    from tests.conftest import ApiClient

    api = ApiClient(client, create_api_token(session, user=other_admin))
    session.commit()
    body = {"repeat": 0, "steps": [{"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["sms"]}]}
    assert api.put(f"/api/v1/teams/{scenario.team_id}/escalation-policies/SEV1", json=body).status_code == 403


def test_the_incident_page_shows_the_policy_and_who_is_paged_next(scenario, browser, session):
    from oncall.escalation import service as escalation

    escalation.set_policy(session, team_id=scenario.team_id, severity="SEV2", user_id=scenario.alice.id,
                          now=scenario.now, data={"repeat": 0, "steps": [
                              {"delay_minutes": 0, "targets": [{"type": "rotation", "id": scenario.rotation_id}],
                               "channels": ["sms"]},
                              {"delay_minutes": 30, "targets": [{"type": "user", "id": scenario.carol.id}],
                               "channels": ["voice"]}]})
    incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="Checkout down",
                                            now=scenario.now)
    incident.next_step, incident.next_step_at = 1, scenario.now + timedelta(minutes=30)
    session.commit()
    html = browser(scenario.bob).get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert 'id="next-page"' in html and "Next: step 2" in html and "Carol Member" in html
    assert "on call for Web primary" in html and "after 30 min" in html
