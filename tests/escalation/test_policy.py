"""escalation/policy.py: defaults, validation, the next action and business hours (pure, no app)."""
from datetime import datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.escalation import policy as p
from oncall.escalation.policy import (
    BusinessHours, Exhaust, Fire, Hold, Idle, Policy, Snapshot, State, Step, Target, Wait,
)

UTC = timezone.utc
T0 = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
NY_HOURS = BusinessHours("America/New_York", ("mon", "tue", "wed", "thu", "fri"), time(9), time(17))


def R(i):
    return Target("rotation", i)


def step(delay, *targets, channels=("sms",)):
    return Step(delay, tuple(targets) or (R(1),), tuple(channels))


def snap(*steps, repeat=0, hours=None, severity="SEV2"):
    return Snapshot(severity, Policy(tuple(steps), repeat), hours)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# --- defaults -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("severity,rotations,expected,repeat", [
    ("SEV1", [1, 2], [(0, ("rotation", 1), ("sms", "voice")), (5, ("rotation", 2), ("sms", "voice")),
                      (10, ("team", 7), ("sms", "voice"))], 2),
    ("SEV1", [1], [(0, ("rotation", 1), ("sms", "voice")), (15, ("team", 7), ("sms", "voice"))], 2),
    ("SEV1", [], [(0, ("team", 7), ("sms", "voice"))], 0),
    ("SEV2", [4, 5, 6], [(0, ("rotation", 4), ("sms", "voice")), (15, ("rotation", 5), ("sms", "voice")),
                         (15, ("team", 7), ("sms", "voice"))], 1),
    ("SEV3", [1, 2], [(0, ("rotation", 1), ("sms",)), (30, ("rotation", 2), ("sms", "voice")),
                      (30, ("team", 7), ("sms",))], 0),
    ("SEV4", [1, 2], [(0, ("rotation", 1), ("sms",)), (240, ("rotation", 2), ("sms",))], 0),
    ("SEV4", [1], [(0, ("rotation", 1), ("sms",)), (240, ("team", 7), ("sms",))], 0),
    ("SEV4", [], [(0, ("team", 7), ("sms",))], 0),
])
def test_default_policies_follow_response_targets(severity, rotations, expected, repeat):
    policy = p.default_policy(severity, team_id=7, rotation_ids=rotations)
    got = [(s.delay_minutes, (s.targets[0].type, s.targets[0].id), s.channels) for s in policy.steps]
    assert got == expected
    assert policy.repeat == repeat
    assert p.policy_errors(policy) == {}


@pytest.mark.parametrize("severity", p.SEVERITIES)
def test_default_first_page_is_within_the_response_target(severity):
    policy = p.default_policy(severity, team_id=1, rotation_ids=[1, 2])
    assert policy.steps[0].delay_minutes == 0
    target = p.RESPONSE_TARGETS[severity]
    if target is not None:  # unanswered by the response target, someone else is paged (SEV1: after 5 minutes)
        assert policy.steps[1].delay_minutes <= max(target, timedelta(minutes=5)).total_seconds() / 60


def test_snapshot_round_trips_through_json():
    s = snap(step(0, R(1), channels=("sms", "voice")), step(5, Target("team", 3)), repeat=2, hours=NY_HOURS,
             severity="SEV4")
    assert Snapshot.from_json(s.to_json()) == s


# --- validation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("policy,errors", [
    (Policy((), 0), {"steps": ["At least one step is needed."]}),
    (Policy((step(-1),), 0), {"steps": {0: {"delay_minutes": ["Must be between 0 and 10080."]}}}),
    (Policy((step(0), step(10081, R(2))), 0), {"steps": {1: {"delay_minutes": ["Must be between 0 and 10080."]}}}),
    (Policy((Step(0, (), ("sms",)),), 0), {"steps": {0: {"targets": ["At least one target is needed."]}}}),
    (Policy((Step(0, (R(1), R(1)), ("sms",)),), 0),
     {"steps": {0: {"targets": ["Each target may appear once in a step."]}}}),
    (Policy((Step(0, (R(1),), ()),), 0), {"steps": {0: {"channels": ["At least one channel is needed."]}}}),
    (Policy((Step(0, (R(1),), ("sms", "sms")),), 0), {"steps": {0: {"channels": ["Each of sms, voice at most once."]}}}),
    (Policy((Step(0, (R(1),), ("fax",)),), 0), {"steps": {0: {"channels": ["Each of sms, voice at most once."]}}}),
    (Policy((step(0, R(1), R(2)), step(5, R(2), R(1))), 0),
     {"steps": {1: {"targets": ["Same targets and channels as step 0; use repeat to page them again."]}}}),
    (Policy((step(0), step(5, R(2))), 11), {"repeat": ["Must be between 0 and 10."]}),
    (Policy((step(5), step(0, R(2))), 1), {"repeat": [
        "Passes restart as long after the last step as its delay; with a last delay of 0 every pass would page "
        "at the same instant."]}),
    (Policy(tuple(step(1, R(i)) for i in range(21)), 0), {"steps": ["At most 20 steps."]}),
])
def test_policy_errors_name_the_field(policy, errors):
    assert p.policy_errors(policy) == errors


def test_same_targets_on_another_channel_is_not_a_duplicate():
    policy = Policy((step(0, R(1), channels=("sms",)), step(5, R(1), channels=("voice",))), 0)
    assert p.policy_errors(policy) == {}


# --- next_action and after_fire -----------------------------------------------------------------------------

THREE = snap(step(0, R(1)), step(5, R(2)), step(10, Target("team", 1)), repeat=1)


@pytest.mark.parametrize("state,now,decision", [
    (State("acknowledged", 1, 0, None), T0, Idle()),
    (State("resolved", 1, 0, T0), T0, Idle()),
    (State("triggered", 3, 1, None), T0, Idle()),
    (State("triggered", 1, 0, T0 + timedelta(minutes=5)), T0, Wait(T0 + timedelta(minutes=5))),
    (State("triggered", 1, 0, T0), T0, Fire(1, 0)),
    (State("triggered", 0, 1, T0), T0 + timedelta(hours=3), Fire(0, 1)),
    (State("triggered", 3, 1, T0), T0, Exhaust()),
])
def test_next_action(state, now, decision):
    assert p.next_action(THREE, state, now) == decision


def test_start_waits_step_zero_delay():
    assert p.start(snap(step(3)), T0) == State("triggered", 0, 0, T0 + timedelta(minutes=3))


@pytest.mark.parametrize("state,reached,expected", [
    # a reached step waits the next step's own delay
    (State("triggered", 0, 0, T0), True, State("triggered", 1, 0, T0 + timedelta(minutes=5))),
    (State("triggered", 1, 0, T0), True, State("triggered", 2, 0, T0 + timedelta(minutes=10))),
    # the next pass starts as long after the last step as the last step's own delay
    (State("triggered", 2, 0, T0), True, State("triggered", 0, 1, T0 + timedelta(minutes=10))),
    # after the last pass the policy ends one last delay later
    (State("triggered", 2, 1, T0), True, State("triggered", 3, 1, T0 + timedelta(minutes=10))),
    # an uncovered step does not hold the incident
    (State("triggered", 0, 0, T0), False, State("triggered", 1, 0, T0)),
    (State("triggered", 2, 1, T0), False, State("triggered", 3, 1, T0)),
])
def test_after_fire(state, reached, expected):
    assert p.after_fire(THREE, state, fired_at=T0, reached_anyone=reached) == expected


@pytest.mark.parametrize("state,expected", [
    (State("triggered", 1, 0, T0 + timedelta(minutes=5)), State("triggered", 1, 0, T0)),
    (State("acknowledged", 2, 1, None), State("triggered", 2, 1, T0)),
    # past the end, the last step pages again in a pass of its own
    (State("triggered", 3, 1, None), State("triggered", 2, 2, T0)),
])
def test_escalate_now(state, expected):
    assert p.escalate_now(THREE, state, T0) == expected


def run_to_end(snapshot: Snapshot, opened_at: datetime, reached=lambda step, rnd: True, limit=500):
    """Drive the state machine the way the engine does, firing exactly at each due time."""
    state, fired, now = p.start(snapshot, opened_at), [], opened_at
    for _ in range(limit):
        decision = p.next_action(snapshot, state, now)
        if isinstance(decision, Wait | Hold):
            now = decision.until
        elif isinstance(decision, Fire):
            fired.append((decision.step, decision.round, now))
            state = p.after_fire(snapshot, state, fired_at=now, reached_anyone=reached(decision.step, decision.round))
        elif isinstance(decision, Exhaust):
            return fired, now
        else:
            raise AssertionError(decision)
    raise AssertionError("did not finish")


def test_repeat_passes_restart_after_the_last_delay():
    fired, ended = run_to_end(THREE, T0)
    minutes = [(s, r, int((at - T0).total_seconds() // 60)) for s, r, at in fired]
    assert minutes == [(0, 0, 0), (1, 0, 5), (2, 0, 15), (0, 1, 25), (1, 1, 30), (2, 1, 40)]
    assert ended == T0 + timedelta(minutes=50)


def test_uncovered_steps_are_skipped_at_once():
    fired, ended = run_to_end(THREE, T0, reached=lambda s, r: s != 1)
    minutes = [(s, r, int((at - T0).total_seconds() // 60)) for s, r, at in fired]
    assert minutes == [(0, 0, 0), (1, 0, 5), (2, 0, 5), (0, 1, 15), (1, 1, 20), (2, 1, 20)]
    assert ended == T0 + timedelta(minutes=30)


policies = st.builds(
    lambda delays, repeat: Policy(tuple(step(d, R(i)) for i, d in enumerate(delays)),
                                  repeat if delays[-1] > 0 else 0),
    st.lists(st.integers(0, 120), min_size=1, max_size=6), st.integers(0, 3),
)


@settings(max_examples=200, deadline=None)
@given(policies, st.lists(st.booleans(), min_size=30, max_size=30))
def test_every_step_of_every_pass_fires_once_in_order(policy, reached_flags):
    snapshot = Snapshot("SEV2", policy)
    fired, ended = run_to_end(snapshot, T0, reached=lambda s, r: reached_flags[(s + r * 7) % 30])
    expected = [(s, r) for r in range(policy.repeat + 1) for s in range(len(policy.steps))]
    assert [(s, r) for s, r, _ in fired] == expected
    times = [at for _, _, at in fired]
    assert times == sorted(times) and times[0] == T0 + timedelta(minutes=policy.steps[0].delay_minutes)
    assert ended >= times[-1]


# --- business hours -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("hours,at,expected", [
    # Wednesday 10:00 New York: open now
    (NY_HOURS, utc(2026, 3, 4, 15, 0), utc(2026, 3, 4, 15, 0)),
    # Wednesday 08:59 New York: opens at 09:00 the same day
    (NY_HOURS, utc(2026, 3, 4, 13, 59), utc(2026, 3, 4, 14, 0)),
    # 17:00 sharp is closed (half-open hours): Thursday 09:00
    (NY_HOURS, utc(2026, 3, 4, 22, 0), utc(2026, 3, 5, 14, 0)),
    # Friday evening skips the weekend; Monday 09:00 is after the spring-forward Sunday (EDT, UTC-4)
    (NY_HOURS, utc(2026, 3, 6, 23, 30), utc(2026, 3, 9, 13, 0)),
    # Saturday in UTC, still Friday afternoon in New York: open
    (NY_HOURS, utc(2026, 3, 7, 0, 30) - timedelta(hours=4), utc(2026, 3, 6, 20, 30)),
    # fall back: Sunday 1 November, Monday opens at 09:00 EST (UTC-5)
    (NY_HOURS, utc(2026, 10, 31, 12, 0), utc(2026, 11, 2, 14, 0)),
    # Auckland is a day ahead: Sunday evening UTC is Monday morning there, before 09:00 NZDT (UTC+13)
    (BusinessHours("Pacific/Auckland", ("mon", "tue", "wed", "thu", "fri"), time(9), time(17)),
     utc(2026, 3, 1, 18, 0), utc(2026, 3, 1, 20, 0)),
    # a start inside the spring-forward gap (02:30 on 8 March in New York) opens when the gap ends, 03:00 EDT
    (BusinessHours("America/New_York", ("sun",), time(2, 30), time(12)), utc(2026, 3, 8, 5, 0),
     utc(2026, 3, 8, 7, 0)),
    # a Sunday-to-Thursday week (Asia/Jerusalem style) opens on Sunday
    (BusinessHours("Asia/Jerusalem", ("sun", "mon", "tue", "wed", "thu"), time(9), time(18)),
     utc(2026, 3, 6, 10, 0), utc(2026, 3, 8, 7, 0)),
    # no business days: nothing to wait for
    (BusinessHours("UTC", (), time(9), time(17)), utc(2026, 3, 6, 10, 0), None),
])
def test_next_business_start(hours, at, expected):
    assert p.next_business_start(hours, at) == expected


def test_sev4_outside_business_hours_is_held_until_they_open():
    s = snap(step(0), hours=NY_HOURS, severity="SEV4")
    friday_night = utc(2026, 3, 7, 3, 0)  # Friday 22:00 in New York
    assert p.next_action(s, State("triggered", 0, 0, friday_night), friday_night) == Hold(utc(2026, 3, 9, 13, 0))
    monday = utc(2026, 3, 9, 13, 0)
    assert p.next_action(s, State("triggered", 0, 0, friday_night), monday) == Fire(0, 0)


zones = st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata",
                         "Pacific/Auckland", "America/Santiago", "UTC", "Asia/Tehran"])
hour_pairs = st.tuples(st.integers(0, 22), st.integers(0, 59)).flatmap(
    lambda start: st.tuples(st.just(time(*start)), st.integers(start[0] * 60 + start[1] + 1, 24 * 60 - 1)
                            .map(lambda m: time(m // 60, m % 60))))
business_hours = st.builds(
    lambda zone, days, pair: BusinessHours(zone, tuple(days), pair[0], pair[1]),
    zones, st.sets(st.sampled_from(p.WEEKDAYS), min_size=1), hour_pairs,
)
instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC))


@settings(max_examples=150, deadline=None)
@given(business_hours, instants)
def test_next_business_start_is_the_first_open_instant(hours, at):
    opens_at = p.next_business_start(hours, at)
    assert opens_at >= at
    assert p.in_business_hours(hours, opens_at)
    if opens_at > at:
        # Nothing in between is open: probe every 10 minutes and just before the opening.
        probe = at
        while probe < opens_at:
            assert not p.in_business_hours(hours, probe), probe
            probe += timedelta(minutes=10)
        assert not p.in_business_hours(hours, opens_at - timedelta(seconds=1))


@settings(max_examples=100, deadline=None)
@given(business_hours, instants, policies)
def test_sev4_never_fires_outside_business_hours(hours, opened_at, policy):
    snapshot = Snapshot("SEV4", policy, hours)
    fired, _ = run_to_end(snapshot, opened_at)
    assert fired and all(p.in_business_hours(hours, at) for _, _, at in fired)
