"""The profile page: name, time zone and phone; a new phone is verified by a code sent through the outbox;
which channels reach the person; a test page; the team's warning about people who cannot be paged."""
import pytest
from sqlalchemy import select

from oncall.paging.models import TEST_PAGE, VERIFY_PHONE, Notification
from oncall.people import phones
from oncall.people.models import PhoneVerification, User
from oncall.people.tokens import create_api_token
from tests.conftest import ApiClient


@pytest.fixture()
def fixed_code(monkeypatch):
    monkeypatch.setattr(phones.secrets, "randbelow", lambda n: 135790)
    return "135790"


def _messages(session, user_id, purpose):
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                           Notification.purpose == purpose)))


def test_profile_shows_the_person_and_what_reaches_them(scenario, browser):
    html = browser(scenario.bob).get("/profile").get_data(as_text=True)
    assert 'name="name"' in html and scenario.bob.name in html and scenario.bob.phone in html
    assert "verified" in html and "Send me a test page" in html
    assert "SMS: <strong>yes</strong>" in html and "Voice call: <strong>yes</strong>" in html


def test_profile_needs_signing_in(client):
    response = client.get("/profile")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_new_phone_is_unverified_until_its_code_comes_back(scenario, browser, session, fixed_code):
    b = browser(scenario.bob)
    saved = b.post("/profile", {"name": "Bob Renamed", "time_zone": "Europe/Berlin", "phone": "+49 151 2345 6789"})
    assert saved.status_code == 303
    session.expire_all()
    bob = session.get(User, scenario.bob.id)
    assert (bob.name, bob.time_zone, bob.phone, bob.phone_verified) == (
        "Bob Renamed", "Europe/Berlin", "+4915123456789", False)
    [code_sms] = _messages(session, bob.id, VERIFY_PHONE)
    assert fixed_code in code_sms.body and code_sms.to == "+4915123456789"
    html = b.get("/profile").get_data(as_text=True)
    assert "is not verified yet" in html and 'id="verify-form"' in html and "Send me a test page" not in html
    assert "SMS: <span class=\"alert\">no</span>" in html
    # the team sees that Bob cannot be paged
    dashboard = browser(scenario.alice).get("/").get_data(as_text=True)
    assert "Cannot be paged" in dashboard and "Bob Renamed, +4915123456789 not verified" in dashboard

    wrong = b.post("/profile/phone/verify", {"code": "000000"})
    assert wrong.status_code == 422 and "Wrong code; 4 tries left." in wrong.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(PhoneVerification.attempts).where(PhoneVerification.user_id == bob.id)) == 1
    assert session.get(User, bob.id).phone_verified is False

    right = b.post("/profile/phone/verify", {"code": fixed_code})
    assert right.status_code == 303
    session.expire_all()
    assert session.get(User, bob.id).phone_verified is True
    assert "Cannot be paged" not in browser(scenario.alice).get("/").get_data(as_text=True)


def test_saving_the_same_phone_keeps_it_verified(scenario, browser, session):
    b = browser(scenario.bob)
    assert b.post("/profile", {"name": "Bob", "time_zone": "UTC", "phone": scenario.bob.phone}).status_code == 303
    session.expire_all()
    assert session.get(User, scenario.bob.id).phone_verified is True
    assert _messages(session, scenario.bob.id, VERIFY_PHONE) == []


def test_a_blank_phone_removes_it(scenario, browser, session):
    assert browser(scenario.bob).post("/profile", {"name": "Bob", "time_zone": "UTC", "phone": ""}).status_code == 303
    session.expire_all()
    bob = session.get(User, scenario.bob.id)
    assert bob.phone is None and bob.phone_verified is False


def test_resend_is_refused_within_a_minute_with_a_message(scenario, browser, session):
    b = browser(scenario.bob)
    b.post("/profile", {"name": "Bob", "time_zone": "UTC", "phone": "+14155550000"})
    again = b.post("/profile/phone/code")
    assert again.status_code == 422 and "A code was just sent" in again.get_data(as_text=True)
    assert len(_messages(session, scenario.bob.id, VERIFY_PHONE)) == 1


@pytest.mark.parametrize("code, api_code", [("", ""), ("1" * 21, "1" * 21)])
def test_the_code_form_refuses_what_the_api_refuses(scenario, browser, client, session, code, api_code):
    b = browser(scenario.bob)
    b.post("/profile", {"name": "Bob", "time_zone": "UTC", "phone": "+14155550000"})
    api = ApiClient(client, create_api_token(session, user=scenario.bob))
    session.commit()
    api_response = api.post(f"/api/v1/users/{scenario.bob.id}/phone-verification/confirm", json={"code": api_code})
    assert api_response.status_code == 422 and "code" in api_response.json["error"]["fields"]
    web = b.post("/profile/phone/verify", {"code": code})
    assert web.status_code == 422 and 'class="error">' in web.get_data(as_text=True)
    session.expire_all()
    # refused before any code was checked: no try used up
    assert session.scalar(select(PhoneVerification.attempts).where(PhoneVerification.user_id == scenario.bob.id)) == 0


def test_test_page_goes_through_the_outbox(scenario, browser, session):
    b = browser(scenario.bob)
    assert b.post("/profile/test-page").status_code == 303
    [row] = _messages(session, scenario.bob.id, TEST_PAGE)
    assert row.state == "pending" and row.incident_id is None and "test page" in row.body


def test_test_page_is_refused_for_an_unverified_number(scenario, browser, session):
    b = browser(scenario.bob)
    b.post("/profile", {"name": "Bob", "time_zone": "UTC", "phone": "+14155550000"})
    refused = b.post("/profile/test-page")
    assert refused.status_code == 422 and "verify your phone number first" in refused.get_data(as_text=True)
    assert _messages(session, scenario.bob.id, TEST_PAGE) == []


def test_the_warning_is_for_the_team_only(scenario, browser, session):
    scenario.carol.phone = None
    session.commit()
    assert "Cannot be paged" in browser(scenario.bob).get("/").get_data(as_text=True)
    assert "Cannot be paged" not in browser(scenario.outsider).get("/").get_data(as_text=True)
