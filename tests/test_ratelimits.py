"""Rate limits: per API token on the API, per address on calendar feeds and on refused webhook requests, and
never on a page's way in (alert intake, signed Twilio webhooks), whatever the same address did before.

Each test builds an app with the limiter on (the suite's app has it off) that shares the test's database
transaction."""
import pytest
from twilio.request_validator import RequestValidator

from oncall import create_app
from oncall.db import get_engine
from tests.incidents.test_alertmanager import alert, payload

TWILIO_TOKEN = "twilio-secret"
PUBLIC_URL = "https://oncall.example.com"


@pytest.fixture()
def limited(app):
    """make(**settings) -> a test client of an app with rate limits on and these settings."""
    made = []

    def make(**settings):
        other = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "PUBLIC_URL": PUBLIC_URL,
                            "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True,
                            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN} | settings)
        get_engine(other).dispose()
        other.extensions["oncall_db"] = app.extensions["oncall_db"]  # the test's connection and transaction
        made.append(other)
        return other.test_client()

    return make


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_429(response) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    assert int(response.headers["Retry-After"]) >= 1


def test_the_suite_runs_without_limits_and_a_deployment_with_them(app, limited):
    assert app.extensions["oncall_limiter"].enabled is False
    defaults = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x" * 32})
    assert defaults.extensions["oncall_limiter"].enabled is True
    assert defaults.config["RATELIMIT_API"] == "1200 per minute" and defaults.config["RATELIMIT_ALERTS"] == ""
    get_engine(defaults).dispose()


def test_the_api_is_limited_per_token(limited, make_token, make_user):
    client = limited(RATELIMIT_API="5 per hour")
    mine, theirs = make_token("a@example.com"), make_token("b@example.com")
    for _ in range(5):
        response = client.get("/api/v1/users", headers=bearer(mine))
        assert response.status_code == 200 and response.headers["X-RateLimit-Limit"] == "5"
    over = client.get("/api/v1/users", headers=bearer(mine))
    assert_429(over)
    assert over.json["error"]["code"] == "TooManyRequests" and "per API token" in over.json["error"]["message"]
    assert client.get("/api/v1/users", headers=bearer(theirs)).status_code == 200


def test_requests_without_a_token_are_limited_per_address(limited):
    client = limited(RATELIMIT_API="3 per hour")
    for _ in range(3):
        assert client.get("/api/v1/users").status_code == 401
    assert_429(client.get("/api/v1/users"))
    assert client.get("/api/v1/users", environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 401


def test_a_storm_of_alerts_is_never_throttled(limited, api, make_team):
    """1,000 Alertmanager notifications from one Alertmanager (alerts grouped one per notification), and
    incidents opened through the API meanwhile, with the API's limit far below: every one is taken."""
    team = make_team()
    integration = api.post(f"/api/v1/teams/{team['id']}/integrations", json={"type": "alertmanager"}).json["token"]
    client = limited(RATELIMIT_API="5 per hour")
    for i in range(1000):
        # The same alert again and again after the first: repeats are cheap, the limiter sees 1,000 requests.
        response = client.post("/api/v1/integrations/alertmanager", json=payload(alert(fingerprint=f"{i % 10:016x}")),
                               headers=bearer(integration))
        assert response.status_code == 200, (i, response.json)
    for i in range(10):
        response = client.post("/api/v1/incidents", headers=bearer(api.token),
                               json={"team_id": team["id"], "severity": "SEV2", "title": f"Scripted {i}"})
        assert response.status_code == 201, (i, response.json)


def test_alert_intake_can_be_capped_when_asked(limited, api, make_team):
    team = make_team()
    integration = api.post(f"/api/v1/teams/{team['id']}/integrations", json={"type": "alertmanager"}).json["token"]
    client = limited(RATELIMIT_ALERTS="2 per hour")
    for _ in range(2):
        assert client.post("/api/v1/integrations/alertmanager", json=payload(alert()),
                           headers=bearer(integration)).status_code == 200
    assert_429(client.post("/api/v1/integrations/alertmanager", json=payload(alert()), headers=bearer(integration)))


def test_refused_alertmanager_requests_are_limited_but_a_valid_token_never_is(limited, api, make_team):
    team = make_team()
    integration = api.post(f"/api/v1/teams/{team['id']}/integrations", json={"type": "alertmanager"}).json["token"]
    client = limited(RATELIMIT_WEBHOOK_REFUSALS="3 per hour")
    for _ in range(3):
        assert client.post("/api/v1/integrations/alertmanager", json=payload(alert()),
                           headers=bearer("wrong")).status_code == 401
    assert_429(client.post("/api/v1/integrations/alertmanager", json=payload(alert()), headers=bearer("wrong")))
    # Same address, the right token (someone fixed Alertmanager's configuration): taken at once.
    assert client.post("/api/v1/integrations/alertmanager", json=payload(alert()),
                       headers=bearer(integration)).status_code == 200


def _signed(path: str, params: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, params)}


def test_forged_twilio_requests_are_limited_but_signed_ones_never_are(limited):
    client = limited(RATELIMIT_WEBHOOK_REFUSALS="3 per hour")
    params = {"From": "+19995550000", "To": "+15005550006", "Body": "hello", "MessageSid": "SM" + "1" * 32}
    for _ in range(3):
        assert client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": "forged"}).status_code == 403
    assert_429(client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": "forged"}))
    for _ in range(50):  # Twilio itself, from the same address: replies and status callbacks all taken
        assert client.post("/twilio/sms", data=params, headers=_signed("/twilio/sms", params)).status_code == 200


def test_calendar_feeds_are_limited_per_address(limited, api, make_rotation):
    rotation = make_rotation()
    url = api.post("/api/v1/calendar-feeds", json={"scope": "rotation", "id": rotation["id"]}).json["url"]
    path = url.removeprefix(PUBLIC_URL)
    client = limited(RATELIMIT_FEEDS="3 per hour")
    for _ in range(3):
        assert client.get(path).status_code == 200
    assert_429(client.get(path))
    assert client.get(path, environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200
    # The API and the web pages are counted apart from the feeds.
    assert client.get("/api/v1/users", headers=bearer(api.token)).status_code == 200


def test_each_limit_can_be_turned_off(limited, make_token):
    client = limited(RATELIMIT_API="")
    token = make_token()
    for _ in range(30):
        assert client.get("/api/v1/users", headers=bearer(token)).status_code == 200
