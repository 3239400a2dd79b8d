"""Postmortems over the API: the draft a resolve starts, writing it, its validation, its Markdown."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from oncall.people.models import User

from tests.conftest import TEST_NOW, ApiClient
from tests.incidents.test_api import open_incident
from tests.postmortems.test_document import SEED, sections


@pytest.fixture()
def team(api, make_team, make_rotation):
    team = make_team()
    rotation = make_rotation(team_id=team["id"], start_date="2026-01-05")
    return team | {"rotation": rotation, "members": rotation["participant_ids"]}


def resolved(api, clock, team, severity="SEV1") -> str:
    incident = open_incident(api, team, severity=severity, title="Checkout down").json
    path = f"/api/v1/incidents/{incident['id']}"
    clock.advance(timedelta(minutes=5))
    api.post(f"{path}/acknowledge")
    clock.advance(timedelta(minutes=10))
    api.post(f"{path}/updates", json={"status": "identified", "message": "A bad deploy"})
    clock.advance(timedelta(minutes=30))
    api.post(f"{path}/resolve")
    return path


def test_resolving_a_sev1_starts_a_prefilled_draft(clock, api, team):
    path = resolved(api, clock, team)
    response = api.get(f"{path}/postmortem")
    assert response.status_code == 200, response.json
    pm = response.json
    assert (pm["title"], pm["state"], pm["date"], pm["duration"]) == ("Checkout down", "draft", "2026-03-04", "45m")
    assert pm["summary"] == pm["impact"] == pm["root_cause"] == "" and pm["action_items"] == []
    lines = pm["timeline"].splitlines()
    assert all(re.fullmatch(r"- \d{2}:\d{2} UTC - .+", line) for line in lines)
    assert lines[0].startswith("- 15:00 UTC - SEV1 opened for ") and "Escalation step 1" in lines[1]
    assert lines[2].startswith("- 15:05 UTC - Acknowledged by ")
    assert lines[3] == "- 15:15 UTC - Status update (Identified): A bad deploy"
    assert lines[-1].startswith("- 15:45 UTC - Resolved by ")
    assert pm["url"].endswith(f"{path.removeprefix('/api/v1')}/postmortem")


def test_sev3_has_none_until_written_and_open_incidents_none_at_all(clock, api, team):
    incident = open_incident(api, team, severity="SEV3").json
    path = f"/api/v1/incidents/{incident['id']}"
    assert api.put(f"{path}/postmortem", json={"summary": "x"}).status_code == 409
    api.post(f"{path}/resolve")
    assert api.get(f"{path}/postmortem").status_code == 404
    assert api.get(f"{path}/postmortem.md").status_code == 404
    response = api.put(f"{path}/postmortem", json={"summary": "Slow, then fine"})
    assert response.status_code == 200 and response.json["summary"] == "Slow, then fine"
    assert response.json["timeline"].startswith("- 15:00 UTC - SEV3 opened")


def test_writing_it_and_following_its_action_items_through(clock, api, team, make_token, client, session):
    path = resolved(api, clock, team)
    a, b, _ = team["members"]
    body = {"summary": "Checkout returned 500s", "impact": "- About 2000 users", "root_cause": "A bad deploy",
            "went_well": "- Fast detection", "went_poorly": "- Slow rollback", "lessons": "Canary deploys",
            "action_items": [{"text": "Add a canary", "owner_id": a, "due_date": "2026-03-11"},
                             {"text": "Update the runbook", "owner_id": b}]}
    pm = api.put(f"{path}/postmortem", json=body).json
    assert [(i["text"], i["owner_id"], i["due_date"], i["done"]) for i in pm["action_items"]] == [
        ("Add a canary", a, "2026-03-11", False), ("Update the runbook", b, None, False)]
    first, second = pm["action_items"]
    # Closing an item records who and when; sending it again with its id keeps that.
    clock.advance(timedelta(hours=1))
    items = [first | {"done": True}, second]
    pm = api.put(f"{path}/postmortem", json={"action_items": [
        {k: i[k] for k in ("id", "text", "owner_id", "due_date", "done")} for i in items]}).json
    done = pm["action_items"][0]
    assert done["done"] is True and done["done_at"].startswith((TEST_NOW + timedelta(minutes=45 + 60)).strftime(
        "%Y-%m-%dT%H:%M")) and done["done_by_id"] == session.scalar(select(User.id).where(
            User.email == "admin@example.com"))
    assert pm["summary"] == "Checkout returned 500s"  # sections left out are unchanged
    # Leaving an item out deletes it; publishing needs the summary and root cause, which it has.
    pm = api.put(f"{path}/postmortem", json={"state": "published", "action_items": [
        {k: done[k] for k in ("id", "text", "owner_id", "due_date", "done")}]}).json
    assert pm["state"] == "published" and pm["published_at"] and [i["id"] for i in pm["action_items"]] == [done["id"]]
    assert pm["action_items"][0]["done_at"] == done["done_at"]
    outsider = ApiClient(client, make_token(email="outsider@example.com", admin=False))
    assert outsider.put(f"{path}/postmortem", json={"summary": "mine"}).status_code == 403
    assert outsider.get(f"{path}/postmortem").status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"summary": 3}, "summary"),
    ({"root_cause": "x" * 20001}, "root_cause"),
    ({"title": "  "}, "title"),
    ({"state": "final"}, "state"),
    ({"state": "published"}, "summary"),  # nothing written yet
    ({"action_items": [{"owner_id": 1}]}, "action_items"),  # no text
    ({"action_items": [{"text": "x", "due_date": "next week"}]}, "action_items"),
    ({"action_items": [{"text": "x", "owner_id": 999999}]}, "action_items"),  # not a member
    ({"action_items": [{"text": "x", "id": 999999}]}, "action_items"),  # not one of its items
    ({"action_items": [{"text": "x"}] * 101}, "action_items"),
    ({"action_items": "x"}, "action_items"),
    ({"postmortem": "x"}, "postmortem"),
])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(clock, api, team, body, field):
    path = resolved(api, clock, team)
    before = api.put(f"{path}/postmortem", json={"impact": "some", "action_items": [{"text": "keep me"}]}).json
    response = api.put(f"{path}/postmortem", json=body | ({"impact": "changed"} if "impact" not in body else {}))
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json
    after = api.get(f"{path}/postmortem").json
    assert after == before


def test_publishing_names_every_missing_section(clock, api, team):
    path = resolved(api, clock, team)
    response = api.put(f"{path}/postmortem", json={"state": "published", "summary": "Written"})
    assert response.status_code == 422 and list(response.json["error"]["fields"]) == ["root_cause"]


def test_markdown_export_in_the_seeds_sections(clock, api, team):
    path = resolved(api, clock, team)
    api.put(f"{path}/postmortem", json={"summary": "Checkout returned 500s", "root_cause": "<b>deploy</b>",
                                        "action_items": [{"text": "Add a canary", "owner_id": team["members"][0],
                                                          "due_date": "2026-03-11"}]})
    response = api.get(f"{path}/postmortem.md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    title, ours = sections(response.get_data(as_text=True))
    assert title == "# Incident Postmortem: Checkout down 2026-03-04"
    assert [h for h, _ in ours] == [h for h, _ in sections(SEED)[1]]
    ours = dict(ours)
    assert ours["Impact"] == ["- Duration: 45m"] and ours["Root Cause"] == ["&lt;b&gt;deploy&lt;/b&gt;"]
    assert ours["Timeline"][0].startswith("- 15:00 UTC - SEV1 opened")
    assert re.fullmatch(r"\| Add a canary \| @User \d+ \| 2026-03-11 \|", ours["Action Items"][2])
