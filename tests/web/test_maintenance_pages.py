"""The maintenance windows page (team admins create and end windows, members see them), and suppressed incidents
on the incident list, filterable."""
from datetime import timedelta

from sqlalchemy import func, select

from oncall.incidents import service as incidents
from oncall.maintenance.models import MaintenanceWindow
from oncall.web.timefmt import local_input


def count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(MaintenanceWindow))


def test_a_team_admin_adds_and_ends_a_window_in_their_zone(scenario, browser, session):
    b = browser(scenario.alice)
    start, end = scenario.now + timedelta(hours=1), scenario.now + timedelta(hours=3)
    response = b.post(f"/teams/{scenario.team_id}/maintenance", {
        "start": local_input(start, "UTC"), "end": local_input(end, "UTC"), "reason": "Database upgrade"})
    assert response.status_code == 303
    page = b.get(f"/teams/{scenario.team_id}/maintenance").get_data(as_text=True)
    assert "Database upgrade" in page and 'id="window-form"' in page
    window = session.scalar(select(MaintenanceWindow))
    assert (window.start_at, window.end_at) == (start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0))
    assert b.post(f"/teams/{scenario.team_id}/maintenance/{window.id}/end").status_code == 303
    assert count(session) == 0


def test_members_see_windows_but_only_team_admins_change_them(scenario, browser, session, client, make_token):
    member = browser(scenario.bob)
    page = member.get(f"/teams/{scenario.team_id}/maintenance")
    assert page.status_code == 200 and 'id="window-form"' not in page.get_data(as_text=True)
    start = scenario.now + timedelta(hours=1)
    body = {"start": local_input(start, "UTC"), "end": local_input(start + timedelta(hours=1), "UTC")}
    assert member.post(f"/teams/{scenario.team_id}/maintenance", body).status_code == 403
    assert browser(scenario.outsider).get(f"/teams/{scenario.team_id}/maintenance").status_code == 404
    from tests.conftest import ApiClient

    api = ApiClient(client, make_token(scenario.bob.email, admin=False))
    iso = {k: v + ":00Z" for k, v in body.items()}
    assert api.post(f"/api/v1/teams/{scenario.team_id}/maintenance-windows", json=iso).status_code == 403
    assert count(session) == 0


def test_the_form_refuses_what_the_api_refuses_keeping_what_was_typed(scenario, browser, session):
    b = browser(scenario.alice)
    start = scenario.now + timedelta(hours=2)
    for body, field in [({"start": local_input(start, "UTC"), "end": local_input(start - timedelta(hours=1), "UTC")}, "end"),
                        ({"start": "soon", "end": local_input(start, "UTC")}, "start"),
                        ({"start": local_input(start - timedelta(days=3), "UTC"),
                          "end": local_input(start - timedelta(days=2), "UTC")}, "end"),
                        ({"start": local_input(start, "UTC"), "end": local_input(start + timedelta(hours=1), "UTC"),
                          "reason": "a\x07b"}, "reason")]:
        response = b.post(f"/teams/{scenario.team_id}/maintenance", body)
        html = response.get_data(as_text=True)
        assert 400 <= response.status_code < 500 and 'class="error">' in html, (field, html[:300])
        assert f'value="{body["start"]}"' in html
    assert count(session) == 0


def test_suppressed_incidents_are_marked_and_filterable(scenario, browser, session):
    from oncall.maintenance import service as maintenance

    maintenance.create_window(session, team_id=scenario.team_id, start_at=scenario.now - timedelta(minutes=5),
                              end_at=scenario.now + timedelta(hours=1), reason="Upgrade", created_by_id=None,
                              now=scenario.now)
    incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="Held by maintenance",
                              now=scenario.now, via="alertmanager", dedup_key="fp-1")
    incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="Declared by a person",
                              now=scenario.now)
    session.commit()
    b = browser(scenario.bob)
    everything = b.get("/incidents").get_data(as_text=True)
    assert "Held by maintenance" in everything and "Declared by a person" in everything
    assert "suppressed, paging nobody" in everything
    only = b.get("/incidents?suppressed=1").get_data(as_text=True)
    assert "Held by maintenance" in only and "Declared by a person" not in only
    assert 'name="suppressed" value="1" checked' in only
