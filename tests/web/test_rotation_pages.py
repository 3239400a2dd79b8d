"""A new rotation from the team page (participants ordered by position numbers, no JavaScript needed), and the
rotation settings' preview of the coming shifts before a change is saved."""
from sqlalchemy import select

from oncall.people import service as people
from oncall.schedules.models import Rotation


def _form(s, **extra) -> dict:
    return {"name": "Secondary", "time_zone": "UTC", "handoff_time": "10:00", "shift_count": "1",
            "shift_unit": "weeks", "start_date": "2030-01-07"} | extra


def test_team_admin_creates_a_rotation_in_the_typed_order(scenario, browser, session):
    b = browser(scenario.alice)
    page = b.get(f"/teams/{scenario.team_id}/rotations/new").get_data(as_text=True)
    assert f'name="position_{scenario.carol.id}"' in page
    created = b.post(f"/teams/{scenario.team_id}/rotations/new", _form(scenario, **{
        f"position_{scenario.carol.id}": "1", f"position_{scenario.alice.id}": "3", f"position_{scenario.bob.id}": "2"}))
    assert created.status_code == 303
    rotation = session.scalar(select(Rotation).where(Rotation.name == "Secondary"))
    assert rotation.current.participant_ids == [scenario.carol.id, scenario.bob.id, scenario.alice.id]
    assert rotation.current.shift_length == {"unit": "weeks", "count": 1}
    assert created.headers["Location"].endswith(f"/rotations/{rotation.id}")


def test_positions_must_be_distinct_numbers(scenario, browser, session):
    b = browser(scenario.alice)
    for positions, message in (({scenario.bob.id: "1", scenario.carol.id: "1"}, "their own position"),
                               ({scenario.bob.id: "first"}, "whole numbers"),
                               ({scenario.bob.id: "0"}, "whole numbers")):
        refused = b.post(f"/teams/{scenario.team_id}/rotations/new",
                         _form(scenario, **{f"position_{uid}": p for uid, p in positions.items()}))
        html = refused.get_data(as_text=True)
        assert refused.status_code == 422 and message in html and 'value="Secondary"' in html
    assert session.scalar(select(Rotation).where(Rotation.name == "Secondary")) is None


def test_members_and_other_teams_admins_cannot_create_rotations(scenario, browser, make_person, session, client):
    other_admin = make_person("Other Admin")
    other = people.create_team(session, name="Other", slug="other-rot", time_zone="UTC")
    people.set_members(session, other, user_ids=[other_admin.id], admin_ids=[other_admin.id])
    session.commit()
    form = _form(scenario, **{f"position_{scenario.bob.id}": "1"})
    assert browser(scenario.bob).get(f"/teams/{scenario.team_id}/rotations/new").status_code == 403
    assert browser(scenario.bob).post(f"/teams/{scenario.team_id}/rotations/new", form).status_code == 403
    assert browser(other_admin).post(f"/teams/{scenario.team_id}/rotations/new", form).status_code == 404
    assert session.scalar(select(Rotation).where(Rotation.name == "Secondary")) is None
    # and the API refuses them alike
    from oncall.people.tokens import create_api_token
    from tests.conftest import ApiClient

    api = ApiClient(client, create_api_token(session, user=other_admin))
    session.commit()
    body = {"team_id": scenario.team_id, "name": "Secondary", "time_zone": "UTC", "handoff_time": "10:00",
            "shift_length": {"unit": "weeks", "count": 1}, "start_date": "2030-01-07",
            "participant_ids": [scenario.bob.id]}
    assert api.post("/api/v1/rotations", json=body).status_code == 403


def test_preview_shows_the_coming_shifts_and_saves_nothing(scenario, browser, session):
    b = browser(scenario.alice)
    rotation = session.get(Rotation, scenario.rotation_id)
    revision = rotation.revision
    participants = [scenario.carol, scenario.bob]  # alice leaves the rotation
    preview = b.post(f"/rotations/{scenario.rotation_id}/settings", {
        "name": "Web primary", "handoff_time": rotation.current.handoff_time.strftime("%H:%M"),
        "participants": "\n".join(u.email for u in participants), "effective_at": "", "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="preview"' in html
    with_change = html[html.index("<strong>With the change</strong>"):html.index("Nothing is saved")]
    now_part = html[html.index("<strong>Now</strong>"):html.index("<strong>With the change</strong>")]
    assert scenario.alice.name not in with_change and scenario.alice.name in now_part
    assert scenario.carol.name in with_change
    session.expire_all()
    rotation = session.get(Rotation, scenario.rotation_id)
    assert rotation.revision == revision
    assert rotation.current.participant_ids == [scenario.alice.id, scenario.bob.id, scenario.carol.id]


def test_settings_change_shift_length_and_zone(scenario, browser, session):
    b = browser(scenario.alice)
    rotation = session.get(Rotation, scenario.rotation_id)
    saved = b.post(f"/rotations/{scenario.rotation_id}/settings", {
        "name": "Web primary", "handoff_time": rotation.current.handoff_time.strftime("%H:%M"),
        "participants": "\n".join(u.email for u in (scenario.alice, scenario.bob, scenario.carol)),
        "time_zone": "Europe/Berlin", "shift_count": "2", "shift_unit": "days", "effective_at": "", "action": "save"})
    assert saved.status_code == 303
    session.expire_all()
    current = session.get(Rotation, scenario.rotation_id).current
    assert (current.time_zone, current.shift_length) == ("Europe/Berlin", {"unit": "days", "count": 2})


def test_archiving_stops_paging_and_leaves_the_lists(scenario, browser, session, client):
    from oncall.escalation import service as escalation
    from oncall.incidents import service as incidents
    from oncall.paging.models import Notification
    from oncall.people.tokens import create_api_token
    from tests.conftest import ApiClient

    escalation.set_policy(session, team_id=scenario.team_id, severity="SEV2", user_id=scenario.alice.id,
                          now=scenario.now, data={"repeat": 0, "steps": [
                              {"delay_minutes": 0, "targets": [{"type": "rotation", "id": scenario.rotation_id}],
                               "channels": ["sms"]}]})
    session.commit()
    assert browser(scenario.bob).post(f"/rotations/{scenario.rotation_id}/archive").status_code == 403
    archived = browser(scenario.alice).post(f"/rotations/{scenario.rotation_id}/archive")
    assert archived.status_code == 303
    session.expire_all()
    assert session.get(Rotation, scenario.rotation_id).archived_at is not None
    team_page = browser(scenario.alice).get(f"/teams/{scenario.team_id}").get_data(as_text=True)
    assert "Web primary" not in team_page.split('id="rotations"')[1].split("</section>")[0]
    assert "Web primary" not in browser(scenario.bob).get("/").get_data(as_text=True)
    # an incident whose policy names it pages nobody, and the policy cannot name it again
    incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="Down",
                                            now=scenario.now)
    session.commit()
    assert session.scalars(select(Notification).where(Notification.incident_id == incident.id)).all() == []
    api = ApiClient(client, create_api_token(session, user=scenario.alice))
    session.commit()
    body = {"repeat": 0, "steps": [{"delay_minutes": 0, "targets": [{"type": "rotation", "id": scenario.rotation_id}],
                                    "channels": ["sms"]}]}
    refused = api.put(f"/api/v1/teams/{scenario.team_id}/escalation-policies/SEV1", json=body)
    assert refused.status_code == 422 and "archived" in str(refused.json["error"]["fields"])
    # the API archives alike (a second time changes nothing) and shows when
    again = api.post(f"/api/v1/rotations/{scenario.rotation_id}/archive")
    assert again.status_code == 200 and again.json["archived_at"] is not None
    assert ApiClient(client, create_api_token(session, user=scenario.bob)).post(
        f"/api/v1/rotations/{scenario.rotation_id}/archive").status_code == 403
