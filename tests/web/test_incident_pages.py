"""Incident list and page, with the acknowledge and resolve buttons."""
from oncall.clock import utcnow
from oncall.incidents import service as incidents
from oncall.incidents.models import Incident


def _open(session, scenario, **kw):
    incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity=kw.pop("severity", "SEV2"),
                                            title=kw.pop("title", "Checkout errors at 5%"), now=utcnow(), **kw)
    session.commit()
    return incident


def test_list_and_filters(scenario, browser, session):
    first = _open(session, scenario, title="Checkout errors at 5%")
    second = _open(session, scenario, title="Search is slow", severity="SEV3")
    incidents.resolve(session, second, user_id=scenario.bob.id, via="web", now=utcnow())
    session.commit()
    b = browser(scenario.bob)
    html = b.get("/incidents").get_data(as_text=True)
    assert "Checkout errors at 5%" in html and "Search is slow" not in html  # open ones by default
    resolved = b.get("/incidents?status=resolved").get_data(as_text=True)
    assert "Search is slow" in resolved and "Checkout errors at 5%" not in resolved
    everything = b.get(f"/incidents?status=all&team_id={scenario.team_id}").get_data(as_text=True)
    assert "Search is slow" in everything and "Checkout errors at 5%" in everything
    assert "No open incidents." in b.get("/incidents?team_id=999999").get_data(as_text=True)
    # nonsense filters fall back to the defaults rather than failing
    assert b.get("/incidents?status=bogus&team_id=99999999999999999").status_code == 200
    assert f'href="/incidents/{first.id}"' in html


def test_page_shows_the_timeline_and_acts(scenario, browser, session):
    incident = _open(session, scenario)
    b = browser(scenario.carol)
    html = b.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "SEV2 opened for Web: Checkout errors at 5%" in html  # the "created" event's message
    assert "Acknowledge</button>" in html and "Resolve</button>" in html
    assert b.post(f"/incidents/{incident.id}/acknowledge", csrf=False).status_code == 400
    assert b.post(f"/incidents/{incident.id}/acknowledge").status_code == 303
    session.expire_all()
    row = session.get(Incident, incident.id)
    assert row.status == "acknowledged" and row.acknowledged_by_id == scenario.carol.id
    assert row.acknowledged_via == "web"
    page = b.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Acknowledge</button>" not in page and "Acknowledged by Carol Member (via web)" in page
    assert b.post(f"/incidents/{incident.id}/resolve").status_code == 303
    session.expire_all()
    assert session.get(Incident, incident.id).status == "resolved"
    again = b.post(f"/incidents/{incident.id}/acknowledge")
    assert again.status_code == 409 and again.mimetype == "text/html"


def test_only_team_members_act(scenario, browser, session):
    incident = _open(session, scenario)
    b = browser(scenario.outsider)
    html = b.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "Acknowledge</button>" not in html
    assert b.post(f"/incidents/{incident.id}/acknowledge").status_code == 403
    assert b.post(f"/incidents/{incident.id}/resolve").status_code == 403
    session.expire_all()
    assert session.get(Incident, incident.id).status == "triggered"
    assert browser(scenario.bob).get("/incidents/999999").status_code == 404

