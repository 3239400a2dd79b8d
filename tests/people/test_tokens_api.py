"""/api/v1/tokens: list, create (shown once, optional expiry), revoke; expiry and last-used on every call."""
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from oncall.clock import isoformat_z, utcnow
from oncall.db import get_engine
from oncall.people import tokens
from oncall.people.models import ApiToken
from tests.conftest import ApiClient


@pytest.fixture()
def plain(client, make_token) -> ApiClient:
    return ApiClient(client, make_token("plain@example.com", admin=False))


def test_create_list_and_revoke_own_tokens(client, plain):
    created = plain.post("/api/v1/tokens", json={"name": "laptop script"})
    assert created.status_code == 201
    body = created.json
    assert body["token"].startswith("oncall_") and body["name"] == "laptop script"
    assert body["expires_at"] is None and body["last_used_at"] is None and body["expired"] is False
    new = ApiClient(client, body["token"])
    assert new.get("/api/v1/teams").status_code == 200

    listed = plain.get("/api/v1/tokens").json
    assert {t["id"] for t in listed} >= {body["id"]}
    assert all("token" not in t for t in listed)
    assert {t["user_id"] for t in listed} == {body["user_id"]}
    one = plain.get(f"/api/v1/tokens/{body['id']}")
    assert one.status_code == 200 and "token" not in one.json and one.json["last_used_at"] is not None

    assert plain.delete(f"/api/v1/tokens/{body['id']}").status_code == 204
    assert new.get("/api/v1/teams").status_code == 401
    assert plain.get(f"/api/v1/tokens/{body['id']}").status_code == 404


def test_a_token_can_revoke_itself(plain):
    mine = plain.get("/api/v1/tokens").json
    assert len(mine) == 1
    assert plain.delete(f"/api/v1/tokens/{mine[0]['id']}").status_code == 204
    assert plain.get("/api/v1/tokens").status_code == 401


def test_people_cannot_see_or_touch_others_tokens_but_admins_can(client, api, plain):
    admin_token_id = api.get("/api/v1/tokens").json[0]["id"]
    plain_me = plain.get("/api/v1/tokens").json[0]["user_id"]
    admin_me = api.get("/api/v1/tokens").json[0]["user_id"]
    assert plain.get(f"/api/v1/tokens/{admin_token_id}").status_code == 404
    assert plain.delete(f"/api/v1/tokens/{admin_token_id}").status_code == 404
    refused = plain.get(f"/api/v1/tokens?user_id={admin_me}")
    assert refused.status_code == 403 and "user_id" in refused.json["error"]["fields"]
    assert plain.post("/api/v1/tokens", json={"user_id": admin_me}).status_code == 403
    assert api.get("/api/v1/tokens").json[0]["id"] == admin_token_id  # still there

    # An administrator lists, creates and revokes anyone's.
    theirs = api.get(f"/api/v1/tokens?user_id={plain_me}").json
    assert [t["user_id"] for t in theirs] == [plain_me]
    made = api.post("/api/v1/tokens", json={"user_id": plain_me, "name": "for plain"})
    assert made.status_code == 201 and made.json["user_id"] == plain_me
    as_plain = ApiClient(client, made.json["token"])
    assert as_plain.post("/api/v1/users", json={"name": "X", "email": "x@example.com"}).status_code == 403
    assert api.delete(f"/api/v1/tokens/{theirs[0]['id']}").status_code == 204
    assert plain.get("/api/v1/tokens").status_code == 401
    assert api.post("/api/v1/tokens", json={"user_id": 424242}).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),  # no offset
    ({"expires_at": "9999-01-01T00:00:00Z"}, "expires_at"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"user_id": "1"}, "user_id"),
    ({"user_id": 0}, "user_id"),
    ({"token": "oncall_mine"}, "token"),
])
def test_bad_token_requests_name_the_field(api, body, field):
    response = api.post("/api/v1/tokens", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_an_expired_token_is_refused_and_says_so(client, plain, session, monkeypatch):
    soon = utcnow() + timedelta(hours=1)
    made = plain.post("/api/v1/tokens", json={"expires_at": isoformat_z(soon)})
    assert made.status_code == 201 and made.json["expires_at"] == isoformat_z(soon)
    short = ApiClient(client, made.json["token"])
    assert short.get("/api/v1/teams").status_code == 200
    monkeypatch.setattr("oncall.auth.utcnow", lambda: soon)
    refused = short.get("/api/v1/teams")
    assert refused.status_code == 401 and "expired" in refused.json["error"]["message"]
    monkeypatch.undo()
    listed = {t["id"]: t for t in plain.get("/api/v1/tokens").json}
    assert listed[made.json["id"]]["expired"] is False
    session.execute(ApiToken.__table__.update().where(ApiToken.id == made.json["id"]).values(
        expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert short.get("/api/v1/teams").status_code == 401
    assert {t["id"]: t for t in plain.get("/api/v1/tokens").json}[made.json["id"]]["expired"] is True


def test_a_token_cannot_make_one_that_outlives_it(client, plain):
    until = utcnow() + timedelta(days=1)
    short = ApiClient(client, plain.post("/api/v1/tokens", json={"expires_at": isoformat_z(until)}).json["token"])
    inherited = short.post("/api/v1/tokens", json={"name": "child"})
    assert inherited.status_code == 201 and inherited.json["expires_at"] == isoformat_z(until)
    sooner = short.post("/api/v1/tokens", json={"expires_at": isoformat_z(until - timedelta(hours=1))})
    assert sooner.status_code == 201
    later = short.post("/api/v1/tokens", json={"expires_at": isoformat_z(until + timedelta(seconds=1))})
    assert later.status_code == 422 and "expires_at" in later.json["error"]["fields"]


def test_tokens_per_person_are_bounded(plain, monkeypatch):
    monkeypatch.setattr(tokens, "MAX_TOKENS_PER_USER", 3)
    assert [plain.post("/api/v1/tokens", json={}).status_code for _ in range(3)] == [201, 201, 422]


def test_last_use_is_recorded_at_most_once_a_minute(app, client, plain, session, monkeypatch):
    token_id = plain.get("/api/v1/tokens").json[0]["id"]
    updates = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            updates.append(statement)

    t0 = utcnow().replace(microsecond=0) + timedelta(minutes=2)  # the listing above was a use too
    monkeypatch.setattr("oncall.auth.utcnow", lambda: t0)
    event.listen(get_engine(app), "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert plain.get("/api/v1/teams").status_code == 200
            assert plain.post("/api/v1/teams", json={}).status_code == 422  # failures count as uses too
        assert len(updates) == 1
        assert session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id)) == t0
        monkeypatch.setattr("oncall.auth.utcnow", lambda: t0 + timedelta(seconds=59))
        plain.get("/api/v1/teams")
        assert len(updates) == 1
        monkeypatch.setattr("oncall.auth.utcnow", lambda: t0 + timedelta(seconds=61))
        plain.get("/api/v1/teams")
        assert len(updates) == 2
    finally:
        event.remove(get_engine(app), "before_cursor_execute", count)
    session.expire_all()
    assert session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id)) == t0 + timedelta(seconds=61)
    assert plain.get(f"/api/v1/tokens/{token_id}").json["last_used_at"] == isoformat_z(t0 + timedelta(seconds=61))


def test_record_use_writes_once_however_many_ask(session, make_token):
    make_token("stamp@example.com")
    token_id = session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()))
    now = utcnow()
    tokens.record_use(session, token_id, now)
    tokens.record_use(session, token_id, now + timedelta(seconds=30))  # another process, same minute
    assert session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id)) == now


def test_the_tokens_api_is_documented(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/tokens"])
    assert {"get", "delete"} <= set(paths["/api/v1/tokens/{token_id}"])
