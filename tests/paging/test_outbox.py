"""paging/outbox.py: sending after commit, retries with backoff, fallback to the other channel, delivery status
callbacks, leases after a crash, and folding several pages for one person into one SMS."""
from datetime import timedelta

import pytest

from oncall.errors import DeliveryFailed, TransientDeliveryFailure
from oncall.incidents import service as incidents
from oncall.paging import outbox
from tests.incidents.conftest import PUBLIC_URL, T0, minutes, notifier, rotation, world  # noqa: F401

SECOND = timedelta(seconds=1)


def page_primary(world, channels=("sms",), severity="SEV2"):
    world.set_policy(severity, [
        {"delay_minutes": 0, "targets": [rotation(world.primary_id)], "channels": list(channels)},
        {"delay_minutes": 10, "targets": [rotation(world.secondary_id)], "channels": ["sms"]},
    ])


def test_pages_are_sent_after_commit_with_the_contract_texts(world, notifier):
    page_primary(world, channels=("sms", "voice"))
    incident = world.open("SEV2", links={"runbook": "https://runbooks.example.com/checkout"})
    assert world.dispatch(T0) == 2
    [sms], [call] = notifier.by_channel()["sms"], notifier.by_channel()["voice"]
    assert sms["to"] == world.phone("alice") and sms["channel"] == "sms"
    assert sms["body"].startswith("[SEV2] Checkout errors")
    assert "https://runbooks.example.com/checkout" in sms["body"]
    assert f"{PUBLIC_URL}/incidents/{incident.id}" in sms["body"]
    assert sms["body"].endswith(f"Reply {incident.code}A to ack, {incident.code}R to resolve, "
                                f"{incident.code}E to escalate")
    rows = world.notifications(incident.id)
    assert sms["callback"] == f"{PUBLIC_URL}/twilio/status?notification={rows[0].id}"
    assert call["callback"] == f"{PUBLIC_URL}/twilio/status?notification={rows[1].id}"
    assert f'action="{PUBLIC_URL}/twilio/voice?incident={incident.id}"' in call["body"]
    rows = world.notifications(incident.id)
    assert [(r.state, r.provider_id, r.attempts, r.sent_at) for r in rows] == [
        ("sent", sms["id"], 1, T0), ("sent", call["id"], 1, T0)]
    sent_events = [e for e in world.timeline(incident.id) if e.kind == "notification"]
    # Both requests run in parallel, and each is recorded as soon as it returns.
    assert sorted((e.user_id, e.detail["channel"], e.detail["provider_id"], e.detail["state"]) for e in sent_events) == [
        (world.uid("alice"), "sms", sms["id"], "sent"), (world.uid("alice"), "voice", call["id"], "sent")]
    assert world.dispatch(T0 + minutes(1)) == 0


def test_transient_failures_are_retried_with_backoff(world, notifier):
    page_primary(world)
    notifier.fail_with[world.phone("alice")] = [TransientDeliveryFailure("Twilio 503"),
                                                TransientDeliveryFailure("Twilio 503")]
    incident = world.open("SEV2")
    world.dispatch(T0)
    [row] = world.notifications(incident.id)
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 1, T0 + 2 * SECOND)
    assert world.dispatch(T0 + SECOND) == 0  # not yet
    world.dispatch(T0 + 2 * SECOND)
    [row] = world.notifications(incident.id)
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 2, T0 + 6 * SECOND)
    world.dispatch(T0 + 6 * SECOND)
    [row] = world.notifications(incident.id)
    assert (row.state, row.attempts) == ("sent", 3)
    assert len(notifier.sent) == 1
    retrying = [e.detail["message"] for e in world.timeline(incident.id) if e.detail.get("state") == "retrying"]
    assert len(retrying) == 2 and "retrying in 2 s (attempt 1 of 5)" in retrying[0]


@pytest.mark.parametrize("attempts,wait", [(1, 2), (2, 4), (3, 8), (7, 120), (30, 120)])
def test_backoff_doubles_up_to_a_cap(attempts, wait):
    assert outbox.backoff(attempts) == timedelta(seconds=wait)


def test_a_page_that_keeps_failing_falls_back_to_a_call(world, notifier):
    page_primary(world)
    notifier.fail_always[world.phone("alice")] = TransientDeliveryFailure("timeout")
    incident = world.open("SEV2")
    at = T0
    for _ in range(outbox.MAX_ATTEMPTS):
        world.dispatch(at)
        at += outbox.BACKOFF_MAX
    sms, call = world.notifications(incident.id)
    assert (sms.state, sms.attempts, sms.fell_back) == ("failed", outbox.MAX_ATTEMPTS, True)
    assert "gave up after 5 attempts" in sms.last_error
    assert (call.channel, call.fallback_of_id, call.state) == ("voice", sms.id, "pending")
    fallback = next(e for e in world.timeline(incident.id) if e.kind == "fallback")
    assert "calling them instead" in fallback.detail["message"]


def test_permanent_failure_falls_back_at_once_and_only_once(world, notifier):
    page_primary(world)
    notifier.fail_always[world.phone("alice")] = DeliveryFailed("Twilio rejected the SMS: error 21211")
    incident = world.open("SEV2")
    world.dispatch(T0)
    world.dispatch(T0 + SECOND)  # the voice fallback fails too: no third attempt on any channel
    assert world.pages(incident.id) == [("alice", "sms", 0, 0), ("alice", "voice", 0, 0)]
    assert [n.state for n in world.notifications(incident.id)] == ["failed", "failed"]
    assert world.kinds(incident.id).count("fallback") == 1
    assert notifier.sent == []


def test_fallback_when_the_step_already_uses_both_channels_adds_nothing(world, notifier):
    page_primary(world, channels=("sms", "voice"))
    notifier.fail_with[world.phone("alice")] = [DeliveryFailed("21610 unsubscribed")]
    incident = world.open("SEV2")
    world.dispatch(T0)
    assert [(n.channel, n.state) for n in world.notifications(incident.id)] == [("sms", "failed"), ("voice", "sent")]
    fallback = next(e for e in world.timeline(incident.id) if e.kind == "fallback")
    assert "also being paged by voice call" in fallback.detail["message"]


def test_acknowledged_incidents_are_not_paged(world, notifier):
    page_primary(world)
    incident = world.open("SEV2")
    incidents.acknowledge(world.session, world.incident(incident.id), user_id=world.uid("alice"), via="web", now=T0)
    world.session.commit()
    world.dispatch(T0)
    assert notifier.sent == []
    assert [n.state for n in world.notifications(incident.id)] == ["cancelled"]


def test_opting_out_after_the_page_was_queued_calls_instead(world, notifier, session):
    page_primary(world)
    incident = world.open("SEV2")
    world.users["alice"].sms_opted_out = True
    session.commit()
    world.dispatch(T0)
    world.dispatch(T0 + SECOND)
    assert [(s["channel"], s["to"]) for s in notifier.sent] == [("voice", world.phone("alice"))]
    sms, call = world.notifications(incident.id)
    assert (sms.state, call.fallback_of_id) == ("failed", sms.id)
    assert "opted out of SMS" in sms.last_error


# --- status callbacks ----------------------------------------------------------------------------------------

def sent_incident(world, channels=("sms",)):
    page_primary(world, channels=channels)
    incident = world.open("SEV2")
    world.dispatch(T0)
    return incident, world.notifications(incident.id)


def callback(world, provider_id, status, at=T0 + SECOND):
    known = outbox.record_delivery_status(world.session, provider_id=provider_id, status=status, now=at)
    world.session.commit()
    return known


def test_unknown_provider_ids_are_reported(world):
    assert callback(world, "SM" + "0" * 32, "delivered") is False


def test_delivery_statuses_move_forward_only_and_repeats_are_no_ops(world):
    incident, [row] = sent_incident(world)
    for status in ["queued", "sent", "delivered", "delivered", "sent", "undelivered"]:
        assert callback(world, row.provider_id, status) is True
    [row] = world.notifications(incident.id)
    assert (row.status, row.state) == ("delivered", "sent")
    deliveries = [e.detail["status"] for e in world.timeline(incident.id) if e.kind == "delivery"]
    assert deliveries == ["sent", "delivered"]
    assert "fallback" not in world.kinds(incident.id)


@pytest.mark.parametrize("channels,status,fallback_channel", [
    (("sms",), "undelivered", "voice"),
    (("sms",), "failed", "voice"),
    (("voice",), "no-answer", "sms"),
    (("voice",), "busy", "sms"),
    (("voice",), "failed", "sms"),
])
def test_failed_delivery_falls_back_to_the_other_channel_once(world, channels, status, fallback_channel):
    incident, [row] = sent_incident(world, channels=channels)
    assert callback(world, row.provider_id, status)
    assert callback(world, row.provider_id, status)  # Twilio retries callbacks
    rows = world.notifications(incident.id)
    assert [(r.channel, r.state) for r in rows] == [(channels[0], "failed"), (fallback_channel, "pending")]
    assert rows[1].fallback_of_id == rows[0].id
    assert world.kinds(incident.id).count("fallback") == 1


def test_a_completed_call_is_recorded_and_needs_no_fallback(world):
    incident, [row] = sent_incident(world, channels=("voice",))
    for status in ["initiated", "ringing", "in-progress", "completed"]:
        callback(world, row.provider_id, status)
    [row] = world.notifications(incident.id)
    assert row.status == "completed"
    assert [e.detail["status"] for e in world.timeline(incident.id) if e.kind == "delivery"] == [
        "in-progress", "completed"]


def test_no_answer_from_someone_opted_out_of_sms_has_nowhere_to_go(world, session):
    incident, [row] = sent_incident(world, channels=("voice",))
    world.users["alice"].sms_opted_out = True
    session.commit()
    callback(world, row.provider_id, "no-answer")
    assert len(world.notifications(incident.id)) == 1
    fallback = next(e for e in world.timeline(incident.id) if e.kind == "fallback")
    assert "no other way to reach them" in fallback.detail["message"]


def test_failures_after_acknowledgement_do_not_fall_back(world):
    incident, [row] = sent_incident(world)
    incidents.acknowledge(world.session, world.incident(incident.id), user_id=None, via="api", now=T0)
    world.session.commit()
    callback(world, row.provider_id, "undelivered")
    assert len(world.notifications(incident.id)) == 1


def test_unknown_status_words_change_nothing(world):
    incident, [row] = sent_incident(world)
    assert callback(world, row.provider_id, "exploded") is True
    assert world.notifications(incident.id)[0].status is None


# --- crash recovery ------------------------------------------------------------------------------------------

def test_a_page_claimed_by_a_worker_that_died_is_sent_after_its_lease(world, notifier):
    page_primary(world)
    incident = world.open("SEV2")
    # A worker claims the page and dies before sending or recording anything.
    jobs, _ = outbox._claim(world.sessions, clock=outbox.clock_for(T0), public_url=PUBLIC_URL, limit=10, sms_window=outbox.SMS_WINDOW,
                            lease=timedelta(seconds=60))
    assert len(jobs) == 1
    assert world.dispatch(T0 + timedelta(seconds=59)) == 0
    assert world.dispatch(T0 + timedelta(seconds=60)) == 1
    [row] = world.notifications(incident.id)
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(notifier.sent) == 1


def test_an_outcome_for_a_lease_taken_over_is_not_recorded_twice(world, notifier):
    page_primary(world)
    incident = world.open("SEV2")
    slow, _ = outbox._claim(world.sessions, clock=outbox.clock_for(T0), public_url=PUBLIC_URL, limit=10, sms_window=outbox.SMS_WINDOW,
                            lease=timedelta(seconds=60))
    world.dispatch(T0 + timedelta(minutes=2))  # another worker takes over after the lease
    with world.sessions.begin() as s:
        outbox._record(s, slow[0], notifier_name="fake", provider_id="SMlate", error=None, transient=False,
                       now=T0 + timedelta(minutes=3))
    [row] = world.notifications(incident.id)
    assert row.provider_id == notifier.sent[0]["id"] and row.attempts == 2


# --- batching ------------------------------------------------------------------------------------------------

def test_several_incidents_for_one_person_are_folded_into_one_sms(world, notifier):
    page_primary(world)
    first = world.open("SEV2", title="Checkout errors")
    world.dispatch(T0)
    second = world.open("SEV2", title="Refunds slow", at=T0 + 5 * SECOND)
    third = world.open("SEV2", title="Payouts stuck", at=T0 + 10 * SECOND)
    world.dispatch(T0 + 5 * SECOND)
    world.dispatch(T0 + 10 * SECOND)
    assert len(notifier.sent) == 1  # at most one SMS per person per 30 seconds
    world.dispatch(T0 + 29 * SECOND)
    assert len(notifier.sent) == 1
    world.dispatch(T0 + 30 * SECOND)
    assert len(notifier.sent) == 2
    digest = notifier.sent[1]["body"]
    assert digest.startswith("2 incidents need you (AA acks all, RR resolves all):\n")
    assert f"[SEV2] Refunds slow\nReply {second.code}A to ack" in digest
    assert digest.endswith(f"[SEV2] Payouts stuck\nReply {third.code}A to ack, {third.code}R to resolve, "
                           f"{third.code}E to escalate")
    rows = world.notifications(second.id) + world.notifications(third.id)
    assert {(r.state, r.provider_id, r.digest) for r in rows} == {("sent", notifier.sent[1]["id"], True)}
    event = next(e for e in world.timeline(third.id) if e.kind == "notification")
    assert "in one digest with 1 other incident(s)" in event.detail["message"]
    # One status callback for the digest reaches both incidents.
    callback(world, notifier.sent[1]["id"], "delivered")
    assert [r.status for r in world.notifications(second.id) + world.notifications(third.id)] == ["delivered"] * 2
    assert first.id not in {r.incident_id for r in rows}


def test_calls_are_never_held_back_by_the_sms_window(world, notifier):
    page_primary(world, channels=("voice",))
    world.open("SEV2")
    world.open("SEV2", title="Second", at=T0 + SECOND)
    world.dispatch(T0 + SECOND)
    assert [s["channel"] for s in notifier.sent] == ["voice", "voice"]


def test_everything_due_for_a_person_goes_into_one_digest_whatever_the_claim_size(world, notifier):
    page_primary(world)
    world.open("SEV2")
    world.dispatch(T0)
    codes = {world.open("SEV2", title=f"Storm {i}", at=T0 + SECOND).code for i in range(6)}
    world.dispatch(T0 + SECOND, claim=2)  # claims two rows at a time; all six wait for the window
    world.dispatch(T0 + 30 * SECOND, claim=2)
    assert len(notifier.sent) == 2
    digest = notifier.sent[1]["body"]
    assert digest.startswith("6 incidents need you") and all(f"Reply {code}A to ack" in digest for code in codes)


def test_pages_due_together_are_sent_in_parallel(world, notifier, monkeypatch):
    import threading

    world.set_policy("SEV1", [{"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["voice"]}])
    world.open("SEV1")
    real = notifier.place_call
    # Each call returns only once all five are in flight: calls made one after the other break the barrier
    # (and fail) after its timeout. Counting in-flight calls, not seconds, holds on a busy machine too.
    all_in_flight = threading.Barrier(5, timeout=10)

    def slow_call(**kwargs):
        all_in_flight.wait()
        return real(**kwargs)

    monkeypatch.setattr(notifier, "place_call", slow_call)
    assert world.dispatch(T0) == 5
    assert not all_in_flight.broken


def test_a_failed_sms_does_not_use_up_the_window(world, notifier):
    page_primary(world)
    notifier.fail_with[world.phone("alice")] = [TransientDeliveryFailure("503")]
    world.open("SEV2")
    world.dispatch(T0)
    world.open("SEV2", title="Second", at=T0 + SECOND)
    world.dispatch(T0 + 2 * SECOND)  # the retry of the first and the second one: one digest, now
    assert len(notifier.sent) == 1 and notifier.sent[0]["body"].startswith("2 incidents need you")


# --- callbacks that overtake the send ------------------------------------------------------------------------

AUTH_TOKEN = "early-callback-token"


class CallbackFirstNotifier:
    """Twilio may call the StatusCallback before its answer to the create request reaches us (a number that
    cannot receive SMS fails at once), or answer too late for our timeout after accepting the page. This
    notifier posts the signed callback to the app while the send is still in progress, then returns the SID
    (or, with `then_raise`, loses the answer). It uses the test's one database connection from the sending
    thread, so the outbox is run with one request at a time (no claim meanwhile on that connection)."""

    name = "callback-first"

    def __init__(self, app, inner, status: str, then_raise: Exception | None = None) -> None:
        self.app, self.inner, self.status, self.then_raise = app, inner, status, then_raise
        self.answers: list[int] = []

    def _post(self, sid: str, channel: str, callback: str) -> None:
        from urllib.parse import urlsplit

        from twilio.request_validator import RequestValidator

        params = ({"MessageSid": sid, "MessageStatus": self.status} if channel == "sms"
                  else {"CallSid": sid, "CallStatus": self.status})
        parts = urlsplit(callback)
        response = self.app.test_client().post(
            parts.path + (f"?{parts.query}" if parts.query else ""), data=params,
            base_url=f"{parts.scheme}://{parts.netloc}",
            headers={"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(callback, params)})
        self.answers.append(response.status_code)

    def send_sms(self, *, to, body, status_callback=None):
        sid = self.inner.send_sms(to=to, body=body, status_callback=status_callback)
        self._post(sid, "sms", status_callback)
        if self.then_raise is not None:
            raise self.then_raise
        return sid

    def place_call(self, *, to, twiml, status_callback=None):
        sid = self.inner.place_call(to=to, twiml=twiml, status_callback=status_callback)
        self._post(sid, "voice", status_callback)
        if self.then_raise is not None:
            raise self.then_raise
        return sid


@pytest.fixture()
def signed(app, monkeypatch):
    from oncall.paging import webhooks

    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setattr(webhooks, "utcnow", lambda: T0)  # the callbacks arrive at the test's clock


@pytest.mark.parametrize("channels,status,fallback_channel", [
    (("sms",), "failed", "voice"),
    (("sms",), "undelivered", "voice"),
    (("voice",), "busy", "sms"),
])
def test_a_failure_reported_before_the_send_is_recorded_still_falls_back(world, notifier, signed, channels, status,
                                                                         fallback_channel):
    page_primary(world, channels=channels)
    incident = world.open("SEV2")
    early = CallbackFirstNotifier(world.app, notifier, status)
    outbox.dispatch_due(world.sessions, early, now=T0, public_url=PUBLIC_URL, concurrency=1)
    assert early.answers == [204]
    rows = world.notifications(incident.id)
    assert [(r.channel, r.state, r.status) for r in rows] == [
        (channels[0], "failed", status), (fallback_channel, "pending", None)]
    assert rows[0].provider_id == notifier.sent[0]["id"] and rows[1].fallback_of_id == rows[0].id
    kinds = world.kinds(incident.id)
    assert kinds.count("fallback") == 1 and "delivery" in kinds
    # The fallback goes out on the next dispatch; the failed page is not sent again.
    world.dispatch(T0 + SECOND)
    assert [s["channel"] for s in notifier.sent] == [channels[0], fallback_channel]


def test_a_delivery_reported_before_the_send_is_recorded_is_kept(world, notifier, signed):
    page_primary(world)
    incident = world.open("SEV2")
    early = CallbackFirstNotifier(world.app, notifier, "delivered")
    outbox.dispatch_due(world.sessions, early, now=T0, public_url=PUBLIC_URL, concurrency=1)
    [row] = world.notifications(incident.id)
    assert (row.state, row.status, row.provider_id) == ("sent", "delivered", notifier.sent[0]["id"])
    assert [e.detail["status"] for e in world.timeline(incident.id) if e.kind == "delivery"] == ["delivered"]


def test_a_page_twilio_accepted_is_not_sent_again_when_its_answer_timed_out(world, notifier, signed):
    page_primary(world)
    incident = world.open("SEV2")
    early = CallbackFirstNotifier(world.app, notifier, "sent",
                                  then_raise=TransientDeliveryFailure("Twilio could not be reached (ReadTimeout)"))
    outbox.dispatch_due(world.sessions, early, now=T0, public_url=PUBLIC_URL, concurrency=1)
    for at in (T0 + 2 * SECOND, T0 + minutes(5)):
        world.dispatch(at)
    assert len(notifier.sent) == 1  # Twilio told us it has the SMS: no second one
    [row] = world.notifications(incident.id)
    assert (row.state, row.status, row.provider_id) == ("sent", "sent", notifier.sent[0]["id"])


def test_an_early_failure_of_a_digest_falls_back_for_every_incident_in_it(world, notifier, signed):
    page_primary(world)
    world.open("SEV2")
    world.dispatch(T0)
    second = world.open("SEV2", title="Refunds slow", at=T0 + SECOND)
    third = world.open("SEV2", title="Payouts stuck", at=T0 + SECOND)
    early = CallbackFirstNotifier(world.app, notifier, "undelivered")
    outbox.dispatch_due(world.sessions, early, now=T0 + 30 * SECOND, public_url=PUBLIC_URL, concurrency=1)
    assert notifier.sent[-1]["body"].startswith("2 incidents need you")
    for incident in (second, third):
        rows = world.notifications(incident.id)
        assert [(r.channel, r.state) for r in rows] == [("sms", "failed"), ("voice", "pending")], incident.title


def test_a_callback_naming_another_page_cannot_take_it_over(world, notifier, signed, app):
    from twilio.request_validator import RequestValidator

    incident, [row] = sent_incident(world)
    url = f"{PUBLIC_URL}/twilio/status?notification={row.id}"
    params = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "failed"}
    response = app.test_client().post(f"/twilio/status?notification={row.id}", data=params, base_url=PUBLIC_URL,
                                      headers={"X-Twilio-Signature": RequestValidator(AUTH_TOKEN)
                                               .compute_signature(url, params)})
    assert response.status_code == 204
    [after] = world.notifications(incident.id)
    assert (after.state, after.provider_id, after.status) == ("sent", row.provider_id, None)


def test_a_confirmation_arriving_after_the_retry_was_scheduled_cancels_the_retry(world, notifier):
    page_primary(world)
    notifier.fail_with[world.phone("alice")] = [TransientDeliveryFailure("Twilio could not be reached (ReadTimeout)")]
    incident = world.open("SEV2")
    world.dispatch(T0)
    [row] = world.notifications(incident.id)
    assert (row.state, row.provider_id) == ("pending", None)
    # Twilio had accepted it after all: its callback names the page (status_callback_url).
    assert outbox.record_delivery_status(world.session, provider_id="SM" + "a" * 32, status="sent", now=T0 + SECOND,
                                         notification_id=row.id)
    world.session.commit()
    world.dispatch(T0 + 2 * SECOND)
    assert notifier.sent == []
    [row] = world.notifications(incident.id)
    assert (row.state, row.provider_id, row.status) == ("sent", "SM" + "a" * 32, "sent")
    assert "accepted by the provider after all" in world.timeline(incident.id)[-1].detail["message"]
