"""Request bodies at the edge, for every API route at once: a size limit answered 413 before the body is
read, nothing read or parsed before authentication, and JSON no request shape could need (deep nesting,
numbers int() refuses) answered 400 instead of a 500, authenticated or not."""
import io
import json
import re

import pytest
from twilio.request_validator import RequestValidator

from tests.incidents.test_alertmanager import alert, payload

PUBLIC = {"/api/v1/openapi.json"}
ALERTMANAGER = "/api/v1/integrations/alertmanager"
MiB = 1024 * 1024


def api_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every API route, path parameters filled with 1."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "SEV1" if m.group(1) == "severity" else "1", rule.rule)
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


class UnreadableBody(io.RawIOBase):
    """A request body of `size` bytes that records whether anyone read from it (seeking, which the test
    client does to measure it, is not reading)."""

    def __init__(self, size: int) -> None:
        self.size, self.pos, self.read_from = size, 0, False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def readinto(self, buffer) -> int:
        self.read_from = True
        n = max(0, min(len(buffer), self.size - self.pos))
        buffer[:n] = b"[" * n
        self.pos += n
        return n


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture()
def integration_token(api, make_team) -> str:
    team = make_team()
    return api.post(f"/api/v1/teams/{team['id']}/integrations", json={"type": "alertmanager"}).json["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_error_shape(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json and response.json["error"]["code"] == code, response.get_data(as_text=True)[:300]
    assert set(response.json["error"]) == {"code", "message", "fields"}


# --- nesting and unreadable numbers ---------------------------------------------------------------------

BAD_JSON = {
    "past the recursion limit": nested(100_000),
    "past the depth limit": nested(40),
    "deep inside an object": '{"name": ' + nested(5_000) + "}",
    "a number int() refuses": '{"team_id": ' + "7" * 5_000 + "}",
}


@pytest.mark.parametrize("body", list(BAD_JSON.values()), ids=list(BAD_JSON))
def test_unreadable_json_without_a_token_is_a_401_on_every_route(app, client, body):
    for method, path in api_routes(app):
        response = client.open(path, method=method, data=body, content_type="application/json")
        if path in PUBLIC:
            assert response.status_code == 200  # the OpenAPI document reads no body
        else:
            assert_error_shape(response, 401, "Unauthorized")


@pytest.mark.parametrize("body", list(BAD_JSON.values()), ids=list(BAD_JSON))
def test_unreadable_json_with_a_token_is_a_400_on_every_route(app, api, integration_token, body):
    for method, path in api_routes(app):
        if path in PUBLIC:
            continue
        token = integration_token if path == ALERTMANAGER else api.token
        response = api.client.open(path, method=method, data=body, content_type="application/json",
                                   headers=bearer(token))
        assert_error_shape(response, 400, "BadRequest")


def test_nesting_up_to_the_limit_reaches_the_schema(api):
    # 32 levels is deeper than any request shape, but not refused for its depth: the schema answers.
    response = api.post("/api/v1/users", data=json.dumps({"name": json.loads(nested(31))}),
                        content_type="application/json")
    assert_error_shape(response, 422, "ValidationError")


def test_text_no_column_can_store_is_still_a_422_with_its_field(api):
    response = api.post("/api/v1/teams", json={"name": "a\x00b", "slug": "s", "time_zone": "UTC"})
    assert_error_shape(response, 422, "ValidationError")
    assert "name" in response.json["error"]["fields"]


# --- size -----------------------------------------------------------------------------------------------

def test_a_body_over_the_limit_is_a_413_on_every_route_before_it_is_read(app, client):
    for method, path in api_routes(app):
        limit = 10 * MiB if path == ALERTMANAGER else MiB
        body = UnreadableBody(limit + 1)
        response = client.open(path, method=method, input_stream=body, content_type="application/json",
                               headers={"Content-Length": str(limit + 1)})
        assert_error_shape(response, 413, "RequestEntityTooLarge")
        assert not body.read_from, (method, path)


def test_an_unauthenticated_body_is_never_read(app, client):
    """Under the size limit too: a caller without a token gets its 401 before a byte of its body is read."""
    for method, path in api_routes(app):
        if path in PUBLIC:
            continue
        body = UnreadableBody(MiB - 1)
        response = client.open(path, method=method, input_stream=body, content_type="application/json",
                               headers={"Content-Length": str(MiB - 1), "Authorization": "Bearer not-a-token"})
        assert_error_shape(response, 401, "Unauthorized")
        assert not body.read_from, (method, path)


def test_a_body_without_a_length_is_cut_off_at_the_limit(api):
    """Chunked uploads declare no length: reading stops with a 413 once the limit is passed."""
    body = UnreadableBody(3 * MiB)
    response = api.client.post("/api/v1/users", input_stream=body, content_type="application/json",
                               headers=bearer(api.token), environ_overrides={"wsgi.input_terminated": True})
    assert_error_shape(response, 413, "RequestEntityTooLarge")
    assert body.pos < 2 * MiB  # not read to the end


def test_the_limit_is_exact_and_configurable(app, api):
    just_under = json.dumps({"name": "x" * (MiB - 100)})
    assert api.post("/api/v1/users", data=just_under, content_type="application/json").status_code == 422
    over = json.dumps({"name": "x" * MiB})
    assert_error_shape(api.post("/api/v1/users", data=over, content_type="application/json"), 413,
                       "RequestEntityTooLarge")
    app.config["MAX_CONTENT_LENGTH"] = 2 * MiB
    try:
        assert api.post("/api/v1/users", data=over, content_type="application/json").status_code == 422
    finally:
        app.config["MAX_CONTENT_LENGTH"] = MiB


def test_a_storm_of_a_thousand_alerts_fits_in_one_alertmanager_body(client, integration_token):
    """Alertmanager may group 1,000 alerts (the most one notification may hold) in one request, each with
    long annotations: far over the 1 MiB of other endpoints, inside the webhook's own 10 MiB."""
    alerts = [alert(fingerprint=f"{i:016x}", status="resolved",
                    annotations={"summary": f"Disk {i} full", "description": "d" * 3000})
              for i in range(1000)]
    body = json.dumps(payload(*alerts))
    assert 3 * MiB < len(body) < 10 * MiB
    response = client.post(ALERTMANAGER, data=body, content_type="application/json", headers=bearer(integration_token))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert len(response.json["results"]) == 1000


def test_twilio_webhooks_take_small_forms_only(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "twilio-secret")
    params = {"From": "+19995550000", "Body": "x" * (70 * 1024)}
    signature = RequestValidator("twilio-secret").compute_signature("https://oncall.example.com/twilio/sms", params)
    response = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 413


def test_web_forms_share_the_limit(client):
    response = client.post("/sign-in", data={"email": "a@example.com", "password": "p" * (MiB + 1)})
    assert response.status_code == 413
