"""SMS replies and voice keypresses arriving through signed Twilio webhooks act on incidents."""
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from oncall.paging import texts
from oncall.people.models import User
from tests.paging.conftest import OUR_NUMBER

PUBLIC_URL = "https://oncall.example.com"
SMS_URL = f"{PUBLIC_URL}/twilio/sms"


@pytest.fixture()
def paged(api, make_user, make_team, make_rotation):
    """Open an incident whose escalation step 0 pages `user` (the only person of the team's rotation)."""

    with_rotation: set[int] = set()

    def make(user: dict | None = None, *, severity: str = "SEV3", team: dict | None = None) -> tuple[dict, dict]:
        user = user or make_user()
        team = team or make_team()
        if team["id"] not in with_rotation:
            make_rotation([user["id"]], team_id=team["id"])
            with_rotation.add(team["id"])
        response = api.post("/api/v1/incidents", json={"team_id": team["id"], "severity": severity,
                                                       "title": "Checkout errors at 5%"})
        assert response.status_code == 201, response.json
        incident = response.json
        assert {n["user_id"] for n in incident_detail(api, incident["id"])["notifications"]} == {user["id"]}
        return incident, user

    return make


def incident_detail(api, incident_id: int) -> dict:
    response = api.get(f"/api/v1/incidents/{incident_id}")
    assert response.status_code == 200
    return response.json


def sms(client, fake_twilio, *, from_: str, body: str, **extra):
    response = fake_twilio.incoming_sms(SMS_URL, from_=from_, body=body, to=OUR_NUMBER, **extra).post(client)
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.text)


def message_of(root: ET.Element) -> str | None:
    assert root.tag == "Response"
    found = root.find("Message")
    return found.text if found is not None else None


def press(client, fake_twilio, *, incident_id, to: str, digits: str | None, query: str = "", **extra):
    url = f"{PUBLIC_URL}/twilio/voice?incident={incident_id}{query}"
    params = {"CallSid": "CA" + "9" * 32, "AccountSid": fake_twilio.account_sid, "From": OUR_NUMBER, "To": to,
              "CallStatus": "in-progress", "Direction": "outbound-api"} | extra
    if digits is not None:
        params["Digits"] = digits
    response = fake_twilio.webhook(url, params).post(client)
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.text)


def said(root: ET.Element) -> str:
    return " ".join(s.text for s in root.iter("Say"))


# --- SMS: one incident -----------------------------------------------------------------------------------
@pytest.mark.parametrize("reply, action, field", [
    ("{code}A", "acknowledged", "acknowledged_via"),
    ("{code} a", "acknowledged", "acknowledged_via"),
    ("{code}R", "resolved", "resolved_via"),
    ("{code}r.", "resolved", "resolved_via"),
])
def test_code_reply_acts_on_the_incident_via_sms(client, api, twilio_config, fake_twilio, paged, reply, action, field):
    incident, user = paged()
    root = sms(client, fake_twilio, from_=user["phone"], body=reply.format(code=incident["code"]))
    assert message_of(root) == f"{action.capitalize()} {incident['code']}."
    after = incident_detail(api, incident["id"])
    assert after["status"] == action and after[field] == "sms"
    assert after[field.replace("_via", "_by_id")] == user["id"]
    assert [e for e in after["timeline"] if e["kind"] == action][0]["via"] == "sms"


def test_escalate_reply_pages_the_next_step(client, api, twilio_config, fake_twilio, paged):
    incident, user = paged()
    root = sms(client, fake_twilio, from_=user["phone"], body=f"{incident['code']}E")
    assert message_of(root) == f"Escalated {incident['code']}."
    after = incident_detail(api, incident["id"])
    assert after["status"] == "triggered"
    [event] = [e for e in after["timeline"] if e["kind"] == "escalated"]
    assert (event["via"], event["user_id"]) == ("sms", user["id"])


def test_acknowledging_twice_says_so_and_changes_nothing(client, api, twilio_config, fake_twilio, paged):
    incident, user = paged()
    sms(client, fake_twilio, from_=user["phone"], body=f"{incident['code']}A")
    first = incident_detail(api, incident["id"])
    root = sms(client, fake_twilio, from_=user["phone"], body=f"{incident['code']}A")
    assert message_of(root) == f"Already acknowledged: {incident['code']}."
    assert incident_detail(api, incident["id"]) == first


def test_a_resolved_incident_no_longer_answers_to_its_code(client, api, twilio_config, fake_twilio, paged):
    incident, user = paged()
    sms(client, fake_twilio, from_=user["phone"], body=f"{incident['code']}R")
    for body in (f"{incident['code']}A", f"{incident['code']}E"):
        assert message_of(sms(client, fake_twilio, from_=user["phone"], body=body)) == texts.SMS_NO_MATCH
    assert incident_detail(api, incident["id"])["status"] == "resolved"


def test_unknown_codes_numbers_and_outsiders_get_the_same_answer(client, api, twilio_config, fake_twilio, paged,
                                                                  make_user):
    incident, user = paged()
    outsider = make_user()  # neither paged nor on the team
    before = incident_detail(api, incident["id"])
    answers = {
        message_of(sms(client, fake_twilio, from_=user["phone"], body=f"{incident['code'] + 1}A")),
        message_of(sms(client, fake_twilio, from_="+19995550123", body=f"{incident['code']}A")),
        message_of(sms(client, fake_twilio, from_=outsider["phone"], body=f"{incident['code']}R")),
        message_of(sms(client, fake_twilio, from_=outsider["phone"], body="AA")),
        message_of(sms(client, fake_twilio, from_="+19995550123", body="RR")),
    }
    assert answers == {texts.SMS_NO_MATCH}
    assert incident_detail(api, incident["id"]) == before


def test_a_team_member_who_was_not_paged_may_act(client, api, twilio_config, fake_twilio, paged, make_user):
    incident, _ = paged()
    colleague = make_user()
    team_id = incident["team_id"]
    members = api.get(f"/api/v1/teams/{team_id}").json["member_ids"]
    assert api.put(f"/api/v1/teams/{team_id}/members", json={"user_ids": [*members, colleague["id"]]}).status_code == 200
    root = sms(client, fake_twilio, from_=colleague["phone"], body=f"{incident['code']}A")
    assert message_of(root) == f"Acknowledged {incident['code']}."
    assert incident_detail(api, incident["id"])["acknowledged_by_id"] == colleague["id"]


def test_a_shared_phone_acts_as_the_person_who_was_paged(client, api, twilio_config, fake_twilio, paged, make_user):
    first = make_user(phone="+14155559000")
    second = make_user(phone="+14155559000")
    incident, _ = paged(second)
    sms(client, fake_twilio, from_="+14155559000", body=f"{incident['code']}A")
    assert incident_detail(api, incident["id"])["acknowledged_by_id"] == second["id"] != first["id"]


@pytest.mark.parametrize("body", ["hello", "ok", "A", "4521", "ack"])
def test_anything_else_gets_the_usage(client, twilio_config, fake_twilio, paged, body):
    incident, user = paged()
    assert message_of(sms(client, fake_twilio, from_=user["phone"], body=body)) == texts.SMS_USAGE


# --- SMS: everything paged to a phone -------------------------------------------------------------------
def test_aa_acknowledges_every_open_incident_paged_to_that_phone(client, api, twilio_config, fake_twilio, paged,
                                                                make_user):
    first, user = paged()
    second, _ = paged(user, team={"id": first["team_id"]}, severity="SEV2")
    someone_elses, _ = paged(make_user())
    root = sms(client, fake_twilio, from_=user["phone"], body="aa")
    codes = sorted([first["code"], second["code"]])
    assert message_of(root) == f"Acknowledged {codes[0]}, {codes[1]}."
    for incident in (first, second):
        after = incident_detail(api, incident["id"])
        assert (after["status"], after["acknowledged_via"], after["acknowledged_by_id"]) == ("acknowledged", "sms", user["id"])
    assert incident_detail(api, someone_elses["id"])["status"] == "triggered"

    # RR then resolves both, acknowledged or not; a second RR finds nothing open.
    root = sms(client, fake_twilio, from_=user["phone"], body="R R")
    assert message_of(root) == f"Resolved {codes[0]}, {codes[1]}."
    assert {incident_detail(api, i["id"])["resolved_via"] for i in (first, second)} == {"sms"}
    assert message_of(sms(client, fake_twilio, from_=user["phone"], body="RR")) == texts.SMS_NO_MATCH


def test_aa_reports_the_ones_already_acknowledged(client, api, twilio_config, fake_twilio, paged):
    first, user = paged()
    second, _ = paged(user, team={"id": first["team_id"]})
    sms(client, fake_twilio, from_=user["phone"], body=f"{first['code']}A")
    root = sms(client, fake_twilio, from_=user["phone"], body="AA")
    assert message_of(root) == f"Acknowledged {second['code']}. Already acknowledged: {first['code']}."


# --- SMS: opt-out keywords ------------------------------------------------------------------------------
def opted_out(session, user_id: int) -> bool:
    session.expire_all()
    return session.scalar(select(User.sms_opted_out).where(User.id == user_id))


@pytest.mark.parametrize("body, extra", [("STOP", {}), ("unsubscribe", {}), ("ALTO", {"OptOutType": "STOP"})])
def test_stop_opts_out_and_notes_it_on_open_paged_incidents(client, api, session, twilio_config, fake_twilio, paged,
                                                           body, extra):
    incident, user = paged()
    root = sms(client, fake_twilio, from_=user["phone"], body=body, **extra)
    assert root.tag == "Response" and len(root) == 0  # Twilio itself confirms the opt-out to the person
    assert opted_out(session, user["id"]) is True
    notes = [e for e in incident_detail(api, incident["id"])["timeline"]
             if e["kind"] == "opt_out" and e["via"] == "sms"]
    assert [(n["message"], n["user_id"]) for n in notes] == [("SMS opt-out: paging by voice", user["id"])]

    # A repeated STOP changes nothing and adds no second note.
    sms(client, fake_twilio, from_=user["phone"], body="STOP")
    assert len([e for e in incident_detail(api, incident["id"])["timeline"] if e["via"] == "sms"]) == 1


@pytest.mark.parametrize("body, extra", [("START", {}), ("unstop", {}), ("ARRIBA", {"OptOutType": "START"})])
def test_start_opts_back_in(client, session, twilio_config, fake_twilio, make_user, body, extra):
    user = make_user()
    sms(client, fake_twilio, from_=user["phone"], body="STOP")
    assert opted_out(session, user["id"]) is True
    root = sms(client, fake_twilio, from_=user["phone"], body=body, **extra)
    assert root.tag == "Response" and len(root) == 0
    assert opted_out(session, user["id"]) is False


def test_stop_without_open_incidents_still_opts_out(client, session, twilio_config, fake_twilio, make_user):
    user = make_user()
    sms(client, fake_twilio, from_=user["phone"], body="Stop")
    assert opted_out(session, user["id"]) is True


def test_stop_from_an_unknown_number_changes_nothing(client, session, twilio_config, fake_twilio, make_user):
    user = make_user()
    root = sms(client, fake_twilio, from_="+19995550100", body="STOP")
    assert root.tag == "Response" and len(root) == 0
    assert opted_out(session, user["id"]) is False


@pytest.mark.parametrize("body, extra", [("HELP", {}), ("AYUDA", {"OptOutType": "HELP"})])
def test_help_is_left_to_twilio(client, api, session, twilio_config, fake_twilio, paged, body, extra):
    incident, user = paged()
    before = incident_detail(api, incident["id"])
    root = sms(client, fake_twilio, from_=user["phone"], body=body, **extra)
    assert root.tag == "Response" and len(root) == 0
    assert opted_out(session, user["id"]) is False
    assert incident_detail(api, incident["id"]) == before


# --- voice ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("digits, status, field", [("1", "acknowledged", "acknowledged_via"),
                                                    ("2", "resolved", "resolved_via")])
def test_keypress_acts_on_the_incident_via_voice(client, api, twilio_config, fake_twilio, paged, digits, status, field):
    incident, user = paged(severity="SEV2")
    root = press(client, fake_twilio, incident_id=incident["id"], to=user["phone"], digits=digits)
    assert said(root) == f"Incident {incident['code']} {status}. Goodbye."
    after = incident_detail(api, incident["id"])
    assert (after["status"], after[field]) == (status, "voice")


def test_keypress_3_escalates(client, api, twilio_config, fake_twilio, paged):
    incident, user = paged(severity="SEV2")
    root = press(client, fake_twilio, incident_id=incident["id"], to=user["phone"], digits="3")
    assert said(root) == f"Incident {incident['code']} escalated. Goodbye."
    assert [e["via"] for e in incident_detail(api, incident["id"])["timeline"] if e["kind"] == "escalated"] == ["voice"]


def test_the_callee_is_the_to_number_not_the_from(client, api, twilio_config, fake_twilio, paged):
    incident, user = paged(severity="SEV2")
    # Swapped, as on a call *to* our number: From is the person, To is us. Not an answer to our page.
    root = press(client, fake_twilio, incident_id=incident["id"], to=OUR_NUMBER, digits="1", From=user["phone"])
    assert said(root) == "Sorry, this page is no longer available. Goodbye."
    assert incident_detail(api, incident["id"])["status"] == "triggered"


@pytest.mark.parametrize("digits", ["9", "0", "*", None, ""])
def test_a_wrong_key_repeats_the_menu_once_then_says_goodbye(client, api, twilio_config, fake_twilio, paged, digits):
    incident, user = paged(severity="SEV2")
    root = press(client, fake_twilio, incident_id=incident["id"], to=user["phone"], digits=digits)
    gather = root.find("Gather")
    assert gather.get("action") == f"{PUBLIC_URL}/twilio/voice?incident={incident['id']}&attempt=2"
    assert "Press 1 to acknowledge" in said(root)

    root = press(client, fake_twilio, incident_id=incident["id"], to=user["phone"], digits=digits, query="&attempt=2")
    assert root.find("Gather") is None and said(root) == "No valid choice received. Goodbye."
    # The repeated menu's own action URL is signed and accepted like the first one.
    root = press(client, fake_twilio, incident_id=incident["id"], to=user["phone"], digits="1", query="&attempt=2")
    assert said(root) == f"Incident {incident['code']} acknowledged. Goodbye."
    assert incident_detail(api, incident["id"])["status"] == "acknowledged"


def test_keypress_on_a_resolved_incident_says_so(client, api, twilio_config, fake_twilio, paged):
    incident, user = paged(severity="SEV2")
    assert api.post(f"/api/v1/incidents/{incident['id']}/resolve").status_code == 200
    for digits in "123":
        root = press(client, fake_twilio, incident_id=incident["id"], to=user["phone"], digits=digits)
        assert said(root) == f"Incident {incident['code']} was already resolved. Goodbye."
    after = incident_detail(api, incident["id"])
    assert (after["status"], after["resolved_via"]) == ("resolved", "api")


@pytest.mark.parametrize("incident_param", ["", "abc", "0", "999999", "99999999999999999999", "1.5"])
def test_a_bad_incident_parameter_is_a_polite_goodbye(client, twilio_config, fake_twilio, paged, incident_param):
    _, user = paged(severity="SEV2")
    root = press(client, fake_twilio, incident_id=incident_param, to=user["phone"], digits="1")
    assert said(root) == "Sorry, this page is no longer available. Goodbye."


def test_a_callee_who_may_not_act_hears_nothing_about_the_incident(client, api, twilio_config, fake_twilio, paged,
                                                                    make_user):
    incident, _ = paged(severity="SEV2")
    outsider = make_user()
    root = press(client, fake_twilio, incident_id=incident["id"], to=outsider["phone"], digits="2")
    assert said(root) == "Sorry, this page is no longer available. Goodbye."
    assert incident_detail(api, incident["id"])["status"] == "triggered"
