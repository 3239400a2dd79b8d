"""Incident list and page, with the acknowledge and resolve buttons."""
from sqlalchemy import select

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



def test_list_sorted_by_status_severity_age_with_search_and_pages(scenario, browser, session, clock):
    from datetime import timedelta

    from tests.conftest import TEST_NOW

    def at(minutes_ago, severity, title, ack=False):
        incident, _ = incidents.create_incident(session, team_id=scenario.team_id, severity=severity, title=title,
                                                now=TEST_NOW - timedelta(minutes=minutes_ago))
        if ack:
            incidents.acknowledge(session, incident, user_id=scenario.bob.id, via="web", now=TEST_NOW)
        session.commit()

    at(5, "SEV3", "Slow search")
    at(50, "SEV1", "Acked outage", ack=True)
    at(10, "SEV1", "Checkout down")
    at(90, "SEV3", "Older slow search")
    b = browser(scenario.bob)
    html = b.get("/incidents").get_data(as_text=True)
    order = [html.index(t) for t in ("Checkout down", "Older slow search", "Slow search", "Acked outage")]
    assert order == sorted(order)
    found = b.get("/incidents?q=SLOW&severity=SEV3").get_data(as_text=True)
    assert "Slow search" in found and "Checkout down" not in found
    assert "Checkout down" not in b.get("/incidents?severity=SEV3").get_data(as_text=True)
    assert "No open incidents with “100%_” in the title." in b.get("/incidents?q=100%25_").get_data(as_text=True)
    for i in range(50):
        at(200 + i, "SEV4", f"Noise {i}")
    first = b.get("/incidents").get_data(as_text=True)
    # Unacknowledged first, oldest first within a severity: the newest noise and the acknowledged one go over.
    assert "Next page" in first and "Noise 49" in first and 'Noise 0<' not in first and "Acked outage" not in first
    second = b.get("/incidents?page=2").get_data(as_text=True)
    assert "Noise 0<" in second and "Acked outage" in second and "Newer page" in second and "Next page" not in second
    assert b.get("/incidents?page=-5&severity=SEV9").status_code == 200


def test_declare_an_incident(scenario, browser, session):
    b = browser(scenario.outsider)  # anyone may ask a team for help
    form = b.get(f"/incidents/new?team_id={scenario.team_id}").get_data(as_text=True)
    assert f'<option value="{scenario.team_id}" selected>' in form
    response = b.post("/incidents/new", {"team_id": str(scenario.team_id), "severity": "SEV1",
                                          "title": "  Checkout down  ", "description": "500s everywhere",
                                          "runbook": "https://wiki.example.com/checkout", "dashboard": "",
                                          "chat": "#pay"})
    assert response.status_code == 303
    incident = session.scalar(select(Incident).where(Incident.title == "Checkout down"))
    assert incident.severity == "SEV1" and incident.source == "web" and incident.created_by_id == scenario.outsider.id
    assert incident.runbook_url == "https://wiki.example.com/checkout" and incident.chat_channel == "#pay"
    assert response.headers["Location"].endswith(f"/incidents/{incident.id}")
    assert b.post("/incidents/new", {"team_id": str(scenario.team_id), "severity": "SEV1", "title": "x"},
                  csrf=False).status_code == 400
