"""The escalation engine with a controllable clock: tick(now=...) at chosen instants, pages read from the outbox."""
from datetime import datetime, timedelta, timezone

import pytest

from oncall.errors import Conflict
from oncall.escalation import engine
from oncall.incidents import service as incidents
from oncall.schedules import service as schedules
from tests.incidents.conftest import T0, minutes, rotation

UTC = timezone.utc


def three_steps(world, repeat=0):
    world.set_policy("SEV2", [
        {"delay_minutes": 0, "targets": [rotation(world.primary_id)], "channels": ["sms"]},
        {"delay_minutes": 5, "targets": [rotation(world.secondary_id)], "channels": ["sms", "voice"]},
        {"delay_minutes": 10, "targets": [{"type": "team", "id": world.team_id}], "channels": ["sms"]},
    ], repeat=repeat)


def test_each_step_fires_at_its_time(world):
    three_steps(world)
    incident = world.open("SEV2")
    # Step 0 is written with the incident itself: no tick needed for the first page.
    assert world.pages(incident.id) == [("alice", "sms", 0, 0)]
    assert world.tick(T0 + minutes(5) - timedelta(seconds=1)) == 0
    assert len(world.notifications(incident.id)) == 1

    assert world.tick(T0 + minutes(5)) == 1
    assert world.pages(incident.id, step=1) == [("carol", "sms", 1, 0), ("carol", "voice", 1, 0)]
    assert world.incident(incident.id).next_step_at == T0 + minutes(15)

    assert world.tick(T0 + minutes(15)) == 1
    assert [p[0] for p in world.pages(incident.id, step=2)] == ["alice", "bob", "carol", "dave", "erin"]
    # The policy ends one last delay after its last step, and says so.
    assert world.tick(T0 + minutes(25)) == 1
    assert world.kinds(incident.id) == ["created", "step", "step", "step", "exhausted"]
    assert world.incident(incident.id).next_step_at is None
    assert world.tick(T0 + minutes(60)) == 0


def test_a_late_tick_fires_the_due_step_once_and_counts_the_next_delay_from_then(world):
    three_steps(world)
    incident = world.open("SEV2")
    late = T0 + minutes(7)
    assert world.tick(late) == 1
    assert world.tick(late) == 0
    assert world.incident(incident.id).next_step_at == late + minutes(10)


def test_acknowledge_stops_escalation(world):
    three_steps(world)
    incident = world.open("SEV2")
    incidents.acknowledge(world.session, world.incident(incident.id), user_id=world.uid("alice"), via="api",
                          now=T0 + minutes(2))
    world.session.commit()
    assert world.tick(T0 + minutes(30)) == 0
    assert world.pages(incident.id) == [("alice", "sms", 0, 0)]
    events = world.timeline(incident.id)
    assert events[-1].kind == "acknowledged" and events[-1].user_id == world.uid("alice") and events[-1].via == "api"
    assert "Alice" in events[-1].detail["message"]


def test_repeat_runs_more_passes_starting_at_step_zero(world):
    world.set_policy("SEV1", [
        {"delay_minutes": 0, "targets": [rotation(world.primary_id)], "channels": ["sms"]},
        {"delay_minutes": 5, "targets": [rotation(world.secondary_id)], "channels": ["voice"]},
    ], repeat=2)
    incident = world.open("SEV1")
    seen, fired_at = world.pages(incident.id), {}
    for m in range(0, 40):
        if world.tick(T0 + minutes(m)):
            fired_at[m] = [p for p in world.pages(incident.id) if p not in seen]
            seen += fired_at[m]
    assert fired_at == {
        5: [("carol", "voice", 1, 0)],
        10: [("alice", "sms", 0, 1)],  # next pass: the last step's own delay after it
        15: [("carol", "voice", 1, 1)],
        20: [("alice", "sms", 0, 2)],
        25: [("carol", "voice", 1, 2)],
        30: [],  # exhausted
    }
    assert world.kinds(incident.id)[-1] == "exhausted"


def test_uncovered_step_moves_on_at_once_and_says_why(world, session):
    # Carol and Dave (the whole secondary rotation) are both away: PTO has nobody to hand the shift to.
    for name in ("carol", "dave"):
        schedules.add_time_off(session, user_id=world.uid(name), start_at=T0 - timedelta(days=1),
                               end_at=T0 + timedelta(days=1), now=T0)
    session.commit()
    world.set_policy("SEV2", [
        {"delay_minutes": 0, "targets": [rotation(world.primary_id)], "channels": ["sms"]},
        {"delay_minutes": 5, "targets": [rotation(world.secondary_id)], "channels": ["sms"]},
        {"delay_minutes": 10, "targets": [{"type": "user", "id": world.uid("erin")}], "channels": ["sms"]},
    ])
    incident = world.open("SEV2")
    assert world.tick(T0 + minutes(5)) == 1
    # Erin is paged at minute 5, not 15: the secondary's step did not hold the incident.
    assert world.pages(incident.id) == [("alice", "sms", 0, 0), ("erin", "sms", 2, 0)]
    uncovered = [e for e in world.timeline(incident.id) if e.kind == "uncovered"]
    assert len(uncovered) == 1 and uncovered[0].at == T0 + minutes(5)
    assert "nobody is on call for Secondary" in uncovered[0].detail["message"]
    assert "moving on at once" in uncovered[0].detail["message"]
    # Erin's step waits its own delay... and then the policy ends.
    assert world.incident(incident.id).next_step_at == T0 + minutes(15)


def test_pto_hands_the_page_to_the_next_participant(world, session):
    schedules.add_time_off(session, user_id=world.uid("alice"), start_at=T0 - timedelta(hours=1),
                           end_at=T0 + timedelta(days=2), reason="PTO", now=T0)
    session.commit()
    three_steps(world)
    incident = world.open("SEV2")
    assert world.pages(incident.id) == [("bob", "sms", 0, 0)]
    step = next(e for e in world.timeline(incident.id) if e.kind == "step")
    assert "Bob covers for Alice, who is on time off" in step.detail["message"]


def test_override_changes_who_is_paged(world, session):
    schedules.add_override(session, rotation_id=world.secondary_id, user_id=world.uid("erin"),
                           start_at=T0, end_at=T0 + timedelta(hours=2), reason="swap", now=T0)
    session.commit()
    three_steps(world)
    incident = world.open("SEV2")
    world.tick(T0 + minutes(5))
    assert world.pages(incident.id, step=1) == [("erin", "sms", 1, 0), ("erin", "voice", 1, 0)]


def test_people_on_time_off_are_skipped_in_team_and_user_targets(world, session):
    schedules.add_time_off(session, user_id=world.uid("erin"), start_at=T0 - timedelta(hours=1),
                           end_at=T0 + timedelta(hours=5), now=T0)
    session.commit()
    world.set_policy("SEV3", [{"delay_minutes": 0, "targets": [{"type": "team"}], "channels": ["sms"]}])
    incident = world.open("SEV3")
    assert [p[0] for p in world.pages(incident.id)] == ["alice", "bob", "carol", "dave"]


def test_the_policy_in_force_at_opening_is_the_one_followed(world):
    three_steps(world)
    incident = world.open("SEV2")
    world.set_policy("SEV2", [{"delay_minutes": 0, "targets": [{"type": "user", "id": world.uid("erin")}],
                               "channels": ["voice"]}])
    world.tick(T0 + minutes(5))
    assert world.pages(incident.id, step=1) == [("carol", "sms", 1, 0), ("carol", "voice", 1, 0)]
    later = world.open("SEV2", title="Another one", at=T0 + minutes(6))
    assert world.pages(later.id) == [("erin", "voice", 0, 0)]


def test_sev4_waits_for_business_hours(world):
    friday_night = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)  # Friday 22:00 in New York
    monday_morning = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # 09:00 EDT, after the spring-forward Sunday
    incident = world.open("SEV4", at=friday_night)
    assert world.notifications(incident.id) == []
    held = world.timeline(incident.id)[-1]
    assert held.kind == "held" and "Mon 2026-03-09 09:00" in held.detail["message"]
    assert world.incident(incident.id).next_step_at == monday_morning
    assert world.tick(monday_morning - timedelta(seconds=1)) == 0
    assert world.tick(monday_morning) == 1
    # The weekend handoff on Monday 09:00 made bob the primary.
    assert world.pages(incident.id) == [("bob", "sms", 0, 0)]


def test_sev4_step_falling_after_hours_is_held_to_the_next_morning(world):
    late_afternoon = datetime(2026, 3, 4, 21, 0, tzinfo=UTC)  # Wednesday 16:00 New York
    incident = world.open("SEV4", at=late_afternoon)
    assert world.pages(incident.id) == [("alice", "sms", 0, 0)]
    assert world.tick(late_afternoon + minutes(240)) == 1  # 20:00: held, not paged
    assert world.kinds(incident.id)[-1] == "held"
    thursday = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)
    assert world.incident(incident.id).next_step_at == thursday
    assert world.tick(thursday) == 1
    assert world.pages(incident.id, step=1) == [("carol", "sms", 1, 0)]


def test_opted_out_people_are_called_instead(world, session):
    world.users["alice"].sms_opted_out = True
    session.commit()
    three_steps(world)
    incident = world.open("SEV2")
    assert world.pages(incident.id) == [("alice", "voice", 0, 0)]
    opt_out = next(e for e in world.timeline(incident.id) if e.kind == "opt_out")
    assert "opted out of SMS" in opt_out.detail["message"] and opt_out.user_id == world.uid("alice")


def test_people_without_a_phone_cannot_be_paged_and_do_not_hold_the_incident(world, session):
    world.users["alice"].phone = None
    session.commit()
    three_steps(world)
    incident = world.open("SEV2")
    assert world.pages(incident.id) == [("carol", "sms", 1, 0), ("carol", "voice", 1, 0)]
    assert world.kinds(incident.id) == ["created", "unreachable", "uncovered", "step"]


def test_escalate_jumps_to_the_next_step_now(world):
    three_steps(world)
    incident = world.open("SEV2")
    incidents.escalate(world.session, world.incident(incident.id), user_id=world.uid("alice"), via="sms",
                       now=T0 + minutes(1))
    world.session.commit()
    assert world.pages(incident.id, step=1) == [("carol", "sms", 1, 0), ("carol", "voice", 1, 0)]
    assert world.incident(incident.id).next_step_at == T0 + minutes(11)
    escalated = next(e for e in world.timeline(incident.id) if e.kind == "escalated")
    assert escalated.via == "sms" and escalated.user_id == world.uid("alice")


def test_escalating_an_acknowledged_incident_triggers_it_again(world):
    three_steps(world)
    incident = world.open("SEV2")
    incidents.acknowledge(world.session, world.incident(incident.id), user_id=world.uid("alice"), via="api",
                          now=T0 + minutes(1))
    incidents.escalate(world.session, world.incident(incident.id), user_id=world.uid("alice"), via="api",
                       now=T0 + minutes(2))
    world.session.commit()
    current = world.incident(incident.id)
    assert current.status == "triggered" and current.acknowledged_at is None
    assert world.pages(incident.id, step=1) == [("carol", "sms", 1, 0), ("carol", "voice", 1, 0)]


def test_escalate_after_the_policy_ran_out_pages_its_last_step_again(world):
    world.set_policy("SEV3", [{"delay_minutes": 0, "targets": [rotation(world.primary_id)], "channels": ["sms"]}])
    incident = world.open("SEV3")
    world.tick(T0)
    assert world.kinds(incident.id)[-1] == "exhausted"
    incidents.escalate(world.session, world.incident(incident.id), user_id=None, via="api", now=T0 + minutes(3))
    world.session.commit()
    assert world.pages(incident.id) == [("alice", "sms", 0, 0), ("alice", "sms", 0, 1)]


def test_escalate_of_a_sev4_is_not_held(world):
    friday_night = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)
    incident = world.open("SEV4", at=friday_night)
    incidents.escalate(world.session, world.incident(incident.id), user_id=None, via="api", now=friday_night)
    world.session.commit()
    assert world.pages(incident.id) == [("alice", "sms", 0, 0)]


def test_resolved_incidents_cannot_be_escalated_and_resolving_twice_is_fine(world):
    incident = world.open("SEV2")
    for _ in range(2):
        incidents.resolve(world.session, world.incident(incident.id), user_id=None, via="alertmanager", now=T0)
    world.session.commit()
    assert world.kinds(incident.id).count("resolved") == 1
    with pytest.raises(Conflict):
        incidents.escalate(world.session, world.incident(incident.id), user_id=None, via="api", now=T0)
    with pytest.raises(Conflict):
        incidents.acknowledge(world.session, world.incident(incident.id), user_id=None, via="api", now=T0)
    assert world.tick(T0 + timedelta(hours=2)) == 0


def test_one_failing_incident_does_not_block_the_others(world, monkeypatch):
    three_steps(world)
    bad = world.open("SEV2", title="bad")
    good = world.open("SEV2", title="good")
    real = engine.fire_step

    def fire_step(session, incident, *args, **kwargs):
        if incident.id == bad.id:
            raise RuntimeError("boom")
        return real(session, incident, *args, **kwargs)

    monkeypatch.setattr(engine, "fire_step", fire_step)
    assert world.tick(T0 + minutes(5)) == 1
    assert world.pages(good.id, step=1)
    assert world.pages(bad.id, step=1) == []
    # The bad one is looked at again a little later rather than on every tick.
    assert world.incident(bad.id).next_step_at == T0 + minutes(5) + engine.RETRY_AFTER_ERROR
    monkeypatch.setattr(engine, "fire_step", real)
    assert world.tick(T0 + minutes(6)) == 1
    assert world.pages(bad.id, step=1)


def test_tick_in_a_given_session_leaves_the_commit_to_the_caller(world, session):
    three_steps(world)
    incident = world.open("SEV2")
    assert engine.tick(session, now=T0 + minutes(5)) == 1
    session.rollback()
    assert world.pages(incident.id, step=1) == []


def test_a_database_conflict_is_retried_next_tick_without_postponing(world, monkeypatch):
    from sqlalchemy.exc import OperationalError

    three_steps(world)
    incident = world.open("SEV2")
    real = engine.fire_step
    # Conflicts in the batch and again when redone alone: given up for this tick only.
    conflicts = iter([OperationalError("UPDATE incidents", {}, Exception("database is locked"))] * 2)

    def fire_step(*args, **kwargs):
        error = next(conflicts, None)
        if error is not None:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "fire_step", fire_step)
    assert world.tick(T0 + minutes(5)) == 0
    assert world.incident(incident.id).next_step_at == T0 + minutes(5)  # not pushed back
    assert world.tick(T0 + minutes(5) + timedelta(seconds=1)) == 1
    assert world.pages(incident.id, step=1)


def test_pto_and_overrides_added_mid_incident_change_who_the_next_step_pages(world, session):
    three_steps(world)
    incident = world.open("SEV2")
    # The secondary's schedule is read (and cached) before anyone changes it.
    assert [shift.user_id for _, shift in schedules.on_call_for(session, rotation_ids=[world.secondary_id],
                                                                 at=T0)] == [world.uid("carol")]
    schedules.add_time_off(session, user_id=world.uid("carol"), start_at=T0 + minutes(1),
                           end_at=T0 + timedelta(days=1), reason="sick", now=T0 + minutes(1))
    session.commit()
    world.tick(T0 + minutes(5))
    assert world.pages(incident.id, step=1) == [("dave", "sms", 1, 0), ("dave", "voice", 1, 0)]
    second = world.open("SEV2", title="Refunds slow", at=T0 + minutes(6))
    schedules.add_override(session, rotation_id=world.secondary_id, user_id=world.uid("erin"),
                           start_at=T0 + minutes(7), end_at=T0 + timedelta(hours=2), reason="swap",
                           now=T0 + minutes(7))
    session.commit()
    world.tick(T0 + minutes(11))
    assert world.pages(second.id, step=1) == [("erin", "sms", 1, 0), ("erin", "voice", 1, 0)]


def test_a_step_fired_again_writes_no_page_twice(world, session):
    # A retried transaction, or an escalate racing a tick, may fire a step whose pages are already in the
    # outbox: the unique constraint leaves them alone, one statement writes only the missing ones.
    from oncall.escalation.policy import Snapshot

    world.set_policy("SEV2", [{"delay_minutes": 0, "targets": [rotation(world.primary_id)], "channels": ["sms"]}])
    incident = world.open("SEV2")
    assert world.pages(incident.id) == [("alice", "sms", 0, 0)]
    snapshot = Snapshot.from_json(incident.policy)
    again = Snapshot.from_json({**incident.policy, "steps": [{**incident.policy["steps"][0],
                                                              "channels": ["sms", "voice"]}]})
    assert engine.fire_step(session, incident, snapshot, 0, 0, now=T0 + minutes(1))
    assert engine.fire_step(session, incident, again, 0, 0, now=T0 + minutes(1))  # adds the voice call only
    session.commit()
    assert world.pages(incident.id) == [("alice", "sms", 0, 0), ("alice", "voice", 0, 0)]
    assert world.kinds(incident.id) == ["created", "step", "exhausted", "step", "step"]
