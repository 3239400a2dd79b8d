"""Health, OpenAPI, authentication and the error shape."""
import pytest

from oncall.clock import utcnow


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"  # the rest: tests/operations/test_health.py


def test_openapi_document_needs_no_token_and_covers_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in ["/api/v1/users", "/api/v1/teams/{team_id}/members", "/api/v1/rotations/{rotation_id}/shifts",
                 "/api/v1/rotations/{rotation_id}/oncall", "/api/v1/teams/{team_id}/oncall",
                 "/api/v1/rotations/{rotation_id}/overrides/{override_id}",
                 "/api/v1/users/{user_id}/time-off/{time_off_id}"]:
        assert path in paths, path
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "bearer "])
def test_api_needs_a_valid_bearer_token(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/users", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "Unauthorized"


def test_unknown_api_path_answers_json_404(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert set(response.json["error"]) == {"code", "message", "fields"}


def test_wrong_method_answers_json_405(api):
    response = api.put("/api/v1/users", json={})
    assert response.status_code == 405
    assert response.json["error"]["code"] == "MethodNotAllowed"


def test_non_json_body_is_a_422_not_a_500(api):
    response = api.post("/api/v1/users", data="not json", headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert "error" in response.json


@pytest.mark.parametrize("name", ["nul\x00byte", "lone \ud800 surrogate"])
def test_text_no_database_can_store_is_refused(api, name):
    import json

    body = json.dumps({"name": name, "email": "x@example.com"})
    response = api.post("/api/v1/users", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "name" in response.json["error"]["fields"]


def test_request_teardown_commits_reads_but_never_unfinished_writes(app, session):
    """Read-only transactions end with COMMIT (psycopg keeps its prepared statements); a request that wrote
    and did not commit (a handled error after a flush) is still rolled back."""
    from sqlalchemy import select

    from oncall.db import get_session
    from oncall.people.models import User

    with app.app_context():
        s = get_session()
        s.add(User(name="Ghost", email="ghost@example.com", time_zone="UTC"))
        s.flush()
    with app.app_context():
        s = get_session()
        s.execute(User.__table__.insert().values(name="Bulk", email="bulk@example.com", time_zone="UTC",
                                                  is_admin=False, sms_opted_out=False, created_at=utcnow()))
    found = session.scalars(select(User.email).where(User.email.in_(["ghost@example.com", "bulk@example.com"])))
    assert list(found) == []


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(database_url):
    from flask import request

    from oncall import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "PROXY_COUNT": 1})

    @app.get("/_whoami")
    def whoami():
        return {"addr": request.remote_addr, "scheme": request.scheme}

    response = app.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.7",
                                                          "X-Forwarded-Proto": "https"})
    assert response.json == {"addr": "203.0.113.7", "scheme": "https"}
