"""Handoff drafts list late postmortems and overdue action items under Watch Items, with a link, until done."""
from datetime import date, timedelta

from oncall.postmortems import service as postmortems
from oncall.postmortems.models import PUBLISHED, ActionItem

PUBLIC_URL = "https://oncall.example.com"


def draft(scenario, api_as) -> dict:
    response = api_as(scenario.bob).get(f"/api/v1/rotations/{scenario.rotation_id}/handoffs/draft")
    assert response.status_code == 200, response.json
    return response.json


def test_late_postmortems_and_overdue_items_are_watch_items_until_done(scenario, api_as, make_incident, session):
    now = scenario.now  # Wednesday 4 March 2026, 15:00 UTC; the team works Monday to Friday
    late = make_incident(scenario.team_id, severity="SEV1", status="resolved", title="Checkout down",
                         created_at=now - timedelta(days=8, hours=1), resolved_at=now - timedelta(days=8))
    make_incident(scenario.team_id, severity="SEV2", status="resolved", title="Recent",  # 2 business days ago
                  created_at=now - timedelta(days=2, hours=1), resolved_at=now - timedelta(days=2))
    make_incident(scenario.team_id, severity="SEV3", status="resolved", title="Minor",  # no postmortem needed
                  created_at=now - timedelta(days=30), resolved_at=now - timedelta(days=29))
    written = make_incident(scenario.team_id, severity="SEV2", status="resolved", title="Written up",
                            created_at=now - timedelta(days=20), resolved_at=now - timedelta(days=20))
    pm = postmortems.start_draft(session, written, now=now)
    pm.state = PUBLISHED
    overdue = ActionItem(postmortem=pm, position=0, text="Add a canary", owner_id=scenario.carol.id,
                         due_on=date(2026, 3, 3), created_at=now)
    session.add_all([overdue,
                     ActionItem(postmortem=pm, position=1, text="Due today", due_on=date(2026, 3, 4), created_at=now),
                     ActionItem(postmortem=pm, position=2, text="Done late", due_on=date(2026, 3, 1), created_at=now,
                                done_at=now, done_by_id=scenario.carol.id)])
    session.commit()

    body = draft(scenario, api_as)
    follow_ups = body["sections"]["follow_ups"]
    assert [(f["kind"], f["incident_id"]) for f in follow_ups] == [("postmortem", late.id), ("action_item", written.id)]
    assert follow_ups[0]["text"] == "Postmortem due: SEV1 Checkout down (resolved 2026-02-24)"
    assert follow_ups[0]["url"] == f"{PUBLIC_URL}/incidents/{late.id}/postmortem"
    assert follow_ups[1]["text"] == "Action item overdue: Add a canary (Carol Member)"
    watch = body["markdown"].split("## Watch Items\n")[1].split("## Notes")[0].splitlines()
    assert watch == [
        f"- [Postmortem due: SEV1 Checkout down (resolved 2026-02-24)]({PUBLIC_URL}/incidents/{late.id}/postmortem)",
        f"- [Action item overdue: Add a canary (Carol Member)]({PUBLIC_URL}/incidents/{written.id}/postmortem)"
        " (due 2026-03-03)",
    ]

    # Done: the postmortem is published, the item closed; the draft no longer lists them.
    late_pm = postmortems.start_draft(session, late, now=now)
    late_pm.state = PUBLISHED
    overdue.done_at, overdue.done_by_id = now, scenario.carol.id
    session.commit()
    assert draft(scenario, api_as)["sections"]["follow_ups"] == []


def test_a_draft_postmortem_is_not_written_yet(scenario, api_as, make_incident, session):
    now = scenario.now
    incident = make_incident(scenario.team_id, severity="SEV2", status="resolved", title="Half written",
                             created_at=now - timedelta(days=10), resolved_at=now - timedelta(days=10))
    postmortems.start_draft(session, incident, now=now)
    session.commit()
    assert [f["incident_id"] for f in draft(scenario, api_as)["sections"]["follow_ups"]] == [incident.id]


def test_the_handoff_form_links_them(scenario, make_incident, browser):
    now = scenario.now
    incident = make_incident(scenario.team_id, severity="SEV1", status="resolved", title="Checkout down",
                             created_at=now - timedelta(days=9), resolved_at=now - timedelta(days=9))
    page = browser(scenario.bob).get(f"/rotations/{scenario.rotation_id}/handoff")
    assert page.status_code == 200
    assert f'href="/incidents/{incident.id}/postmortem">Postmortem due: SEV1 Checkout down' in page.get_data(as_text=True)
