"""people/phones.py: only verified numbers are paged; a code sent through the outbox (and printed by the console
notifier) verifies a number; codes expire, tries and resends are limited; the API's phone-verification."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from oncall.paging import outbox
from oncall.paging.console import ConsoleNotifier
from oncall.paging.models import TEST_PAGE, VERIFY_PHONE, Notification
from oncall.people import phones
from oncall.people.models import PhoneVerification
from tests.incidents.conftest import PUBLIC_URL, T0, minutes, notifier, rotation, world  # noqa: F401

CODE = re.compile(r"verification code is (\d{6})")


def page_primary(world):
    world.set_policy("SEV2", [{"delay_minutes": 0, "targets": [rotation(world.primary_id)], "channels": ["sms"]},
                              {"delay_minutes": 10, "targets": [rotation(world.secondary_id)], "channels": ["sms"]}])


def messages(session, user_id, purpose):
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                           Notification.purpose == purpose)))


def console_dispatch(world, at) -> str:
    """Send what is due through the console notifier; what it printed."""
    out = io.StringIO()
    outbox.dispatch_due(world.sessions, ConsoleNotifier(out), public_url=PUBLIC_URL, now=at)
    return out.getvalue()


def test_an_unverified_number_is_not_paged(world, session):
    alice = world.users["alice"]
    phones.set_phone(session, alice, "+14155559999", vouched=False, now=T0)
    session.commit()
    page_primary(world)
    incident = world.open("SEV2")
    # alice (primary now) has only an unverified number: nobody on step 1, so step 2 pages carol at once
    assert world.pages(incident.id) == [("carol", "sms", 1, 0)]
    unreachable = next(e for e in world.timeline(incident.id) if e.kind == "unreachable")
    assert "Alice has no verified phone number" in unreachable.detail["message"]


def test_a_page_queued_before_the_number_changed_is_not_sent_to_the_new_unverified_one(world, session, notifier):
    page_primary(world)
    incident = world.open("SEV2")
    assert world.pages(incident.id) == [("alice", "sms", 0, 0)]
    alice = world.users["alice"]
    phones.set_phone(session, alice, "+14155559999", vouched=False, now=T0)
    session.commit()
    world.dispatch(T0)
    # the verification code went to the new number; the page went nowhere
    assert [m["to"] for m in notifier.sent] == ["+14155559999"]
    assert "verification code" in notifier.sent[0]["body"]
    [page] = world.notifications(incident.id)[:1]
    assert page.state == "failed" and "not verified" in page.last_error


def test_the_code_goes_through_the_outbox_and_verifies_the_number(world, session):
    alice = world.users["alice"]
    assert phones.set_phone(session, alice, "+14155559999", vouched=False, now=T0) is True
    session.commit()
    assert alice.phone_verified is False and alice.pageable_phone is None
    printed = console_dispatch(world, T0)
    assert "--- SMS to +14155559999 ---" in printed
    code = CODE.search(printed).group(1)
    wrong = "000000" if code != "000000" else "111111"
    assert phones.confirm_code(session, alice, wrong, now=T0 + minutes(1)).verified is False
    outcome = phones.confirm_code(session, alice, code, now=T0 + minutes(2))
    session.commit()
    assert outcome.verified and alice.phone_verified and alice.pageable_phone == "+14155559999"
    # and now pages reach it
    page_primary(world)
    incident = world.open("SEV2", at=T0 + minutes(3))
    assert world.pages(incident.id) == [("alice", "sms", 0, 0)]


def _code_for(world, at) -> str:
    return CODE.search(console_dispatch(world, at)).group(1)


def test_codes_expire(world, session):
    alice = world.users["alice"]
    phones.set_phone(session, alice, "+14155559999", vouched=False, now=T0)
    session.commit()
    code = _code_for(world, T0)
    outcome = phones.confirm_code(session, alice, code, now=T0 + phones.CODE_LIFETIME)
    assert outcome.verified is False and "expired" in outcome.message
    assert alice.phone_verified is False


def test_five_wrong_codes_use_the_code_up(world, session):
    alice = world.users["alice"]
    phones.set_phone(session, alice, "+14155559999", vouched=False, now=T0)
    session.commit()
    code = _code_for(world, T0)
    wrong = "000000" if code != "000000" else "111111"
    results = [phones.confirm_code(session, alice, wrong, now=T0).message for _ in range(phones.MAX_ATTEMPTS)]
    assert results[0] == "Wrong code; 4 tries left." and "last try" in results[-1]
    outcome = phones.confirm_code(session, alice, code, now=T0)
    assert outcome.verified is False and "Too many wrong codes" in outcome.message
    # a new code (after the resend pause) works, and the old one no longer does
    phones.send_code(session, alice, now=T0 + phones.RESEND_AFTER)
    session.commit()
    fresh = _code_for(world, T0 + phones.RESEND_AFTER)
    if fresh != code:
        assert phones.confirm_code(session, alice, code, now=T0 + minutes(2)).verified is False
    assert phones.confirm_code(session, alice, fresh, now=T0 + minutes(2)).verified is True


def test_resends_wait_a_minute_and_stop_after_ten_a_day(world, session):
    alice = world.users["alice"]
    phones.set_phone(session, alice, "+14155559999", vouched=False, now=T0)
    with pytest.raises(phones.Invalid, match="less than a minute ago"):
        phones.send_code(session, alice, now=T0 + timedelta(seconds=30))
    for i in range(1, phones.MAX_CODES_PER_DAY):
        phones.send_code(session, alice, now=T0 + i * phones.RESEND_AFTER)
    with pytest.raises(phones.Invalid, match="10 codes"):
        phones.send_code(session, alice, now=T0 + 20 * phones.RESEND_AFTER)
    assert len(messages(session, alice.id, VERIFY_PHONE)) == phones.MAX_CODES_PER_DAY
    phones.send_code(session, alice, now=T0 + timedelta(days=1, minutes=1))


def test_a_code_for_a_number_changed_since_is_not_sent(world, session, notifier):
    alice = world.users["alice"]
    phones.set_phone(session, alice, "+14155559999", vouched=False, now=T0)
    phones.set_phone(session, alice, "+14155558888", vouched=False, now=T0)
    session.commit()
    world.dispatch(T0)
    assert [m["to"] for m in notifier.sent] == ["+14155558888"]
    first, second = messages(session, alice.id, VERIFY_PHONE)
    assert first.state == "failed" and "changed" in first.last_error and second.state == "sent"


def test_an_administrator_vouches_for_a_number(world, session):
    alice = world.users["alice"]
    assert alice.phone_verified  # created by the service as an administrator would
    assert phones.set_phone(session, alice, "+14155559999", vouched=True, now=T0) is False
    assert alice.phone_verified and messages(session, alice.id, VERIFY_PHONE) == []
    phones.set_phone(session, alice, None, vouched=False, now=T0)
    assert alice.phone is None and alice.phone_verified is False


def test_test_pages_need_a_verified_number_and_are_limited(world, session, notifier):
    alice = world.users["alice"]
    for i in range(phones.TEST_PAGES_PER_HOUR):
        phones.send_test_page(session, alice, now=T0 + timedelta(seconds=i))
    with pytest.raises(phones.Invalid, match="test pages an hour"):
        phones.send_test_page(session, alice, now=T0 + minutes(10))
    session.commit()
    world.dispatch(T0 + minutes(10))
    assert notifier.sent and "oncall test page for Alice" in notifier.sent[0]["body"]
    phones.set_phone(session, alice, "+14155559999", vouched=False, now=T0 + minutes(11))
    with pytest.raises(phones.Invalid, match="verify your phone"):
        phones.send_test_page(session, alice, now=T0 + minutes(11))
    assert len(messages(session, alice.id, TEST_PAGE)) == phones.TEST_PAGES_PER_HOUR


def test_channels_say_what_reaches_a_person(world, session):
    alice = world.users["alice"]
    assert [c["ok"] for c in phones.channels(alice)] == [True, True]
    alice.sms_opted_out = True
    assert [c["ok"] for c in phones.channels(alice)] == [False, True]
    phones.set_phone(session, alice, "+14155559999", vouched=False, now=T0)
    assert [c["ok"] for c in phones.channels(alice)] == [False, False]


def test_unverified_people_on_rotations_are_listed_per_team(world, session):
    phones.set_phone(session, world.users["carol"], "+14155559999", vouched=False, now=T0)
    phones.set_phone(session, world.users["erin"], "+14155559998", vouched=False, now=T0)  # on no rotation
    world.users["bob"].phone = None
    session.commit()
    found = phones.unverified_on_rotations(session, team_ids=[world.team_id], now=T0)
    assert [(p["name"], p["rotations"]) for p in found[world.team_id]] == [("Bob", ["Primary"]),
                                                                          ("Carol", ["Secondary"])]


# --- the API ---------------------------------------------------------------------------------------------------

def test_api_phone_verified_follows_who_sets_the_number(api, client, make_token, make_user, session):
    from tests.conftest import ApiClient

    user = make_user()
    assert user["phone_verified"] is True  # an administrator created them
    me = ApiClient(client, make_token(user["email"], admin=False))
    changed = me.patch(f"/api/v1/users/{user['id']}", json={"phone": "+14155557777"})
    assert changed.status_code == 200 and changed.json["phone_verified"] is False
    assert len(messages(session, user["id"], VERIFY_PHONE)) == 1
    again = me.post(f"/api/v1/users/{user['id']}/phone-verification")
    assert again.status_code == 422 and "code" in again.json["error"]["fields"]
    wrong = me.post(f"/api/v1/users/{user['id']}/phone-verification/confirm", json={"code": "12345x"})
    assert wrong.status_code == 422 and wrong.json["error"]["fields"]["code"] == ["Wrong code; 4 tries left."]
    session.expire_all()
    assert session.scalar(select(PhoneVerification.attempts).where(PhoneVerification.user_id == user["id"])) == 1
    # nobody else may send or confirm codes for them, administrators included (the code is on their phone)
    assert api.post(f"/api/v1/users/{user['id']}/phone-verification").status_code == 403
    assert api.post(f"/api/v1/users/{user['id']}/phone-verification/confirm",
                    json={"code": "123456"}).status_code == 403
    assert me.post(f"/api/v1/users/{user['id']}/phone-verification/confirm", json={}).status_code == 422
    assert me.post(f"/api/v1/users/{user['id']}/phone-verification/confirm",
                   json={"code": "1" * 21}).status_code == 422
    vouched = api.patch(f"/api/v1/users/{user['id']}", json={"phone": "+14155557778"})
    assert vouched.json["phone_verified"] is True
    assert me.post(f"/api/v1/users/{user['id']}/phone-verification").status_code == 409


def test_api_confirm_verifies_with_the_texted_code(client, make_token, make_user, session, monkeypatch):
    from tests.conftest import ApiClient

    monkeypatch.setattr(phones.secrets, "randbelow", lambda n: 424242)
    user = make_user()
    me = ApiClient(client, make_token(user["email"], admin=False))
    me.patch(f"/api/v1/users/{user['id']}", json={"phone": "+14155557777"})
    [message] = messages(session, user["id"], VERIFY_PHONE)
    assert "424242" in message.body and message.to == "+14155557777"
    ok = me.post(f"/api/v1/users/{user['id']}/phone-verification/confirm", json={"code": " 424 242 "})
    assert ok.status_code == 200 and ok.json["phone_verified"] is True
    assert me.get(f"/api/v1/users/{user['id']}").json["phone_verified"] is True
