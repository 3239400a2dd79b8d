"""TwilioGateway through the real twilio SDK, against the fake Twilio on 127.0.0.1."""
import socket

import pytest

from oncall.errors import DeliveryFailed, TransientDeliveryFailure
from oncall.paging.gateway import BaseUrlHttpClient, TwilioGateway, valid_signature
from oncall.paging.notifier import Notifier
from tests.paging.conftest import OUR_NUMBER

CALLBACK = "https://oncall.example.com/twilio/status"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Page</Say></Response>'


def test_is_a_notifier_named_twilio(twilio_gateway):
    notifier: Notifier = twilio_gateway
    assert notifier.name == "twilio"


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"])
def test_from_config_without_credentials_is_none(twilio_config, missing):
    assert TwilioGateway.from_config(twilio_config | {missing: None}) is None
    assert TwilioGateway.from_config(twilio_config | {missing: ""}) is None


def test_from_config_without_base_url_talks_to_twilio_itself(twilio_config):
    gateway = TwilioGateway.from_config({k: v for k, v in twilio_config.items() if k != "TWILIO_BASE_URL"})
    try:
        assert not isinstance(gateway._client.http_client, BaseUrlHttpClient)
        assert gateway._client.http_client.timeout == 10.0
    finally:
        gateway.close()


@pytest.mark.parametrize("concurrency,pooled", [(None, 8), ("16", 16)])
def test_the_connection_pool_holds_every_request_the_outbox_has_in_flight(twilio_config, concurrency, pooled):
    # With fewer pooled connections than requests in flight, each extra request opens a connection and drops it.
    gateway = TwilioGateway.from_config(twilio_config | {"OUTBOX_CONCURRENCY": concurrency})
    try:
        session = gateway._client.http_client.session
        assert {session.get_adapter(url)._pool_maxsize for url in ("https://api.twilio.com/", "http://x/")} == {pooled}
    finally:
        gateway.close()


@pytest.mark.parametrize("url, expected", [
    ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
     "http://127.0.0.1:9/prefix/2010-04-01/Accounts/AC1/Messages.json"),
    ("https://api.us1.twilio.com/2010-04-01/Accounts/AC1/Calls.json?PageSize=5",
     "http://127.0.0.1:9/prefix/2010-04-01/Accounts/AC1/Calls.json?PageSize=5"),
    ("https://lookups.twilio.com/v2/PhoneNumbers/+1", "http://127.0.0.1:9/prefix/v2/PhoneNumbers/+1"),
    ("https://example.com/x", "https://example.com/x"),          # not Twilio: left alone
    ("https://nottwilio.com/x", "https://nottwilio.com/x"),
])
def test_base_url_client_rewrites_every_twilio_host(url, expected):
    assert BaseUrlHttpClient("http://127.0.0.1:9/prefix/").rewrite(url) == expected


def test_send_sms_sends_to_from_body_and_status_callback(twilio_gateway, fake_twilio):
    sid = twilio_gateway.send_sms(to="+14155550101", body="[SEV2] Checkout\nReply 12A to ack", status_callback=CALLBACK)
    assert sid.startswith("SM") and len(sid) == 34
    [sent] = fake_twilio.messages
    assert sent.sid == sid and sent.account_sid == fake_twilio.account_sid
    assert sent.form.to_dict(flat=False) == {"To": ["+14155550101"], "From": [OUR_NUMBER],
                                             "Body": ["[SEV2] Checkout\nReply 12A to ack"], "StatusCallback": [CALLBACK]}


def test_send_sms_without_callback_sends_no_callback_field(twilio_gateway, fake_twilio):
    twilio_gateway.send_sms(to="+14155550101", body="hi")
    assert "StatusCallback" not in fake_twilio.messages[0].form


def test_place_call_sends_twiml_and_status_events(twilio_gateway, fake_twilio):
    sid = twilio_gateway.place_call(to="+14155550102", twiml=TWIML, status_callback=CALLBACK)
    assert sid.startswith("CA") and len(sid) == 34
    [sent] = fake_twilio.calls
    assert (sent["To"], sent["From"], sent["Twiml"]) == ("+14155550102", OUR_NUMBER, TWIML)
    assert (sent["StatusCallback"], sent["StatusCallbackMethod"]) == (CALLBACK, "POST")
    assert sent.getlist("StatusCallbackEvent") == ["answered", "completed"]
    assert "Url" not in sent.form


def test_place_call_without_callback_asks_for_no_events(twilio_gateway, fake_twilio):
    twilio_gateway.place_call(to="+14155550102", twiml=TWIML)
    assert not {"StatusCallback", "StatusCallbackEvent", "StatusCallbackMethod"} & set(fake_twilio.calls[0].form)


@pytest.mark.parametrize("status, code", [(429, 20429), (500, 20500), (502, None), (503, 20503), (400, 20429)])
@pytest.mark.parametrize("channel", ["sms", "call"])
def test_rate_limits_and_server_errors_are_transient(twilio_gateway, fake_twilio, status, code, channel):
    fake_twilio.fail_next(status=status, code=code)
    with pytest.raises(TransientDeliveryFailure) as error:
        send(twilio_gateway, channel)
    assert f"HTTP {status}" in str(error.value)
    # The next attempt (the outbox's retry) goes through.
    assert send(twilio_gateway, channel)


@pytest.mark.parametrize("status, code", [(400, 21211), (400, 21610), (400, 21614), (401, 20003), (404, 20404)])
@pytest.mark.parametrize("channel", ["sms", "call"])
def test_rejections_are_permanent_and_name_the_twilio_code(twilio_gateway, fake_twilio, status, code, channel):
    fake_twilio.fail_next(status=status, code=code, message="Rejected on purpose")
    with pytest.raises(DeliveryFailed) as error:
        send(twilio_gateway, channel)
    assert not isinstance(error.value, TransientDeliveryFailure)
    assert f"error {code}" in str(error.value) and "Rejected on purpose" in str(error.value)


def test_an_invalid_number_is_rejected_by_twilio_not_retried(twilio_gateway, fake_twilio):
    with pytest.raises(DeliveryFailed, match="error 21211") as error:
        twilio_gateway.send_sms(to="0041 not a number", body="x")
    assert not isinstance(error.value, TransientDeliveryFailure)


def test_wrong_credentials_are_permanent(twilio_config, fake_twilio):
    gateway = TwilioGateway.from_config(twilio_config | {"TWILIO_AUTH_TOKEN": "stale"})
    try:
        with pytest.raises(DeliveryFailed, match="error 20003"):
            gateway.send_sms(to="+14155550101", body="x")
    finally:
        gateway.close()


def test_timeouts_are_transient(twilio_config, fake_twilio):
    gateway = TwilioGateway.from_config(twilio_config | {"TWILIO_TIMEOUT_SECONDS": 0.2})
    try:
        fake_twilio.stall_next(1.0)
        with pytest.raises(TransientDeliveryFailure, match="could not be reached"):
            gateway.send_sms(to="+14155550101", body="x")
    finally:
        gateway.close()


def test_connection_refused_is_transient(twilio_config):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gateway = TwilioGateway.from_config(twilio_config | {"TWILIO_BASE_URL": f"http://127.0.0.1:{port}"})
    try:
        with pytest.raises(TransientDeliveryFailure, match="ConnectionError"):
            gateway.place_call(to="+14155550101", twiml=TWIML)
    finally:
        gateway.close()


def test_a_base_url_that_is_not_http_is_a_permanent_failure(twilio_config):
    gateway = TwilioGateway.from_config(twilio_config | {"TWILIO_BASE_URL": "ftp://127.0.0.1:1"})
    try:
        with pytest.raises(DeliveryFailed, match="could not be made") as error:
            gateway.send_sms(to="+14155550101", body="x")
        assert not isinstance(error.value, TransientDeliveryFailure)
    finally:
        gateway.close()


@pytest.mark.parametrize("token, url, params, signature, expected", [
    ("secret", "https://h/twilio/sms", {"Body": "1A"}, "SIGN", True),
    ("secret", "https://h/twilio/sms", {"Body": "1A"}, "SIGN-other-url", False),
    ("secret", "https://h/twilio/sms", {"Body": "1A"}, "SIGN-other-params", False),
    ("secret", "https://h/twilio/sms", {"Body": "1A"}, "", False),
    ("secret", "https://h/twilio/sms", {"Body": "1A"}, None, False),
    (None, "https://h/twilio/sms", {"Body": "1A"}, "SIGN", False),   # no token: nothing can be trusted
    ("", "https://h/twilio/sms", {"Body": "1A"}, "SIGN", False),
])
def test_valid_signature(token, url, params, signature, expected):
    from twilio.request_validator import RequestValidator

    real = RequestValidator("secret")
    signature = {"SIGN": real.compute_signature(url, params),
                 "SIGN-other-url": real.compute_signature(url + "?x=1", params),
                 "SIGN-other-params": real.compute_signature(url, {"Body": "1R"})}.get(signature, signature)
    assert valid_signature(token, url, params, signature) is expected


def send(gateway: TwilioGateway, channel: str) -> str:
    if channel == "sms":
        return gateway.send_sms(to="+14155550101", body="page", status_callback=CALLBACK)
    return gateway.place_call(to="+14155550101", twiml=TWIML, status_callback=CALLBACK)
