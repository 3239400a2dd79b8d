"""The fake Twilio itself: it must reject what real Twilio's API description rejects, or the gateway tests
prove nothing. Driven with plain HTTP (requests), not the SDK, so each wrong field can be sent on purpose."""
import pytest
import requests

from tests.paging.fake_twilio import FakeTwilio, require_spec, response_validator

MESSAGE = {"To": "+14155550101", "From": "+15005550006", "Body": "hello",
           "StatusCallback": "https://oncall.example.com/twilio/status"}
CALL = {"To": "+14155550101", "From": "+15005550006", "Twiml": "<Response><Say>hi</Say></Response>",
        "StatusCallback": "https://oncall.example.com/twilio/status", "StatusCallbackEvent": ["answered", "completed"]}


@pytest.fixture()
def post(fake_twilio):
    def post(resource: str, data: dict, *, auth=None, account=None, **kwargs):
        account = account or fake_twilio.account_sid
        url = f"{fake_twilio.base_url}/2010-04-01/Accounts/{account}/{resource}"
        auth = auth if auth is not None else (fake_twilio.account_sid, fake_twilio.auth_token)
        return requests.post(url, data=data, auth=auth, timeout=5, **kwargs)

    return post


def assert_twilio_error(response, status: int, code: int):
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {"code": code, "message": body["message"], "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}
    assert body["message"]


def test_valid_message_is_created_shaped_like_the_spec(post, fake_twilio):
    response = post("Messages.json", MESSAGE)
    assert response.status_code == 201
    body = response.json()
    assert body["sid"].startswith("SM") and len(body["sid"]) == 34
    assert (body["status"], body["to"], body["from"], body["body"]) == ("queued", *[MESSAGE[k] for k in ("To", "From", "Body")])
    operation = fake_twilio.router.operation("/2010-04-01/Accounts/{AccountSid}/Messages.json", "POST")
    assert set(body) == set(operation.response_schema["properties"])
    response_validator(operation).validate(body)
    received = fake_twilio.requests[-1]
    assert (received.operation_id, received.sid, received["Body"]) == ("CreateMessage", body["sid"], "hello")


@pytest.mark.parametrize("sender", ["+15005550006", "AcmeCo", "Oncall 24x7", "whatsapp:+15005550006"])
def test_a_message_may_come_from_a_number_a_sender_id_or_a_channel(post, sender):
    assert post("Messages.json", MESSAGE | {"From": sender}).status_code == 201


def test_valid_call_is_created_shaped_like_the_spec(post, fake_twilio):
    response = post("Calls.json", CALL)
    assert response.status_code == 201
    body = response.json()
    assert body["sid"].startswith("CA") and len(body["sid"]) == 34 and body["status"] == "queued"
    operation = fake_twilio.router.operation("/2010-04-01/Accounts/{AccountSid}/Calls.json", "POST")
    response_validator(operation).validate(body)
    assert fake_twilio.calls[-1].getlist("StatusCallbackEvent") == ["answered", "completed"]


def test_response_validator_is_not_vacuous(fake_twilio):
    operation = fake_twilio.router.operation("/2010-04-01/Accounts/{AccountSid}/Messages.json", "POST")
    with pytest.raises(Exception, match="does not match"):
        response_validator(operation).validate({"sid": "XX" + "0" * 32, "status": "queued"})
    with pytest.raises(Exception, match="is not one of"):
        response_validator(operation).validate({"status": "teleported"})


@pytest.mark.parametrize("resource, data, code, word", [
    ("Messages.json", MESSAGE | {"Bodyy": "typo"}, 20001, "Bodyy"),                  # not in the requestBody schema
    ("Messages.json", {k: v for k, v in MESSAGE.items() if k != "To"}, 21604, "To"),   # required by the spec
    ("Messages.json", MESSAGE | {"To": "4155550101"}, 21211, "To"),                   # format phone-number
    ("Messages.json", MESSAGE | {"To": "AcmeCo"}, 21211, "To"),                       # a sender ID, not a recipient
    ("Messages.json", MESSAGE | {"From": "4155550101"}, 60200, "From"),
    ("Messages.json", MESSAGE | {"From": "Twelve chars"}, 60200, "From"),
    ("Messages.json", MESSAGE | {"StatusCallback": "not a url"}, 60200, "StatusCallback"),  # format uri
    ("Messages.json", MESSAGE | {"ValidityPeriod": "soon"}, 60200, "ValidityPeriod"),  # type integer
    ("Messages.json", MESSAGE | {"ProvideFeedback": "maybe"}, 60200, "ProvideFeedback"),  # type boolean
    ("Messages.json", MESSAGE | {"TrafficType": "paid"}, 60200, "TrafficType"),       # enum via $ref
    ("Messages.json", MESSAGE | {"MessagingServiceSid": "MG123"}, 60200, "MessagingServiceSid"),  # pattern
    ("Messages.json", {"To": "+14155550101", "Body": "x"}, 21603, "From"),            # docs: From or service
    ("Messages.json", {"To": "+14155550101", "From": "+15005550006"}, 21602, "body"),  # docs: some content
    ("Messages.json", MESSAGE | {"Body": "x" * 1601}, 21617, "1600"),                 # docs: 1600 characters
    ("Calls.json", {k: v for k, v in CALL.items() if k != "From"}, 21213, "From"),
    ("Calls.json", {k: v for k, v in CALL.items() if k != "To"}, 21201, "To"),
    ("Calls.json", CALL | {"StatusCallbackMethod": "PUT"}, 60200, "StatusCallbackMethod"),  # enum
    ("Calls.json", CALL | {"StatusCallbackEvent": ["answered", "hungup"]}, 60200, "StatusCallbackEvent"),
    ("Calls.json", CALL | {"Timeout": "1.5"}, 60200, "Timeout"),
    ("Calls.json", CALL | {"Twiml": "<Say>not a Response</Say>"}, 60200, "Twiml"),
    ("Calls.json", CALL | {"Twiml": "<Response><Say>unclosed</Response>"}, 60200, "Twiml"),
    ("Calls.json", CALL | {"Twiml": "<Response>" + "x" * 4000 + "</Response>"}, 60200, "4000"),
    ("Calls.json", {k: v for k, v in CALL.items() if k != "Twiml"}, 60200, "Twiml"),
])
def test_invalid_requests_are_rejected_with_a_twilio_error(post, fake_twilio, resource, data, code, word):
    response = post(resource, data)
    assert_twilio_error(response, 400, code)
    assert word in response.json()["message"]
    assert fake_twilio.requests[-1].status == 400 and fake_twilio.requests[-1].sid is None
    assert fake_twilio.messages == [] and fake_twilio.calls == []


@pytest.mark.parametrize("auth, account", [
    (("AC" + "f" * 32, "fake-auth-token"), None),   # another account
    (None, None),                                    # wrong token (filled in below)
    (("", ""), None),
])
def test_basic_auth_must_name_the_account(post, fake_twilio, auth, account):
    auth = auth or (fake_twilio.account_sid, "wrong-token")
    assert_twilio_error(post("Messages.json", MESSAGE, auth=auth, account=account), 401, 20003)


def test_path_account_must_be_the_authenticated_one(fake_twilio):
    other = "AC" + "e" * 32
    response = requests.post(f"{fake_twilio.base_url}/2010-04-01/Accounts/{other}/Messages.json", data=MESSAGE,
                             auth=(fake_twilio.account_sid, fake_twilio.auth_token), timeout=5)
    assert_twilio_error(response, 401, 20003)


def test_unknown_path_and_wrong_method(fake_twilio):
    auth = (fake_twilio.account_sid, fake_twilio.auth_token)
    base = f"{fake_twilio.base_url}/2010-04-01/Accounts/{fake_twilio.account_sid}"
    assert_twilio_error(requests.post(f"{base}/Texts.json", data=MESSAGE, auth=auth, timeout=5), 404, 20404)
    assert_twilio_error(requests.put(f"{base}/Messages.json", data=MESSAGE, auth=auth, timeout=5), 405, 20004)
    # The account SID in the path must match the spec's pattern ^AC[0-9a-fA-F]{32}$.
    bad = f"{fake_twilio.base_url}/2010-04-01/Accounts/ACnothex/Messages.json"
    assert_twilio_error(requests.post(bad, data=MESSAGE, auth=auth, timeout=5), 404, 20404)


def test_json_bodies_are_refused(post):
    response = post("Messages.json", None, json=MESSAGE)
    assert_twilio_error(response, 400, 60200)
    assert "x-www-form-urlencoded" in response.json()["message"]


def test_fail_next_fails_exactly_that_many_valid_requests(post, fake_twilio):
    fake_twilio.fail_next(2, status=503)
    assert_twilio_error(post("Messages.json", MESSAGE | {"To": "bad"}), 400, 21211)  # invalid: not consumed
    assert_twilio_error(post("Messages.json", MESSAGE), 503, 20503)
    assert_twilio_error(post("Messages.json", MESSAGE), 503, 20503)
    assert post("Messages.json", MESSAGE).status_code == 201
    fake_twilio.fail_next(status=400, code=21610, message="Attempt to send to unsubscribed recipient")
    response = post("Messages.json", MESSAGE)
    assert_twilio_error(response, 400, 21610)
    assert response.json()["message"] == "Attempt to send to unsubscribed recipient"
    assert [r.status for r in fake_twilio.requests] == [400, 503, 503, 201, 400]
    assert len(fake_twilio.messages) == 1


def test_signed_webhooks_verify_with_the_sdk_validator(fake_twilio):
    from twilio.request_validator import RequestValidator

    hook = fake_twilio.webhook("https://oncall.example.com/twilio/voice?incident=4", {"Digits": "1", "To": "+1"})
    validator = RequestValidator(fake_twilio.auth_token)
    assert validator.validate(hook.url, hook.params, hook.headers["X-Twilio-Signature"])
    assert not validator.validate(hook.url.replace("4", "5"), hook.params, hook.headers["X-Twilio-Signature"])
    assert (hook.path, hook.base_url) == ("/twilio/voice?incident=4", "https://oncall.example.com")


def test_a_second_server_can_run_with_other_credentials():
    require_spec()
    with FakeTwilio(account_sid="AC" + "a" * 32, auth_token="other") as other:
        response = requests.post(f"{other.base_url}/2010-04-01/Accounts/{other.account_sid}/Messages.json",
                                 data=MESSAGE, auth=(other.account_sid, "other"), timeout=5)
        assert response.status_code == 201
        assert len(other.messages) == 1
