"""/api/v1/teams/{id}/watch-items: create, list, read, update, close, delete; validation and permissions."""
import pytest


def test_create_list_and_close(scenario, api_as):
    bob = api_as(scenario.bob)
    base = f"/api/v1/teams/{scenario.team_id}/watch-items"
    created = bob.post(base, json={"text": "  Checkout deploy   tomorrow ", "due_on": "2026-03-05"})
    assert created.status_code == 201, created.json
    item = created.json
    assert item["text"] == "Checkout deploy tomorrow"
    assert item["due_on"] == "2026-03-05"
    assert item["added_by"] == {"id": scenario.bob.id, "name": "Bob Member"}
    assert item["closed"] is False and item["closed_at"] is None and item["closed_by"] is None
    assert item["created_at"].endswith("Z")
    undated = bob.post(base, json={"text": "Disk on db-3"}).json
    assert undated["due_on"] is None

    assert [i["id"] for i in bob.get(base).json] == [item["id"], undated["id"]]
    closed = api_as(scenario.carol).patch(f"{base}/{item['id']}", json={"closed": True})
    assert closed.status_code == 200
    assert closed.json["closed"] is True and closed.json["closed_by"]["id"] == scenario.carol.id
    assert closed.json["closed_at"].endswith("Z")
    assert [i["id"] for i in bob.get(base).json] == [undated["id"]]
    assert [i["id"] for i in bob.get(f"{base}?state=closed").json] == [item["id"]]
    assert len(bob.get(f"{base}?state=all").json) == 2
    # closing again keeps the first closer; reopening clears it
    again = bob.patch(f"{base}/{item['id']}", json={"closed": True}).json
    assert again["closed_by"]["id"] == scenario.carol.id
    reopened = bob.patch(f"{base}/{item['id']}", json={"closed": False, "text": "Deploy moved"}).json
    assert reopened["closed"] is False and reopened["closed_by"] is None and reopened["text"] == "Deploy moved"
    assert bob.get(f"{base}/{item['id']}").json["text"] == "Deploy moved"


@pytest.mark.parametrize("body, field", [
    ({}, "text"),
    ({"text": ""}, "text"),
    ({"text": "   "}, "text"),
    ({"text": "x" * 501}, "text"),
    ({"text": 5}, "text"),
    ({"text": "ok", "due_on": "tomorrow"}, "due_on"),
    ({"text": "ok", "due_on": "2026-02-30"}, "due_on"),
    ({"text": "ok", "extra": 1}, "extra"),
])
def test_create_validation(scenario, api_as, body, field):
    response = api_as(scenario.bob).post(f"/api/v1/teams/{scenario.team_id}/watch-items", json=body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "ValidationError"
    assert field in response.json["error"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({"closed": "maybe"}, "closed"),
    ({"text": " "}, "text"),
    ({"due_on": 3}, "due_on"),
])
def test_update_validation(scenario, api_as, body, field):
    bob = api_as(scenario.bob)
    item = bob.post(f"/api/v1/teams/{scenario.team_id}/watch-items", json={"text": "x"}).json
    response = bob.patch(f"/api/v1/teams/{scenario.team_id}/watch-items/{item['id']}", json=body)
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_list_state_is_validated(scenario, api_as):
    response = api_as(scenario.bob).get(f"/api/v1/teams/{scenario.team_id}/watch-items?state=weird")
    assert response.status_code == 422 and "state" in response.json["error"]["fields"]


def test_only_members_change_watch_items(scenario, api_as):
    base = f"/api/v1/teams/{scenario.team_id}/watch-items"
    outsider = api_as(scenario.outsider)
    denied = outsider.post(base, json={"text": "x"})
    assert denied.status_code == 403 and denied.json["error"]["code"] == "Forbidden"
    item = api_as(scenario.bob).post(base, json={"text": "x"}).json
    assert outsider.patch(f"{base}/{item['id']}", json={"closed": True}).status_code == 403
    assert outsider.get(base).status_code == 200  # reading is open to every signed-in caller


def test_delete_by_author_or_team_admin(scenario, api_as):
    base = f"/api/v1/teams/{scenario.team_id}/watch-items"
    bob, carol, alice = api_as(scenario.bob), api_as(scenario.carol), api_as(scenario.alice)
    first = bob.post(base, json={"text": "mine"}).json
    second = bob.post(base, json={"text": "also mine"}).json
    assert carol.delete(f"{base}/{first['id']}").status_code == 403  # a member, not the author
    assert bob.delete(f"{base}/{first['id']}").status_code == 204
    assert alice.delete(f"{base}/{second['id']}").status_code == 204  # team admin
    assert bob.get(f"{base}/{first['id']}").status_code == 404


def test_an_author_who_left_the_team_cannot_delete(scenario, api_as, session):
    """Being the author is not enough once they left the team: they act on it no more than any outsider."""
    from oncall.people import service as people
    from oncall.people.models import Team

    base = f"/api/v1/teams/{scenario.team_id}/watch-items"
    item = api_as(scenario.bob).post(base, json={"text": "mine"}).json
    people.set_members(session, session.get(Team, scenario.team_id), user_ids=[scenario.alice.id, scenario.carol.id],
                       admin_ids=[scenario.alice.id])
    session.commit()
    session.expire_all()
    denied = api_as(scenario.bob).delete(f"{base}/{item['id']}")
    assert denied.status_code == 403 and denied.json["error"]["code"] == "Forbidden"
    assert api_as(scenario.alice).get(f"{base}/{item['id']}").status_code == 200


def test_not_found(scenario, api_as, make_team):
    bob = api_as(scenario.bob)
    assert bob.get("/api/v1/teams/999999/watch-items").status_code == 404
    assert bob.post("/api/v1/teams/999999/watch-items", json={"text": "x"}).status_code == 404
    item = bob.post(f"/api/v1/teams/{scenario.team_id}/watch-items", json={"text": "x"}).json
    other = make_team()
    # an item is only reachable through its own team
    response = bob.get(f"/api/v1/teams/{other['id']}/watch-items/{item['id']}")
    assert response.status_code == 404 and response.json["error"]["code"] == "NotFound"


def test_needs_a_token(client, scenario):
    assert client.get(f"/api/v1/teams/{scenario.team_id}/watch-items").status_code == 401
