"""From an API call to a phone and back: the outbox sends through TwilioGateway (the real SDK) to the fake
Twilio, which checks each request against Twilio's API description; Twilio's callbacks and the person's
replies come back signed to the webhooks."""
import re
from xml.etree import ElementTree as ET

import pytest

from oncall.clock import utcnow
from oncall.db import get_sessionmaker
from oncall.paging import outbox, texts
from oncall.paging.dispatch import notifier_from_config
from oncall.paging.gateway import TwilioGateway
from tests.paging.conftest import OUR_NUMBER

PUBLIC_URL = "https://oncall.example.com"


@pytest.fixture()
def gateway(app, twilio_config):
    """What the worker builds from the app's config: with TWILIO_* set, the Twilio gateway."""
    notifier = notifier_from_config(app.config)
    assert isinstance(notifier, TwilioGateway)
    yield notifier
    notifier.close()


@pytest.fixture()
def open_incident(api, make_user, make_rotation):
    def make(severity: str) -> tuple[dict, dict]:
        user = make_user(phone="+14155550142")
        rotation = make_rotation([user["id"]])
        response = api.post("/api/v1/incidents", json={
            "team_id": rotation["team_id"], "severity": severity, "title": "Checkout errors at 5%",
            "links": {"runbook": "https://runbooks.example.com/checkout"}})
        assert response.status_code == 201, response.json
        return response.json, user

    return make


def dispatch(app, gateway) -> int:
    return outbox.dispatch_due(get_sessionmaker(app), gateway, now=utcnow(), public_url=app.config["PUBLIC_URL"])


def detail(api, incident_id: int) -> dict:
    return api.get(f"/api/v1/incidents/{incident_id}").json


def test_sms_page_then_delivery_status_then_ack_by_reply(app, api, client, fake_twilio, gateway, open_incident):
    incident, user = open_incident("SEV3")  # SEV3's first step pages by SMS only

    assert dispatch(app, gateway) == 1
    [sms] = fake_twilio.messages
    assert sms["To"] == user["phone"] and sms["From"] == OUR_NUMBER
    [notification] = detail(api, incident["id"])["notifications"]
    assert sms["StatusCallback"] == f"{PUBLIC_URL}/twilio/status?notification={notification['id']}"
    assert sms["Body"] == texts.sms_page(severity="SEV3", title="Checkout errors at 5%", code=incident["code"],
                                         runbook="https://runbooks.example.com/checkout",
                                         link=f"{PUBLIC_URL}/incidents/{incident['id']}")
    assert sms["Body"].endswith(f"Reply {incident['code']}A to ack, {incident['code']}R to resolve, "
                                f"{incident['code']}E to escalate")
    [notification] = detail(api, incident["id"])["notifications"]
    assert (notification["state"], notification["provider_id"]) == ("sent", sms.sid)

    # Twilio reports delivery; a repeated or late callback changes nothing.
    for status in ("sent", "delivered", "delivered", "sent"):
        assert fake_twilio.status_callback(sms.sid, status).post(client).status_code == 204
    after = detail(api, incident["id"])
    assert after["notifications"][0]["status"] == "delivered"
    assert [e["message"] for e in after["timeline"] if e["kind"] == "delivery"] == [
        f"SMS to {user['name']}: sent.", f"SMS to {user['name']}: delivered."]

    # The on-call engineer replies from the phone that was paged.
    reply = fake_twilio.incoming_sms(f"{PUBLIC_URL}/twilio/sms", from_=user["phone"], to=OUR_NUMBER,
                                     body=f"{incident['code']}A")
    response = reply.post(client)
    assert response.status_code == 200
    assert ET.fromstring(response.text).find("Message").text == f"Acknowledged {incident['code']}."
    after = detail(api, incident["id"])
    assert (after["status"], after["acknowledged_via"], after["acknowledged_by_id"]) == ("acknowledged", "sms", user["id"])
    assert dispatch(app, gateway) == 0 and len(fake_twilio.requests) == 1  # nothing else goes out


def test_voice_page_then_keypress_acknowledges(app, api, client, fake_twilio, gateway, open_incident):
    incident, user = open_incident("SEV2")  # SMS and a call at once

    assert dispatch(app, gateway) == 2
    [call] = fake_twilio.calls
    assert (call["To"], call["From"]) == (user["phone"], OUR_NUMBER)
    assert call.getlist("StatusCallbackEvent") == ["answered", "completed"]
    action = ET.fromstring(call["Twiml"]).find("Gather").get("action")
    assert action == f"{PUBLIC_URL}/twilio/voice?incident={incident['id']}"

    assert fake_twilio.status_callback(call.sid, "in-progress").post(client).status_code == 204
    response = fake_twilio.gather(action, call_sid=call.sid, digits="1").post(client)
    assert response.status_code == 200
    assert ET.fromstring(response.text).find("Say").text == f"Incident {incident['code']} acknowledged. Goodbye."
    assert fake_twilio.status_callback(call.sid, "completed", CallDuration="21").post(client).status_code == 204

    after = detail(api, incident["id"])
    assert (after["status"], after["acknowledged_via"], after["acknowledged_by_id"]) == ("acknowledged", "voice", user["id"])
    voice = next(n for n in after["notifications"] if n["channel"] == "voice")
    assert (voice["provider_id"], voice["status"]) == (call.sid, "completed")


def test_an_unanswered_call_falls_back_to_sms(app, api, client, fake_twilio, gateway, make_user):
    user = make_user(phone="+14155550143")
    team = api.post("/api/v1/teams", json={"name": "Voice only", "slug": "voice-only", "time_zone": "UTC"}).json
    assert api.put(f"/api/v1/teams/{team['id']}/members", json={"user_ids": [user["id"]]}).status_code == 200
    policy = {"repeat": 0, "steps": [{"delay_minutes": 0, "targets": [{"type": "user", "id": user["id"]}],
                                      "channels": ["voice"]}]}
    assert api.put(f"/api/v1/teams/{team['id']}/escalation-policies/SEV1", json=policy).status_code == 200
    incident = api.post("/api/v1/incidents", json={"team_id": team["id"], "severity": "SEV1",
                                                   "title": "Database down"}).json

    assert dispatch(app, gateway) == 1
    [call] = fake_twilio.calls
    assert fake_twilio.status_callback(call.sid, "no-answer").post(client).status_code == 204
    assert dispatch(app, gateway) == 1
    [sms] = fake_twilio.messages
    assert sms["To"] == user["phone"] and f"Reply {incident['code']}A" in sms["Body"]
    assert [e["kind"] for e in detail(api, incident["id"])["timeline"]].count("fallback") == 1


def test_twilio_rejecting_the_sms_falls_back_to_a_call(app, api, fake_twilio, gateway, open_incident):
    incident, user = open_incident("SEV3")
    fake_twilio.fail_next(status=400, code=21610, message="Attempt to send to unsubscribed recipient")
    assert dispatch(app, gateway) == 1
    assert fake_twilio.messages == [] and fake_twilio.requests[-1].error_code == 21610
    assert dispatch(app, gateway) == 1
    [call] = fake_twilio.calls
    assert call["To"] == user["phone"]
    failed = next(n for n in detail(api, incident["id"])["notifications"] if n["channel"] == "sms")
    assert failed["state"] == "failed" and "error 21610" in failed["last_error"]


def test_a_twilio_outage_is_retried_later(app, api, fake_twilio, gateway, open_incident):
    incident, _ = open_incident("SEV3")
    fake_twilio.fail_next(status=503)
    assert dispatch(app, gateway) == 1
    [notification] = detail(api, incident["id"])["notifications"]
    assert (notification["state"], notification["attempts"]) == ("pending", 1)
    assert re.search(r"HTTP 503, error 20503", notification["last_error"])
    assert fake_twilio.messages == []


def test_unknown_sids_and_odd_callbacks_change_nothing(client, api, fake_twilio, twilio_config, open_incident):
    incident, _ = open_incident("SEV3")
    before = detail(api, incident["id"])
    status_url = f"{PUBLIC_URL}/twilio/status"
    unknown = {"MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered", "AccountSid": fake_twilio.account_sid}
    assert fake_twilio.webhook(status_url, unknown).post(client).status_code == 204
    call = {"CallSid": "CA" + "7" * 32, "CallStatus": "completed", "AccountSid": fake_twilio.account_sid}
    assert fake_twilio.webhook(status_url, call).post(client).status_code == 204
    assert fake_twilio.webhook(status_url, {"AccountSid": fake_twilio.account_sid}).post(client).status_code == 400
    assert fake_twilio.webhook(status_url, {"MessageSid": "SM" + "7" * 32}).post(client).status_code == 400
    assert detail(api, incident["id"]) == before
