"""/api/v1 handoffs: the draft, submitting, reading, Markdown, acknowledging; carry-forward between handoffs."""
from datetime import datetime, timedelta

import pytest

from oncall.clock import utcnow
from oncall.schedules import service as schedules


def expected_change(scenario) -> datetime:
    return (scenario.now + timedelta(hours=3)).replace(second=0, microsecond=0)


def people_at(scenario, change: datetime):
    """(outgoing, incoming) worked out from the rotation's definition, independently of the code under test."""
    order = [scenario.alice, scenario.bob, scenario.carol]
    k = (change.date() - (scenario.now - timedelta(days=6)).date()).days
    return order[(k - 1) % 3], order[k % 3]


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_draft_is_for_the_next_shift_change(scenario, api_as):
    draft = api_as(scenario.bob).get(f"/api/v1/rotations/{scenario.rotation_id}/handoffs/draft")
    assert draft.status_code == 200, draft.json
    body = draft.json
    change = expected_change(scenario)
    outgoing, incoming = people_at(scenario, change)
    assert body["shift_change_at"] == iso(change)
    assert body["state"] == "draft" and body["id"] is None
    assert body["outgoing_user"] == {"id": outgoing.id, "name": outgoing.name}
    assert body["incoming_user"] == {"id": incoming.id, "name": incoming.name}
    assert body["sections"] == {"active_issues": [], "recently_resolved": [], "watch_items": [],
                                "closed_watch_items": [], "follow_ups": [], "hints": []}
    assert body["markdown"] == (f"# On-Call Handoff: {change.date().isoformat()}\n## Active Issues\n- None\n"
                                "## Recently Resolved\n- None\n## Watch Items\n- None\n## Notes\n- None\n")


def test_submit_read_markdown_and_the_next_draft(scenario, api_as):
    bob = api_as(scenario.bob)
    change = expected_change(scenario)
    outgoing, incoming = people_at(scenario, change)
    submitted = bob.post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs", json={
        "shift_change_at": iso(change), "notes": "Deploy freeze until Thursday.",
        "watch_items": [{"text": "New checkout deployment scheduled for tomorrow", "due_on": "2030-01-02"}]})
    assert submitted.status_code == 201, submitted.json
    h = submitted.json
    assert h["state"] == "submitted" and h["submitted_by"]["id"] == scenario.bob.id and h["submitted_at"].endswith("Z")
    assert h["outgoing_user"]["id"] == outgoing.id and h["incoming_user"]["id"] == incoming.id
    assert [w["text"] for w in h["sections"]["watch_items"]] == ["New checkout deployment scheduled for tomorrow"]
    assert h["url"] == f"https://oncall.example.com/handoffs/{h['id']}"

    assert bob.get(f"/api/v1/handoffs/{h['id']}").json == h
    md = bob.get(f"/api/v1/handoffs/{h['id']}.md")
    assert md.status_code == 200 and md.mimetype == "text/markdown"
    assert md.get_data(as_text=True) == (
        f"# On-Call Handoff: {change.date().isoformat()}\n## Active Issues\n- None\n## Recently Resolved\n- None\n"
        "## Watch Items\n- New checkout deployment scheduled for tomorrow (due 2030-01-02)\n"
        "## Notes\n- Deploy freeze until Thursday.\n")

    # the new watch item is the team's now
    items = bob.get(f"/api/v1/teams/{scenario.team_id}/watch-items").json
    assert [(i["text"], i["handoff_id"]) for i in items] == [("New checkout deployment scheduled for tomorrow", h["id"])]

    # the next draft is for the following change, from the incoming to the one after, and carries the item
    nxt = bob.get(f"/api/v1/rotations/{scenario.rotation_id}/handoffs/draft").json
    assert nxt["shift_change_at"] == iso(change + timedelta(days=1))
    assert nxt["outgoing_user"]["id"] == incoming.id
    assert [w["text"] for w in nxt["sections"]["watch_items"]] == ["New checkout deployment scheduled for tomorrow"]
    assert nxt["notes"] == ""

    history = bob.get(f"/api/v1/rotations/{scenario.rotation_id}/handoffs").json["handoffs"]
    assert [x["id"] for x in history] == [h["id"]]


def test_second_submission_for_a_change_is_a_conflict(scenario, api_as):
    bob = api_as(scenario.bob)
    url = f"/api/v1/rotations/{scenario.rotation_id}/handoffs"
    change = iso(expected_change(scenario))
    first = bob.post(url, json={"shift_change_at": change})
    assert first.status_code == 201
    again = api_as(scenario.carol).post(url, json={"shift_change_at": change, "notes": "me too"})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "Conflict" and "shift_change_at" in again.json["error"]["fields"]


def test_shift_change_must_be_the_drafts(scenario, api_as):
    response = api_as(scenario.bob).post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs",
                                         json={"shift_change_at": "2031-01-01T00:00:00Z"})
    assert response.status_code == 422 and "shift_change_at" in response.json["error"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({"notes": "x" * 20001}, "notes"),
    ({"notes": 3}, "notes"),
    ({"watch_items": [{"text": " "}]}, "watch_items"),
    ({"watch_items": [{"due_on": "2030-01-01"}]}, "watch_items"),
    ({"watch_items": "x"}, "watch_items"),
    ({"close_watch_items": [0]}, "close_watch_items"),
    ({"close_watch_items": [2**40]}, "close_watch_items"),
    ({"close_watch_items": ["1"]}, "close_watch_items"),
    ({"shift_change_at": "2031-01-01T00:00:00"}, "shift_change_at"),  # naive
    ({"submit": "perhaps"}, "submit"),
])
def test_submit_validation(scenario, api_as, body, field):
    response = api_as(scenario.bob).post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_closing_another_teams_item_is_refused(scenario, api_as, make_team, session):
    from oncall.handoffs import service

    other = make_team()
    item = service.add_watch_item(session, team_id=other["id"], text="theirs", due_on=None, added_by_id=None,
                                  now=utcnow())
    session.commit()
    response = api_as(scenario.bob).post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs",
                                         json={"close_watch_items": [item.id]})
    assert response.status_code == 422 and "close_watch_items" in response.json["error"]["fields"]


def test_only_members_submit(scenario, api_as):
    response = api_as(scenario.outsider).post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs", json={})
    assert response.status_code == 403 and response.json["error"]["code"] == "Forbidden"
    assert api_as(scenario.outsider).get(f"/api/v1/rotations/{scenario.rotation_id}/handoffs/draft").status_code == 200


def test_saved_draft_keeps_notes_and_cannot_be_acknowledged(scenario, api_as):
    bob = api_as(scenario.bob)
    saved = bob.post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs", json={"notes": "half done", "submit": False})
    assert saved.status_code == 201 and saved.json["state"] == "draft"
    draft = bob.get(f"/api/v1/rotations/{scenario.rotation_id}/handoffs/draft").json
    assert draft["id"] == saved.json["id"] and draft["notes"] == "half done"
    _, incoming = people_at(scenario, expected_change(scenario))
    ack = api_as(incoming).post(f"/api/v1/handoffs/{saved.json['id']}/acknowledge")
    assert ack.status_code == 409
    # submitting later fills in the same row
    done = bob.post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs", json={"notes": "all done"}).json
    assert done["id"] == saved.json["id"] and done["state"] == "submitted" and done["notes"] == "all done"


def test_a_saved_draft_reads_like_the_draft(scenario, api_as, make_incident):
    """A saved, unsubmitted row has no frozen sections yet: reading it by id shows the live draft (open
    incidents, people, hints), not an empty handoff that says "- None" while an incident is open."""
    make_incident(scenario.team_id, severity="SEV1", title="Payments down")
    bob = api_as(scenario.bob)
    saved = bob.post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs", json={"notes": "half done", "submit": False})
    assert saved.status_code == 201, saved.json
    draft = bob.get(f"/api/v1/rotations/{scenario.rotation_id}/handoffs/draft").json
    outgoing, incoming = people_at(scenario, expected_change(scenario))
    for body in (saved.json, bob.get(f"/api/v1/handoffs/{saved.json['id']}").json):
        assert body["state"] == "draft" and body["id"] == draft["id"]
        assert [i["title"] for i in body["sections"]["active_issues"]] == ["Payments down"]
        assert body["outgoing_user"]["id"] == outgoing.id and body["incoming_user"]["id"] == incoming.id
        assert body["since"] == draft["since"] and body["markdown"] == draft["markdown"]
    md = bob.get(f"/api/v1/handoffs/{saved.json['id']}.md").get_data(as_text=True)
    assert md == draft["markdown"]
    assert "## Active Issues\n- SEV1 [Payments down](" in md and md.endswith("## Notes\n- half done\n")


def test_acknowledge_only_by_the_incoming_on_call(scenario, api_as):
    change = expected_change(scenario)
    outgoing, incoming = people_at(scenario, change)
    h = api_as(outgoing).post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs", json={}).json
    for someone in (outgoing, scenario.outsider):
        denied = api_as(someone).post(f"/api/v1/handoffs/{h['id']}/acknowledge")
        assert denied.status_code == 403 and denied.json["error"]["code"] == "Forbidden"
    ack = api_as(incoming).post(f"/api/v1/handoffs/{h['id']}/acknowledge")
    assert ack.status_code == 200
    assert ack.json["state"] == "acknowledged" and ack.json["acknowledged_by"]["id"] == incoming.id
    again = api_as(incoming).post(f"/api/v1/handoffs/{h['id']}/acknowledge")
    assert again.status_code == 200 and again.json["acknowledged_at"] == ack.json["acknowledged_at"]


def test_unknown_ids(scenario, api_as):
    bob = api_as(scenario.bob)
    for method, path in (("get", "/api/v1/handoffs/999999"), ("get", "/api/v1/handoffs/999999.md"),
                         ("post", "/api/v1/handoffs/999999/acknowledge"),
                         ("get", "/api/v1/rotations/999999/handoffs/draft"),
                         ("post", "/api/v1/rotations/999999/handoffs"), ("get", "/api/v1/rotations/999999/handoffs")):
        response = getattr(bob, method)(path, json={}) if method == "post" else bob.get(path)
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == "NotFound", path


def test_watch_items_carry_forward_and_closed_ones_show_once(scenario, api_as):
    bob = api_as(scenario.bob)
    base = f"/api/v1/teams/{scenario.team_id}/watch-items"
    keep = bob.post(base, json={"text": "keep watching"}).json
    drop = bob.post(base, json={"text": "done soon"}).json
    url = f"/api/v1/rotations/{scenario.rotation_id}/handoffs"
    first = bob.post(url, json={"close_watch_items": [drop["id"]]}).json
    assert [w["id"] for w in first["sections"]["watch_items"]] == [keep["id"]]
    assert [w["id"] for w in first["sections"]["closed_watch_items"]] == [drop["id"]]
    assert "- Closed since last handoff:\n  - done soon (closed by Bob Member)" in first["markdown"]
    second = bob.get(f"{url}/draft").json
    assert [w["id"] for w in second["sections"]["watch_items"]] == [keep["id"]]
    assert second["sections"]["closed_watch_items"] == []
    # closed between handoffs: listed once in the next one
    bob.patch(f"{base}/{keep['id']}", json={"closed": True})
    third = bob.get(f"{url}/draft").json
    assert third["sections"]["watch_items"] == []
    assert [w["id"] for w in third["sections"]["closed_watch_items"]] == [keep["id"]]


def test_incidents_in_the_draft(scenario, api_as, make_incident, session):
    bob = api_as(scenario.bob)
    url = f"/api/v1/rotations/{scenario.rotation_id}/handoffs"
    now = utcnow()
    long_ago = make_incident(scenario.team_id, status="resolved", title="Fixed long ago",
                             created_at=now - timedelta(days=30), resolved_at=now - timedelta(days=29))
    slow = make_incident(scenario.team_id, severity="SEV3", title="Slow search", created_at=now - timedelta(hours=2))
    sev1 = make_incident(scenario.team_id, severity="SEV1", title="Checkout down", status="acknowledged",
                         acknowledged_by_id=scenario.bob.id)
    first = bob.post(url, json={}).json
    assert [(i["incident_id"], i["status"]) for i in first["sections"]["active_issues"]] == [
        (sev1.id, "acknowledged"), (slow.id, "triggered")]
    assert first["sections"]["active_issues"][0]["acknowledged_by"] == "Bob Member"
    assert first["sections"]["active_issues"][0]["url"] == f"https://oncall.example.com/incidents/{sev1.id}"
    assert first["sections"]["recently_resolved"] == []  # resolved before the outgoing shift began
    assert f"- SEV1 [Checkout down](https://oncall.example.com/incidents/{sev1.id}) (acknowledged by Bob Member, open" \
        in first["markdown"]
    # resolved after that submission: the next draft lists it as recently resolved, the other stays active
    slow.status, slow.resolved_at = "resolved", utcnow()
    session.commit()
    nxt = bob.get(f"{url}/draft").json
    assert [i["incident_id"] for i in nxt["sections"]["active_issues"]] == [sev1.id]
    assert [i["incident_id"] for i in nxt["sections"]["recently_resolved"]] == [slow.id]
    assert long_ago.id not in [i["incident_id"] for i in nxt["sections"]["recently_resolved"]]
    assert "## Recently Resolved\n- SEV3 [Slow search]" in nxt["markdown"]


def test_pto_hint_in_the_draft(scenario, api_as, session):
    change = expected_change(scenario)
    _, incoming = people_at(scenario, change)
    schedules.add_time_off(session, user_id=incoming.id, start_at=change - timedelta(days=1),
                           end_at=change + timedelta(days=3), reason="PTO", now=utcnow())
    session.commit()
    draft = api_as(scenario.bob).get(f"/api/v1/rotations/{scenario.rotation_id}/handoffs/draft").json
    order = [scenario.alice, scenario.bob, scenario.carol]
    cover = order[(order.index(incoming) + 1) % 3]
    assert draft["incoming_user"]["id"] == cover.id  # the substitute takes the shift
    [hint] = draft["sections"]["hints"]
    assert hint.startswith(f"{incoming.name} is on PTO until ") and hint.endswith(f", escalate to {cover.name} instead")
    assert f"## Notes\n- {hint}\n" in draft["markdown"]


def test_acknowledging_passes_the_outgoing_ones_incidents_on(scenario, api_as, session):
    from oncall.incidents import service as incidents
    from oncall.incidents.models import Incident

    change = expected_change(scenario)
    outgoing, incoming = people_at(scenario, change)
    third = next(p for p in (scenario.alice, scenario.bob, scenario.carol) if p not in (outgoing, incoming))
    now = utcnow()
    mine, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV2", title="Mine", now=now)
    theirs, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV3", title="Theirs", now=now)
    untouched, _ = incidents.create_incident(session, team_id=scenario.team_id, severity="SEV3", title="Open", now=now)
    incidents.acknowledge(session, mine, user_id=outgoing.id, via="sms", now=now)
    incidents.acknowledge(session, theirs, user_id=third.id, via="web", now=now)
    session.commit()
    h = api_as(outgoing).post(f"/api/v1/rotations/{scenario.rotation_id}/handoffs", json={}).json
    acked = api_as(incoming).post(f"/api/v1/handoffs/{h['id']}/acknowledge")
    assert acked.status_code == 200 and acked.json["state"] == "acknowledged"
    # Acknowledged hours before the shift change: the incident stays with the outgoing on-call until then.
    from oncall.handoffs.service import pass_incidents_due

    session.expire_all()
    assert session.get(Incident, mine.id).acknowledged_by_id == outgoing.id
    assert pass_incidents_due(session, now=change - timedelta(seconds=1)) == []
    assert pass_incidents_due(session, now=change) == [h["id"]]
    session.commit()
    assert pass_incidents_due(session, now=change + timedelta(minutes=1)) == []  # once
    session.expire_all()
    moved = session.get(Incident, mine.id)
    assert moved.acknowledged_by_id == incoming.id and moved.status == "acknowledged"
    note = moved.events[-1]
    assert (note.kind, note.via, note.user_id) == ("note", "handoff", incoming.id)
    assert note.detail["message"] == f"Passed from {outgoing.name} to {incoming.name}, who acknowledged the " \
                                     "Web primary handoff."
    assert note.detail["handoff_id"] == h["id"]
    assert session.get(Incident, theirs.id).acknowledged_by_id == third.id
    assert session.get(Incident, untouched.id).status == "triggered"
    # acknowledging again moves nothing twice
    api_as(incoming).post(f"/api/v1/handoffs/{h['id']}/acknowledge")
    session.expire_all()
    assert [e.kind for e in session.get(Incident, mine.id).events].count("note") == 1
