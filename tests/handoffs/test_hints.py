"""Hint sentences for the coming shift (pure)."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from oncall.handoffs.draft import IncidentFact
from oncall.handoffs.hints import day, held_sev4_hints, moment, schedule_hints
from oncall.schedules import timeline

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
REF = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # Wednesday 09:00 New York
NAMES = {1: "Alice", 2: "Bob", 3: "Carol", 4: "Dave"}


def ny(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=NY).astimezone(UTC)


@pytest.mark.parametrize("at, text", [
    (ny(2026, 3, 4, 18), "today 18:00"),
    (ny(2026, 3, 5, 6), "tomorrow 06:00"),
    (ny(2026, 3, 6, 9), "Fri 09:00"),
    (ny(2026, 3, 10, 9), "Tue 09:00"),
    (ny(2026, 3, 11, 9), "Mar 11 09:00"),  # a week away: a date, not an ambiguous weekday
    (ny(2026, 3, 9, 9, 30), "Mon 09:30"),  # after the DST change on Mar 8, still local wall time
])
def test_moment(at, text):
    assert moment(at, REF, NY) == text


@pytest.mark.parametrize("at, text", [
    (ny(2026, 3, 6), "Friday"),
    (ny(2026, 3, 5), "tomorrow"),
    (ny(2026, 3, 6, 12), "Fri 12:00"),
    (ny(2026, 3, 20), "March 20"),
])
def test_day(at, text):
    assert day(at, REF, NY) == text


def weekly(participants=(1, 2, 3)):
    return [timeline.RotationVersion(effective_at=None, time_zone="America/New_York", handoff_time=time(9, 0),
                                     shift_length=timeline.ShiftLength("weeks", 1), start_date=date(2026, 3, 4),
                                     participant_ids=tuple(participants))]


SHIFT = (ny(2026, 3, 4, 9), ny(2026, 3, 11, 9))  # Alice's first week


@pytest.mark.parametrize("overrides, time_off, expected", [
    ([], [], []),
    # Alice away for the whole week and beyond: Bob (next in order) covers
    ([], [timeline.TimeOff(1, ny(2026, 3, 1), ny(2026, 3, 13))],
     ["Alice is on PTO until March 13, escalate to Bob instead"]),
    # away from Friday: the sentence says from when
    ([], [timeline.TimeOff(1, ny(2026, 3, 6), ny(2026, 3, 8))],
     ["Alice is on PTO from Fri 00:00 until Sunday, escalate to Bob instead"]),
    # touching entries are one absence; Bob is away too, so Carol covers
    ([], [timeline.TimeOff(1, ny(2026, 3, 1), ny(2026, 3, 5)), timeline.TimeOff(1, ny(2026, 3, 5), ny(2026, 3, 6)),
          timeline.TimeOff(2, ny(2026, 3, 1), ny(2026, 3, 20))],
     ["Alice is on PTO until Friday, escalate to Carol instead"]),
    # an override, with its reason
    ([timeline.Override(4, ny(2026, 3, 5, 18), ny(2026, 3, 6, 6), id=9)], [],
     ["Dave covers for Alice from tomorrow 18:00 to Fri 06:00 (override: Covering the evening)"]),
    # everyone away: a gap
    ([], [timeline.TimeOff(u, ny(2026, 3, 7), ny(2026, 3, 8)) for u in (1, 2, 3)],
     ["Nobody is on call from Sat 00:00 to Sun 00:00; pages go to the next escalation step"]),
])
def test_schedule_hints(overrides, time_off, expected):
    schedule = timeline.build_schedule(weekly(), overrides, time_off)
    hints = schedule_hints(schedule, *SHIFT, names=NAMES, tz=NY, override_reasons={9: "Covering  the evening"})
    assert hints == expected


def test_override_by_the_on_call_themselves_is_not_news():
    schedule = timeline.build_schedule(weekly(), [timeline.Override(1, ny(2026, 3, 5), ny(2026, 3, 6), id=1)])
    assert schedule_hints(schedule, *SHIFT, names=NAMES, tz=NY) == []


def test_unknown_names_do_not_crash():
    schedule = timeline.build_schedule(weekly(), [timeline.Override(42, ny(2026, 3, 5), ny(2026, 3, 6))])
    assert schedule_hints(schedule, *SHIFT, names={}, tz=NY) == [
        "user 42 covers for user 1 from tomorrow 00:00 to Fri 00:00 (override)"]


HOURS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": time(9, 0), "end": time(17, 0), "tz": NY}


def sev4(id, status="triggered", severity="SEV4"):
    return IncidentFact(id=id, severity=severity, title=f"Minor {id}", status=status, created_at=REF, url="u")


@pytest.mark.parametrize("incidents, at, expected", [
    ([], ny(2026, 3, 6, 18), []),
    ([sev4(1)], ny(2026, 3, 4, 10), []),  # business hours: it pages now
    ([sev4(1)], ny(2026, 3, 6, 18), ['SEV4 "Minor 1" is waiting for business hours; it pages Mon 09:00']),
    ([sev4(1), sev4(2)], ny(2026, 3, 4, 20), ["2 SEV4 pages are waiting for business hours; they go out tomorrow 09:00"]),
    ([sev4(1)], ny(2026, 3, 4, 17), ['SEV4 "Minor 1" is waiting for business hours; it pages tomorrow 09:00']),  # closing time
    ([sev4(1)], ny(2026, 3, 7, 12), ['SEV4 "Minor 1" is waiting for business hours; it pages Mon 09:00']),  # DST weekend
    ([sev4(1, status="acknowledged"), sev4(2, severity="SEV3")], ny(2026, 3, 6, 18), []),
])
def test_held_sev4_hints(incidents, at, expected):
    assert held_sev4_hints(incidents, at, **HOURS) == expected


def test_held_sev4_without_business_days():
    assert held_sev4_hints([sev4(1)], REF, days=[], start=time(9), end=time(17), tz=NY) == [
        'SEV4 "Minor 1" is waiting for business hours; it pages when business hours are set for the team']
