"""Every Twilio webhook refuses requests that Twilio did not sign, before anything changes."""
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from oncall.paging import texts
from oncall.people.models import User

PUBLIC_URL = "https://oncall.example.com"  # the test app's PUBLIC_URL (tests/conftest.py)
ENDPOINTS = ["/twilio/sms", "/twilio/voice?incident=1", "/twilio/status"]


def signed_headers(token: str, url: str, params: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


@pytest.fixture()
def stranger_params():
    # A text from a number nobody has: the answer needs no incident, so this file runs without the engine.
    return {"From": "+19995550000", "To": "+15005550006", "Body": "hello", "MessageSid": "SM" + "1" * 32}


def test_a_correctly_signed_request_is_accepted(client, twilio_config, stranger_params):
    url = f"{PUBLIC_URL}/twilio/sms"
    response = client.post("/twilio/sms", data=stranger_params,
                           headers=signed_headers(twilio_config["TWILIO_AUTH_TOKEN"], url, stranger_params))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert texts.SMS_USAGE.replace("<", "&lt;").replace(">", "&gt;") in response.text


def test_the_signed_url_is_the_public_url_not_the_one_the_app_sees(client, twilio_config, stranger_params):
    # Behind a proxy the app may see http://localhost; Twilio signed the public https URL it was given.
    token = twilio_config["TWILIO_AUTH_TOKEN"]
    seen_by_app = signed_headers(token, "http://localhost/twilio/sms", stranger_params)
    assert client.post("/twilio/sms", data=stranger_params, headers=seen_by_app).status_code == 403
    public = signed_headers(token, f"{PUBLIC_URL}/twilio/sms", stranger_params)
    assert client.post("/twilio/sms", data=stranger_params, headers=public,
                       base_url="http://localhost:8000").status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_missing_signature_is_forbidden(client, twilio_config, path):
    response = client.post(path, data={"From": "+14155550101", "Body": "STOP"})
    assert response.status_code == 403


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("forgery", ["wrong token", "other params", "no query", "other query", "garbage"])
def test_wrong_signature_is_forbidden(client, twilio_config, path, forgery):
    params = {"From": "+14155550101", "To": "+15005550006", "Body": "1A", "Digits": "1",
              "MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}
    url = PUBLIC_URL + path
    token = twilio_config["TWILIO_AUTH_TOKEN"]
    headers = {
        "wrong token": lambda: signed_headers("not-the-token", url, params),
        "other params": lambda: signed_headers(token, url, params | {"Body": "1R"}),
        "no query": lambda: signed_headers(token, url.partition("?")[0], params),
        "other query": lambda: signed_headers(token, url.partition("?")[0] + "?incident=2", params),
        "garbage": lambda: {"X-Twilio-Signature": "not base64 at all"},
    }[forgery]()
    if forgery == "no query" and "?" not in path:
        headers = signed_headers(token, url + "?x=1", params)  # a query that is not in the request
    assert client.post(path, data=params, headers=headers).status_code == 403


@pytest.mark.parametrize("token", [None, ""])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_no_auth_token_configured_rejects_everything(client, app, twilio_config, monkeypatch, token, path):
    params = {"From": "+14155550101", "Body": "hello"}
    headers = signed_headers(twilio_config["TWILIO_AUTH_TOKEN"], PUBLIC_URL + path, params)
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", token)
    assert client.post(path, data=params, headers=headers).status_code == 403
    # Not even a signature made with an empty key passes.
    assert client.post(path, data=params, headers=signed_headers(" ", PUBLIC_URL + path, params)).status_code == 403


def test_a_forged_stop_changes_nothing(client, session, twilio_config, make_user):
    user = make_user(phone="+14155550123")
    params = {"From": "+14155550123", "To": "+15005550006", "Body": "STOP", "OptOutType": "STOP"}
    headers = signed_headers("attacker-guess", f"{PUBLIC_URL}/twilio/sms", params)
    assert client.post("/twilio/sms", data=params, headers=headers).status_code == 403
    assert session.scalar(select(User.sms_opted_out).where(User.id == user["id"])) is False


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_routed(client, twilio_config, method):
    assert getattr(client, method)("/twilio/sms").status_code == 405


@pytest.mark.parametrize("path, params", [
    ("/twilio/sms", {"From": "+1415\x00555", "Body": "AA"}),
    ("/twilio/voice?incident=1", {"To": "+1415\x00555", "Digits": "1"}),
    ("/twilio/status", {"MessageSid": "SM\x00", "MessageStatus": "delivered"}),
])
def test_nul_characters_are_refused_not_a_server_error(client, twilio_config, path, params):
    # PostgreSQL rejects NUL in text parameters; a signed request carrying one must still not cause a 500.
    headers = signed_headers(twilio_config["TWILIO_AUTH_TOKEN"], PUBLIC_URL + path, params)
    assert client.post(path, data=params, headers=headers).status_code == 400
