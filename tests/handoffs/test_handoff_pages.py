"""The handoff form, a submitted handoff and its acknowledge button, history, and the watch items page."""

from sqlalchemy import select

from oncall.handoffs.models import Handoff, WatchItem
from tests.handoffs.test_handoffs_api import expected_change, people_at


def _form(scenario, **extra):
    data = {"shift_change_at": expected_change(scenario).isoformat(), "notes": "", "action": "submit",
            "new_text": ["", "", ""], "new_due": ["", "", ""]}
    data.update(extra)
    return data


def test_form_is_prefilled(scenario, browser, make_incident, session):
    make_incident(scenario.team_id, severity="SEV2", title="Checkout errors at 5%")
    session.add(WatchItem(team_id=scenario.team_id, text="Deploy on Friday", added_by_id=scenario.alice.id))
    session.commit()
    page = browser(scenario.bob).get(f"/rotations/{scenario.rotation_id}/handoff")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    outgoing, incoming = people_at(scenario, expected_change(scenario))
    assert f"From <strong>{outgoing.name}</strong> to <strong>{incoming.name}</strong>" in html
    assert "Checkout errors at 5%" in html and "Deploy on Friday" in html
    assert f'name="shift_change_at" value="{expected_change(scenario).isoformat()}"' in html
    assert 'value="submit"' in html and 'value="save"' in html
    assert "# On-Call Handoff: " in html  # the Markdown preview


def test_outsiders_see_the_form_but_cannot_submit(scenario, browser, session):
    b = browser(scenario.outsider)
    assert "Only members of Web can write this handoff." in b.get(f"/rotations/{scenario.rotation_id}/handoff").get_data(as_text=True)
    assert b.post(f"/rotations/{scenario.rotation_id}/handoff", _form(scenario)).status_code == 403
    assert session.scalar(select(Handoff.id)) is None


def test_submit_through_the_form(scenario, browser, session):
    old = WatchItem(team_id=scenario.team_id, text="Old certificate", added_by_id=scenario.alice.id)
    session.add(old)
    session.commit()
    b = browser(scenario.bob)
    response = b.post(f"/rotations/{scenario.rotation_id}/handoff", _form(
        scenario, notes="Queue is slow at night", new_text=["Watch the new index", "", ""],
        new_due=["2030-01-05", "", ""], close=[str(old.id)]))
    assert response.status_code == 303
    handoff = session.scalar(select(Handoff).where(Handoff.rotation_id == scenario.rotation_id))
    assert response.headers["Location"] == f"/handoffs/{handoff.id}"
    assert handoff.state == "submitted" and handoff.notes == "Queue is slow at night"
    assert [w["text"] for w in handoff.sections["watch_items"]] == ["Watch the new index"]
    assert [w["text"] for w in handoff.sections["closed_watch_items"]] == ["Old certificate"]
    page = b.get(f"/handoffs/{handoff.id}").get_data(as_text=True)
    assert "Queue is slow at night" in page and "Watch the new index" in page and "Closed since last handoff" in page
    # submitting the same change again (a second tab) is a conflict, not a note filed under the next change
    again = b.post(f"/rotations/{scenario.rotation_id}/handoff", _form(scenario, notes="again"))
    assert again.status_code == 409 and "already has handoff" in again.get_data(as_text=True)


def test_save_draft_keeps_the_notes(scenario, browser, session):
    b = browser(scenario.bob)
    response = b.post(f"/rotations/{scenario.rotation_id}/handoff", _form(scenario, notes="half written", action="save"))
    assert response.status_code == 303 and response.headers["Location"] == f"/rotations/{scenario.rotation_id}/handoff"
    assert "half written</textarea>" in b.get(f"/rotations/{scenario.rotation_id}/handoff").get_data(as_text=True)
    assert session.scalar(select(Handoff.state)) == "draft"


def test_form_errors_keep_what_was_typed(scenario, browser, session):
    b = browser(scenario.bob)
    url = f"/rotations/{scenario.rotation_id}/handoff"
    no_text = b.post(url, _form(scenario, notes="keep me", new_due=["2030-01-01", "", ""]))
    assert no_text.status_code == 422
    html = no_text.get_data(as_text=True)
    assert "Must not be blank." in html and "keep me</textarea>" in html
    bad_date = b.post(url, _form(scenario, new_text=["x", "", ""], new_due=["someday", "", ""]))
    assert bad_date.status_code == 422 and "Not a valid date." in bad_date.get_data(as_text=True)
    bad_close = b.post(url, _form(scenario, close=["abc"]))
    assert bad_close.status_code == 422
    lost = b.post(url, _form(scenario, shift_change_at="yesterday"))
    assert lost.status_code == 422
    assert b.post(url, _form(scenario), csrf=False).status_code == 400
    assert session.scalar(select(Handoff.id)) is None
    assert session.scalar(select(WatchItem.id)) is None


def test_form_has_the_apis_limits(scenario, browser, session):
    """A hand-made POST cannot add hundreds of watch items or make the server look up thousands of ids:
    the form keeps the API's limits (20 new items, 200 to close)."""
    b = browser(scenario.bob)
    url = f"/rotations/{scenario.rotation_id}/handoff"
    many = b.post(url, _form(scenario, new_text=[f"item {i}" for i in range(21)], new_due=[]))
    assert many.status_code == 422 and "Longer than maximum length 20." in many.get_data(as_text=True)
    closing = b.post(url, _form(scenario, close=[str(i) for i in range(1, 202)]))
    assert closing.status_code == 422
    assert session.scalar(select(WatchItem.id)) is None and session.scalar(select(Handoff.id)) is None
    assert b.post(url, _form(scenario, new_text=[f"item {i}" for i in range(20)], new_due=[])).status_code == 303
    assert len(session.scalars(select(WatchItem.id)).all()) == 20


def test_incoming_acknowledges_on_the_page(scenario, browser, session):
    outgoing, incoming = people_at(scenario, expected_change(scenario))
    browser(outgoing).post(f"/rotations/{scenario.rotation_id}/handoff", _form(scenario))
    handoff = session.scalar(select(Handoff))
    assert "Acknowledge handoff" not in browser(outgoing).get(f"/handoffs/{handoff.id}").get_data(as_text=True)
    assert browser(outgoing).post(f"/handoffs/{handoff.id}/acknowledge").status_code == 403
    b = browser(incoming)
    page = b.get(f"/handoffs/{handoff.id}").get_data(as_text=True)
    assert "Acknowledge handoff" in page
    assert b.post(f"/handoffs/{handoff.id}/acknowledge", csrf=False).status_code == 400
    assert b.post(f"/handoffs/{handoff.id}/acknowledge").status_code == 303
    session.expire_all()
    handoff = session.get(Handoff, handoff.id)
    assert handoff.state == "acknowledged" and handoff.acknowledged_by_id == incoming.id
    assert "Acknowledge handoff" not in b.get(f"/handoffs/{handoff.id}").get_data(as_text=True)


def test_dashboard_offers_the_handoff_actions(scenario, browser, session):
    outgoing, incoming = people_at(scenario, expected_change(scenario))
    assert "Write the Web primary handoff" in browser(outgoing).get("/").get_data(as_text=True)
    browser(outgoing).post(f"/rotations/{scenario.rotation_id}/handoff", _form(scenario))
    assert "Acknowledge handoff" in browser(incoming).get("/").get_data(as_text=True)
    assert "Handoff awaiting acknowledgement" in browser(outgoing).get("/").get_data(as_text=True)


def test_history(scenario, browser, session):
    b = browser(scenario.bob)
    assert "No handoffs submitted yet." in b.get(f"/rotations/{scenario.rotation_id}/handoffs").get_data(as_text=True)
    b.post(f"/rotations/{scenario.rotation_id}/handoff", _form(scenario))
    handoff = session.scalar(select(Handoff))
    html = b.get(f"/rotations/{scenario.rotation_id}/handoffs").get_data(as_text=True)
    assert f'href="/handoffs/{handoff.id}"' in html and "submitted" in html
    assert b.get("/handoffs/999999").status_code == 404


def test_watch_items_page(scenario, browser, session):
    b = browser(scenario.carol)
    url = f"/teams/{scenario.team_id}/watch-items"
    assert "Nothing to watch right now." in b.get(url).get_data(as_text=True)
    assert b.post(url, {"text": "Maintenance window Sunday", "due_on": "2030-02-03"}).status_code == 303
    item = session.scalar(select(WatchItem))
    assert item.added_by_id == scenario.carol.id and str(item.due_on) == "2030-02-03"
    assert "Maintenance window Sunday" in b.get(url).get_data(as_text=True)
    blank = b.post(url, {"text": "   "})
    assert blank.status_code == 422 and "Must not be blank." in blank.get_data(as_text=True)
    assert b.post(url, {"text": "x"}, csrf=False).status_code == 400
    outsider = browser(scenario.outsider)
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"text": "x"}).status_code == 403
    assert outsider.post(f"{url}/{item.id}/close").status_code == 403
    assert b.post(f"{url}/{item.id}/close").status_code == 303
    session.expire_all()
    item = session.get(WatchItem, item.id)
    assert item.closed_by_id == scenario.carol.id and item.closed_at is not None
    assert "Closed in the last 30 days" in b.get(url).get_data(as_text=True)
    assert b.get("/teams/999999/watch-items").status_code == 404


def test_the_next_draft_after_acknowledgement(scenario, browser, session, make_incident):
    """The flow of the issue: the next shift's draft carries the open incident and the watch item, lists the
    resolved one, and drops the watch item closed meanwhile."""
    from oncall.clock import utcnow

    open_one = make_incident(scenario.team_id, severity="SEV2", title="Still burning")
    resolved_one = make_incident(scenario.team_id, severity="SEV3", title="Will be fixed")
    outgoing, incoming = people_at(scenario, expected_change(scenario))
    closing = WatchItem(team_id=scenario.team_id, text="Close me", added_by_id=scenario.alice.id)
    session.add(closing)
    session.commit()
    browser(outgoing).post(f"/rotations/{scenario.rotation_id}/handoff", _form(
        scenario, new_text=["Keep an eye on the queue", "", ""], close=[str(closing.id)]))
    handoff = session.scalar(select(Handoff))
    browser(incoming).post(f"/handoffs/{handoff.id}/acknowledge")
    resolved_one.status, resolved_one.resolved_at = "resolved", utcnow()
    session.commit()
    html = browser(incoming).get(f"/rotations/{scenario.rotation_id}/handoff").get_data(as_text=True)
    active = html[html.index('id="active-issues"'):html.index('id="recently-resolved"')]
    resolved = html[html.index('id="recently-resolved"'):html.index('id="handoff-form"')]
    watch = html[html.index('id="watch-items"'):html.index('id="notes"')]
    assert "Still burning" in active and "Will be fixed" not in active
    assert "Will be fixed" in resolved
    assert "Keep an eye on the queue" in watch and "Close me" not in watch
    assert open_one.id
