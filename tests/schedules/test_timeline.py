"""Shift maths, table by table: local time, DST, versions, overrides, PTO, merging, bad input."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz

from oncall.schedules import timeline
from oncall.schedules.timeline import Override, RotationVersion, ShiftLength, TimeOff

UTC = timezone.utc
Z = datetime.fromisoformat  # Python 3.11 reads the trailing "Z"


def version(zone="UTC", handoff="09:00", unit="days", count=1, start="2026-06-01", people=(1, 2, 3),
            effective_at=None) -> RotationVersion:
    return RotationVersion(
        effective_at=None if effective_at is None else Z(effective_at),
        time_zone=zone,
        handoff_time=time.fromisoformat(handoff),
        shift_length=ShiftLength(unit, count),
        start_date=date.fromisoformat(start),
        participant_ids=tuple(people),
    )


def stamp(at: datetime) -> str:
    assert at.utcoffset() == timedelta(0)
    return f"{at:%Y-%m-%dT%H:%M}Z"


def rows(shifts) -> list[tuple]:
    """Shifts as (start, end, user, source[, covering_for | override_id]) in UTC text."""
    out = []
    for s in shifts:
        row = (stamp(s.start_at), stamp(s.end_at), s.user_id, s.source)
        if s.covering_for is not None:
            row += (s.covering_for,)
        if s.override_id is not None:
            row += (f"#{s.override_id}",)
        out.append(row)
    return out


def shifts(versions, start, end, overrides=(), time_off=()) -> list[tuple]:
    schedule = timeline.build_schedule(versions, overrides, time_off)
    return rows(timeline.shifts_between(schedule, Z(start), Z(end)))


# --- local time -------------------------------------------------------------------------------

@pytest.mark.parametrize("zone, day, wall, expected", [
    # New York: 02:00 EST jumps to 03:00 EDT; 02:00 EDT falls back to 01:00 EST.
    ("America/New_York", "2026-03-08", "01:59", "2026-03-08T06:59Z"),
    ("America/New_York", "2026-03-08", "02:00", "2026-03-08T07:00Z"),  # gap: when it ends
    ("America/New_York", "2026-03-08", "02:30", "2026-03-08T07:00Z"),
    ("America/New_York", "2026-03-08", "03:00", "2026-03-08T07:00Z"),
    ("America/New_York", "2026-03-08", "03:30", "2026-03-08T07:30Z"),
    ("America/New_York", "2026-11-01", "01:00", "2026-11-01T05:00Z"),  # ambiguous: first (EDT)
    ("America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30Z"),
    ("America/New_York", "2026-11-01", "02:00", "2026-11-01T07:00Z"),
    # London: 01:00 GMT jumps to 02:00 BST; 02:00 BST falls back to 01:00 GMT.
    ("Europe/London", "2026-03-29", "00:30", "2026-03-29T00:30Z"),
    ("Europe/London", "2026-03-29", "01:30", "2026-03-29T01:00Z"),
    ("Europe/London", "2026-03-29", "02:00", "2026-03-29T01:00Z"),
    ("Europe/London", "2026-10-25", "01:30", "2026-10-25T00:30Z"),
    ("Europe/London", "2026-10-25", "02:00", "2026-10-25T02:00Z"),
    # Kolkata: +05:30 all year, no DST.
    ("Asia/Kolkata", "2026-03-08", "02:30", "2026-03-07T21:00Z"),
    ("Asia/Kolkata", "2026-11-01", "00:00", "2026-10-31T18:30Z"),
    ("Asia/Kolkata", "2026-06-15", "09:00", "2026-06-15T03:30Z"),
    # Lord Howe moves by 30 minutes: 02:00 (+11) falls back to 01:30 (+10:30), and
    # 02:00 (+10:30) jumps to 02:30 (+11).
    ("Australia/Lord_Howe", "2026-04-05", "01:29", "2026-04-04T14:29Z"),
    ("Australia/Lord_Howe", "2026-04-05", "01:30", "2026-04-04T14:30Z"),
    ("Australia/Lord_Howe", "2026-04-05", "01:45", "2026-04-04T14:45Z"),
    ("Australia/Lord_Howe", "2026-04-05", "02:00", "2026-04-04T15:30Z"),
    ("Australia/Lord_Howe", "2026-10-04", "01:59", "2026-10-03T15:29Z"),
    ("Australia/Lord_Howe", "2026-10-04", "02:00", "2026-10-03T15:30Z"),
    ("Australia/Lord_Howe", "2026-10-04", "02:15", "2026-10-03T15:30Z"),
    ("Australia/Lord_Howe", "2026-10-04", "02:30", "2026-10-03T15:30Z"),
    ("Australia/Lord_Howe", "2026-10-04", "02:45", "2026-10-03T15:45Z"),
    ("UTC", "2026-12-31", "23:59", "2026-12-31T23:59Z"),
])
def test_resolve_local(zone, day, wall, expected):
    resolved = timeline.resolve_local(date.fromisoformat(day), time.fromisoformat(wall), ZoneInfo(zone))
    assert resolved.tzinfo is not None and stamp(resolved) == expected


@pytest.mark.parametrize("zone", [
    "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
    "America/Santiago", "Europe/Berlin",
])
def test_resolve_local_agrees_with_dateutil_all_year(zone):
    """dateutil implements the same tz database independently; check every day of 2026."""
    other = dateutil_tz.gettz(zone)
    walls = [time(h, m) for h in (0, 1, 2, 3, 9, 23) for m in (0, 15, 30, 45)]
    gaps = 0
    for n in range(365):
        day = date(2026, 1, 1) + timedelta(days=n)
        for wall in walls:
            resolved = timeline.resolve_local(day, wall, ZoneInfo(zone))
            naive = datetime.combine(day, wall)
            if dateutil_tz.datetime_exists(naive, tz=other):
                # dateutil's fold=0 is the first occurrence of an ambiguous time, as required.
                assert resolved == naive.replace(tzinfo=other).astimezone(UTC), (day, wall)
            else:
                gaps += 1
                # The gap's end: the offset changes exactly there and the wall clock passes `naive`.
                before = (resolved - timedelta(seconds=1)).astimezone(other)
                assert before.utcoffset() != resolved.astimezone(other).utcoffset(), (day, wall)
                assert before.replace(tzinfo=None) < naive <= resolved.astimezone(other).replace(tzinfo=None)
    assert (gaps > 0) == (zone != "Asia/Kolkata")  # the sample does reach every DST gap


@pytest.mark.parametrize("day, wall", [
    (datetime(2026, 3, 8, 2, 30), time(2, 30)),  # a datetime is not a date
    (date(2026, 3, 8), time(2, 30, tzinfo=UTC)),  # wall-clock times are naive
])
def test_resolve_local_rejects_bad_input(day, wall):
    with pytest.raises(ValueError):
        timeline.resolve_local(day, wall, ZoneInfo("America/New_York"))


# --- base shifts across DST --------------------------------------------------------------------

@pytest.mark.parametrize("rotation, start, end, expected", [
    # Daily 09:00 New York: the 23-hour day keeps 09:00 local.
    (version("America/New_York", "09:00", "days", 1, "2026-03-06", (1, 2)),
     "2026-03-06T00:00Z", "2026-03-10T13:00Z",
     [("2026-03-06T14:00Z", "2026-03-07T14:00Z", 1, "rotation"),
      ("2026-03-07T14:00Z", "2026-03-08T13:00Z", 2, "rotation"),
      ("2026-03-08T13:00Z", "2026-03-09T13:00Z", 1, "rotation"),
      ("2026-03-09T13:00Z", "2026-03-10T13:00Z", 2, "rotation")]),
    # ... and the 25-hour day in November.
    (version("America/New_York", "09:00", "days", 1, "2026-10-31", (1, 2)),
     "2026-10-31T13:00Z", "2026-11-02T14:00Z",
     [("2026-10-31T13:00Z", "2026-11-01T14:00Z", 1, "rotation"),
      ("2026-11-01T14:00Z", "2026-11-02T14:00Z", 2, "rotation")]),
    # PRODUCT.md: weekly 09:00 New York from Monday 2026-01-05; the week over spring-forward is 167 h.
    (version("America/New_York", "09:00", "weeks", 1, "2026-01-05", (1, 2, 3)),
     "2026-03-01T00:00Z", "2026-03-17T00:00Z",
     [("2026-03-01T00:00Z", "2026-03-02T14:00Z", 2, "rotation"),
      ("2026-03-02T14:00Z", "2026-03-09T13:00Z", 3, "rotation"),
      ("2026-03-09T13:00Z", "2026-03-16T13:00Z", 1, "rotation"),
      ("2026-03-16T13:00Z", "2026-03-17T00:00Z", 2, "rotation")]),
    # London at 01:30: a day when 01:30 does not exist (it happens at 02:00 BST = 01:00Z) ...
    (version("Europe/London", "01:30", "days", 1, "2026-03-28", (1, 2)),
     "2026-03-28T00:00Z", "2026-03-30T12:00Z",
     [("2026-03-28T01:30Z", "2026-03-29T01:00Z", 1, "rotation"),
      ("2026-03-29T01:00Z", "2026-03-30T00:30Z", 2, "rotation"),
      ("2026-03-30T00:30Z", "2026-03-30T12:00Z", 1, "rotation")]),
    # ... and a day when it happens twice (the first one counts).
    (version("Europe/London", "01:30", "days", 1, "2026-10-24", (1, 2)),
     "2026-10-24T00:30Z", "2026-10-26T01:30Z",
     [("2026-10-24T00:30Z", "2026-10-25T00:30Z", 1, "rotation"),
      ("2026-10-25T00:30Z", "2026-10-26T01:30Z", 2, "rotation")]),
    # Lord Howe, 30-minute DST: a 24.5-hour day in April and a 23.5-hour one in October.
    (version("Australia/Lord_Howe", "02:00", "days", 1, "2026-04-04", (1, 2)),
     "2026-04-03T15:00Z", "2026-04-05T15:30Z",
     [("2026-04-03T15:00Z", "2026-04-04T15:30Z", 1, "rotation"),
      ("2026-04-04T15:30Z", "2026-04-05T15:30Z", 2, "rotation")]),
    (version("Australia/Lord_Howe", "02:00", "days", 1, "2026-10-03", (1, 2)),
     "2026-10-02T15:30Z", "2026-10-04T15:00Z",
     [("2026-10-02T15:30Z", "2026-10-03T15:30Z", 1, "rotation"),  # 02:00 on the 4th = gap's end
      ("2026-10-03T15:30Z", "2026-10-04T15:00Z", 2, "rotation")]),
    (version("Australia/Lord_Howe", "09:00", "weeks", 1, "2026-09-28", (1, 2)),
     "2026-09-27T22:00Z", "2026-10-11T22:00Z",
     [("2026-09-27T22:30Z", "2026-10-04T22:00Z", 1, "rotation"),  # 167.5 hours
      ("2026-10-04T22:00Z", "2026-10-11T22:00Z", 2, "rotation")]),
    # Kolkata has no DST: every week is 168 hours at 03:30Z.
    (version("Asia/Kolkata", "09:00", "weeks", 2, "2026-03-02", (1, 2)),
     "2026-03-02T03:30Z", "2026-04-13T03:30Z",
     [("2026-03-02T03:30Z", "2026-03-16T03:30Z", 1, "rotation"),
      ("2026-03-16T03:30Z", "2026-03-30T03:30Z", 2, "rotation"),
      ("2026-03-30T03:30Z", "2026-04-13T03:30Z", 1, "rotation")]),
    # Hour-based shifts are fixed durations: 12 hours stay 12 hours over spring-forward ...
    (version("America/New_York", "08:00", "hours", 12, "2026-03-07", (1, 2)),
     "2026-03-07T13:00Z", "2026-03-09T13:00Z",
     [("2026-03-07T13:00Z", "2026-03-08T01:00Z", 1, "rotation"),
      ("2026-03-08T01:00Z", "2026-03-08T13:00Z", 2, "rotation"),  # ends 09:00 EDT, not 08:00
      ("2026-03-08T13:00Z", "2026-03-09T01:00Z", 1, "rotation"),
      ("2026-03-09T01:00Z", "2026-03-09T13:00Z", 2, "rotation")]),
    # ... and 8 hours stay 8 hours over Lord Howe's fall-back.
    (version("Australia/Lord_Howe", "00:00", "hours", 8, "2026-04-05", (1, 2, 3)),
     "2026-04-04T13:00Z", "2026-04-05T13:00Z",
     [("2026-04-04T13:00Z", "2026-04-04T21:00Z", 1, "rotation"),
      ("2026-04-04T21:00Z", "2026-04-05T05:00Z", 2, "rotation"),
      ("2026-04-05T05:00Z", "2026-04-05T13:00Z", 3, "rotation")]),
    # An hour-based rotation whose first handoff is in the gap starts when the gap ends.
    (version("America/New_York", "02:30", "hours", 6, "2026-03-08", (1, 2)),
     "2026-03-08T00:00Z", "2026-03-08T19:00Z",
     [("2026-03-08T07:00Z", "2026-03-08T13:00Z", 1, "rotation"),
      ("2026-03-08T13:00Z", "2026-03-08T19:00Z", 2, "rotation")]),
])
def test_base_shifts(rotation, start, end, expected):
    assert shifts([rotation], start, end) == expected


@pytest.mark.parametrize("rotation, start, end, expected", [
    # Month ends: two-day shifts walk through February into March.
    (version("UTC", "09:00", "days", 2, "2026-01-30", (1, 2)), "2026-02-25T00:00Z", "2026-03-04T00:00Z",
     ["2026-02-25T09:00Z", "2026-02-27T09:00Z", "2026-03-01T09:00Z", "2026-03-03T09:00Z"]),
    # ... and the year end, at 21:00 in New York, where the UTC date runs a day ahead.
    (version("America/New_York", "21:00", "days", 1, "2026-12-29", (1,)), "2026-12-30T00:00Z", "2027-01-02T03:00Z",
     ["2026-12-30T02:00Z", "2026-12-31T02:00Z", "2027-01-01T02:00Z", "2027-01-02T02:00Z"]),
    # The rotation start is a handoff; nothing before it is.
    (version("UTC", "09:00", "days", 1, "2026-06-01", (1, 2)), "2026-05-30T00:00Z", "2026-06-03T09:00Z",
     ["2026-06-01T09:00Z", "2026-06-02T09:00Z"]),
    # One participant: still a handoff per shift, even though shifts_between merges them.
    (version("UTC", "09:00", "weeks", 1, "2026-06-01", (7,)), "2026-06-01T09:00Z", "2026-06-15T09:01Z",
     ["2026-06-01T09:00Z", "2026-06-08T09:00Z", "2026-06-15T09:00Z"]),
])
def test_handoffs_between(rotation, start, end, expected):
    schedule = timeline.build_schedule([rotation])
    assert [stamp(t) for t in timeline.handoffs_between(schedule, Z(start), Z(end))] == expected


@pytest.mark.parametrize("at, expected", [
    # Shift k starts on day 2k after 2026-01-30: k=14 on 02-27, k=15 on 03-01, k=167 on 12-30.
    ("2026-02-28T23:59Z", ("2026-02-27T09:00Z", "2026-03-01T09:00Z", 1, "rotation")),
    ("2026-03-01T09:00Z", ("2026-03-01T09:00Z", "2026-03-03T09:00Z", 2, "rotation")),
    ("2026-12-31T23:59Z", ("2026-12-30T09:00Z", "2027-01-01T09:00Z", 2, "rotation")),
    ("2026-01-30T08:59Z", ("2026-01-30T08:59Z", "2026-01-30T09:00Z", None, "uncovered")),  # before the start
])
def test_on_call_at_month_and_year_ends(at, expected):
    schedule = timeline.build_schedule([version("UTC", "09:00", "days", 2, "2026-01-30", (1, 2))])
    assert rows([timeline.on_call_at(schedule, Z(at))]) == [expected]


# --- the PRODUCT.md example --------------------------------------------------------------------

def test_product_example():
    schedule = timeline.build_schedule([version("America/New_York", "09:00", "weeks", 1, "2026-01-05", (1, 2, 3))])
    assert timeline.rotation_start_at(schedule) == Z("2026-01-05T14:00Z")
    found = timeline.on_call_at(schedule, Z("2026-03-04T12:00Z"))
    assert found == timeline.Shift(Z("2026-03-02T14:00Z"), Z("2026-03-09T13:00Z"), 3, "rotation")
    window = timeline.shifts_between(schedule, Z("2026-03-01T00:00Z"), Z("2026-04-01T00:00Z"))
    assert found in window


@pytest.mark.parametrize("start, end, expected", [
    # Before the rotation start there is no schedule at all.
    ("2026-05-01T00:00Z", "2026-06-01T09:00Z", []),
    ("2026-05-31T00:00Z", "2026-06-02T00:00Z",
     [("2026-06-01T09:00Z", "2026-06-02T00:00Z", 1, "rotation")]),
    # A single participant for a month is one shift.
    ("2026-06-01T00:00Z", "2026-07-01T00:00Z",
     [("2026-06-01T09:00Z", "2026-07-01T00:00Z", 1, "rotation")]),
])
def test_window_before_start_and_single_participant(start, end, expected):
    assert shifts([version(people=(1,))], start, end) == expected


# --- versions ----------------------------------------------------------------------------------

DAILY_NY = version("America/New_York", "09:00", "days", 1, "2026-01-05", (1, 2, 3))


@pytest.mark.parametrize("later, start, end, expected", [
    # Daily becomes weekly mid-shift: user 1's day is cut at 20:00Z; the new version's shift in
    # progress (k=-1, since its start date is the next day) runs from the change to its first handoff.
    (version("America/New_York", "09:00", "weeks", 1, "2026-02-02", (4, 5), effective_at="2026-02-01T20:00Z"),
     "2026-01-31T14:00Z", "2026-02-10T00:00Z",
     [("2026-01-31T14:00Z", "2026-02-01T14:00Z", 3, "rotation"),
      ("2026-02-01T14:00Z", "2026-02-01T20:00Z", 1, "rotation"),
      ("2026-02-01T20:00Z", "2026-02-02T14:00Z", 5, "rotation"),
      ("2026-02-02T14:00Z", "2026-02-09T14:00Z", 4, "rotation"),
      ("2026-02-09T14:00Z", "2026-02-10T00:00Z", 5, "rotation")]),
    # A new handoff time and zone: the shift in progress is cut, the new one starts at the change.
    (version("Europe/London", "08:00", "days", 1, "2026-01-05", (3, 1, 2), effective_at="2026-02-01T16:00Z"),
     "2026-02-01T14:00Z", "2026-02-03T00:00Z",
     [("2026-02-01T14:00Z", "2026-02-01T16:00Z", 1, "rotation"),
      ("2026-02-01T16:00Z", "2026-02-02T08:00Z", 3, "rotation"),
      ("2026-02-02T08:00Z", "2026-02-03T00:00Z", 1, "rotation")]),
    # Same person on both sides of the change: one merged shift.
    (version("America/New_York", "09:00", "days", 1, "2026-02-01", (1, 3), effective_at="2026-02-01T18:00Z"),
     "2026-02-01T14:00Z", "2026-02-03T00:00Z",
     [("2026-02-01T14:00Z", "2026-02-02T14:00Z", 1, "rotation"),
      ("2026-02-02T14:00Z", "2026-02-03T00:00Z", 3, "rotation")]),
    # A change dated before the rotation starts replaces the first version from the start.
    (version("UTC", "12:00", "days", 1, "2026-01-05", (8, 9), effective_at="2026-01-01T00:00Z"),
     "2026-01-01T00:00Z", "2026-01-07T00:00Z",
     [("2026-01-05T14:00Z", "2026-01-06T12:00Z", 8, "rotation"),
      ("2026-01-06T12:00Z", "2026-01-07T00:00Z", 9, "rotation")]),
])
def test_version_changes(later, start, end, expected):
    assert shifts([DAILY_NY, later], start, end) == expected


def test_version_change_is_a_handoff_and_on_call_at_sees_it():
    later = version("America/New_York", "09:00", "weeks", 1, "2026-02-02", (4, 5), effective_at="2026-02-01T20:00Z")
    schedule = timeline.build_schedule([DAILY_NY, later])
    assert [stamp(t) for t in timeline.handoffs_between(schedule, Z("2026-02-01T00:00Z"), Z("2026-02-03T00:00Z"))] \
        == ["2026-02-01T14:00Z", "2026-02-01T20:00Z", "2026-02-02T14:00Z"]
    assert rows([timeline.on_call_at(schedule, Z("2026-02-01T19:59Z"))]) \
        == [("2026-02-01T14:00Z", "2026-02-01T20:00Z", 1, "rotation")]
    assert rows([timeline.on_call_at(schedule, Z("2026-02-01T20:00Z"))]) \
        == [("2026-02-01T20:00Z", "2026-02-02T14:00Z", 5, "rotation")]
    assert rows([timeline.base_shift_at(schedule, Z("2026-02-05T00:00Z"))]) \
        == [("2026-02-02T14:00Z", "2026-02-09T14:00Z", 4, "rotation")]


# --- overrides ---------------------------------------------------------------------------------

DAILY = version()  # UTC, 09:00, days, from 2026-06-01: 1, 2, 3, 1, ...


@pytest.mark.parametrize("overrides, expected", [
    # Part of a shift.
    ([Override(7, Z("2026-06-01T12:00Z"), Z("2026-06-01T15:00Z"), id=1)],
     [("2026-06-01T09:00Z", "2026-06-01T12:00Z", 1, "rotation"),
      ("2026-06-01T12:00Z", "2026-06-01T15:00Z", 7, "override", "#1"),
      ("2026-06-01T15:00Z", "2026-06-02T09:00Z", 1, "rotation"),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation")]),
    # A whole shift, by someone already in the rotation: sources differ, so no merging.
    ([Override(2, Z("2026-06-01T09:00Z"), Z("2026-06-02T09:00Z"), id=2)],
     [("2026-06-01T09:00Z", "2026-06-02T09:00Z", 2, "override", "#2"),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation")]),
    # Several shifts, and past both ends of the rotation's start.
    ([Override(7, Z("2026-05-20T00:00Z"), Z("2026-06-02T18:00Z"), id=3)],
     [("2026-06-01T09:00Z", "2026-06-02T18:00Z", 7, "override", "#3"),
      ("2026-06-02T18:00Z", "2026-06-03T09:00Z", 2, "rotation")]),
    # Back-to-back overrides stay apart (different ids); unsorted input is fine.
    ([Override(7, Z("2026-06-02T00:00Z"), Z("2026-06-02T12:00Z"), id=5),
      Override(7, Z("2026-06-01T12:00Z"), Z("2026-06-02T00:00Z"), id=4)],
     [("2026-06-01T09:00Z", "2026-06-01T12:00Z", 1, "rotation"),
      ("2026-06-01T12:00Z", "2026-06-02T00:00Z", 7, "override", "#4"),
      ("2026-06-02T00:00Z", "2026-06-02T12:00Z", 7, "override", "#5"),
      ("2026-06-02T12:00Z", "2026-06-03T09:00Z", 2, "rotation")]),
    # Overlaps (which the API rejects) resolve to the later override in the input.
    ([Override(7, Z("2026-06-01T10:00Z"), Z("2026-06-01T20:00Z"), id=6),
      Override(8, Z("2026-06-01T12:00Z"), Z("2026-06-01T14:00Z"), id=7)],
     [("2026-06-01T09:00Z", "2026-06-01T10:00Z", 1, "rotation"),
      ("2026-06-01T10:00Z", "2026-06-01T12:00Z", 7, "override", "#6"),
      ("2026-06-01T12:00Z", "2026-06-01T14:00Z", 8, "override", "#7"),
      ("2026-06-01T14:00Z", "2026-06-01T20:00Z", 7, "override", "#6"),
      ("2026-06-01T20:00Z", "2026-06-02T09:00Z", 1, "rotation"),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation")]),
])
def test_overrides(overrides, expected):
    assert shifts([DAILY], "2026-06-01T00:00Z", "2026-06-03T09:00Z", overrides) == expected


@pytest.mark.parametrize("at, expected", [
    # Outside the override: the piece of the base shift around `at`.
    ("2026-06-01T10:00Z", ("2026-06-01T09:00Z", "2026-06-01T12:00Z", 1, "rotation")),
    ("2026-06-02T08:00Z", ("2026-06-02T06:00Z", "2026-06-02T09:00Z", 1, "rotation")),
    # Inside: the whole override, beyond the base shift.
    ("2026-06-01T13:00Z", ("2026-06-01T12:00Z", "2026-06-02T06:00Z", 7, "override", "#1")),
    ("2026-06-02T05:00Z", ("2026-06-01T12:00Z", "2026-06-02T06:00Z", 7, "override", "#1")),
])
def test_on_call_at_with_overrides(at, expected):
    schedule = timeline.build_schedule([DAILY], [Override(7, Z("2026-06-01T12:00Z"), Z("2026-06-02T06:00Z"), id=1)])
    assert rows([timeline.on_call_at(schedule, Z(at))]) == [expected]


# --- time off ----------------------------------------------------------------------------------

def off(user, start, end):
    return TimeOff(user, Z(start), Z(end))


@pytest.mark.parametrize("time_off, expected", [
    # Part of a shift: the next participant takes it.
    ([off(1, "2026-06-01T12:00Z", "2026-06-01T18:00Z")],
     [("2026-06-01T09:00Z", "2026-06-01T12:00Z", 1, "rotation"),
      ("2026-06-01T12:00Z", "2026-06-01T18:00Z", 2, "time_off", 1),
      ("2026-06-01T18:00Z", "2026-06-02T09:00Z", 1, "rotation"),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation"),
      ("2026-06-03T09:00Z", "2026-06-04T09:00Z", 3, "rotation")]),
    # The next one is away for part of it, so the one after takes the whole stretch.
    ([off(1, "2026-06-01T09:00Z", "2026-06-02T09:00Z"), off(2, "2026-06-01T09:00Z", "2026-06-01T15:00Z")],
     [("2026-06-01T09:00Z", "2026-06-02T09:00Z", 3, "time_off", 1),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation"),
      ("2026-06-03T09:00Z", "2026-06-04T09:00Z", 3, "rotation")]),
    # Nobody is free for the whole stretch: split at time-off edges between 3 and 2.
    ([off(1, "2026-06-01T09:00Z", "2026-06-02T09:00Z"), off(2, "2026-06-01T09:00Z", "2026-06-01T15:00Z"),
      off(3, "2026-06-01T15:00Z", "2026-06-02T12:00Z")],
     [("2026-06-01T09:00Z", "2026-06-01T15:00Z", 3, "time_off", 1),
      ("2026-06-01T15:00Z", "2026-06-02T09:00Z", 2, "time_off", 1),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation"),
      ("2026-06-03T09:00Z", "2026-06-04T09:00Z", 3, "rotation")]),
    # Everyone away at once: that piece is uncovered.
    ([off(1, "2026-06-01T09:00Z", "2026-06-02T09:00Z"), off(2, "2026-06-01T09:00Z", "2026-06-01T15:00Z"),
      off(3, "2026-06-01T12:00Z", "2026-06-01T20:00Z")],
     [("2026-06-01T09:00Z", "2026-06-01T12:00Z", 3, "time_off", 1),
      ("2026-06-01T12:00Z", "2026-06-01T15:00Z", None, "uncovered"),
      ("2026-06-01T15:00Z", "2026-06-02T09:00Z", 2, "time_off", 1),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation"),
      ("2026-06-03T09:00Z", "2026-06-04T09:00Z", 3, "rotation")]),
    # Order wraps around: 3's substitute is 1.
    ([off(3, "2026-06-03T00:00Z", "2026-06-05T00:00Z")],
     [("2026-06-01T09:00Z", "2026-06-02T09:00Z", 1, "rotation"),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation"),
      ("2026-06-03T09:00Z", "2026-06-04T09:00Z", 1, "time_off", 3)]),
    # Time off across several shifts only touches the absent person's own shifts; overlapping and
    # touching entries are one absence.
    ([off(1, "2026-06-01T18:00Z", "2026-06-02T12:00Z"), off(1, "2026-06-02T12:00Z", "2026-06-04T10:00Z"),
      off(1, "2026-06-03T00:00Z", "2026-06-03T01:00Z")],
     [("2026-06-01T09:00Z", "2026-06-01T18:00Z", 1, "rotation"),
      ("2026-06-01T18:00Z", "2026-06-02T09:00Z", 2, "time_off", 1),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation"),
      ("2026-06-03T09:00Z", "2026-06-04T09:00Z", 3, "rotation")]),
    # Touching entries are one absence, so one stretch: 2 is busy during part of it, 3 takes it all.
    ([off(1, "2026-06-01T09:00Z", "2026-06-01T13:00Z"), off(1, "2026-06-01T13:00Z", "2026-06-02T09:00Z"),
      off(2, "2026-06-01T15:00Z", "2026-06-01T16:00Z")],
     [("2026-06-01T09:00Z", "2026-06-02T09:00Z", 3, "time_off", 1),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation"),
      ("2026-06-03T09:00Z", "2026-06-04T09:00Z", 3, "rotation")]),
    # Time off that only touches a substitute's stretch does not make them unavailable.
    ([off(1, "2026-06-01T09:00Z", "2026-06-01T12:00Z"), off(2, "2026-06-01T12:00Z", "2026-06-01T14:00Z")],
     [("2026-06-01T09:00Z", "2026-06-01T12:00Z", 2, "time_off", 1),
      ("2026-06-01T12:00Z", "2026-06-02T09:00Z", 1, "rotation"),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation"),
      ("2026-06-03T09:00Z", "2026-06-04T09:00Z", 3, "rotation")]),
    # Time off of someone outside the rotation changes nothing.
    ([off(42, "2026-06-01T00:00Z", "2026-06-05T00:00Z")],
     [("2026-06-01T09:00Z", "2026-06-02T09:00Z", 1, "rotation"),
      ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation"),
      ("2026-06-03T09:00Z", "2026-06-04T09:00Z", 3, "rotation")]),
])
def test_time_off(time_off, expected):
    assert shifts([DAILY], "2026-06-01T09:00Z", "2026-06-04T09:00Z", time_off=time_off) == expected


def test_time_off_in_a_one_person_rotation_is_uncovered():
    assert shifts([version(people=(1,))], "2026-06-01T09:00Z", "2026-06-03T09:00Z",
                  time_off=[off(1, "2026-06-01T20:00Z", "2026-06-02T02:00Z")]) == [
        ("2026-06-01T09:00Z", "2026-06-01T20:00Z", 1, "rotation"),
        ("2026-06-01T20:00Z", "2026-06-02T02:00Z", None, "uncovered"),
        ("2026-06-02T02:00Z", "2026-06-03T09:00Z", 1, "rotation"),
    ]


def test_a_substitute_stretch_does_not_depend_on_the_window():
    # 2 is away for an hour of 1's PTO stretch, so 3 covers all of it, whichever part is asked for.
    schedule = timeline.build_schedule([DAILY], time_off=[
        off(1, "2026-06-01T09:00Z", "2026-06-02T09:00Z"), off(2, "2026-06-02T08:00Z", "2026-06-02T09:00Z")])
    assert rows(timeline.shifts_between(schedule, Z("2026-06-01T10:00Z"), Z("2026-06-01T11:00Z"))) \
        == [("2026-06-01T10:00Z", "2026-06-01T11:00Z", 3, "time_off", 1)]
    assert rows([timeline.on_call_at(schedule, Z("2026-06-01T10:00Z"))]) \
        == [("2026-06-01T09:00Z", "2026-06-02T09:00Z", 3, "time_off", 1)]


@pytest.mark.parametrize("overrides, time_off, expected", [
    # The override wins over the substitute, even when it names the person on PTO.
    ([Override(1, Z("2026-06-01T10:00Z"), Z("2026-06-01T11:00Z"), id=9)],
     [off(1, "2026-06-01T09:00Z", "2026-06-02T09:00Z")],
     [("2026-06-01T09:00Z", "2026-06-01T10:00Z", 2, "time_off", 1),
      ("2026-06-01T10:00Z", "2026-06-01T11:00Z", 1, "override", "#9"),
      ("2026-06-01T11:00Z", "2026-06-02T09:00Z", 2, "time_off", 1)]),
    # ... and over an uncovered stretch.
    ([Override(7, Z("2026-06-01T12:00Z"), Z("2026-06-01T13:00Z"), id=10)],
     [off(1, "2026-06-01T09:00Z", "2026-06-02T09:00Z"),
      off(2, "2026-06-01T12:00Z", "2026-06-01T13:00Z"), off(3, "2026-06-01T12:00Z", "2026-06-01T13:00Z")],
     [("2026-06-01T09:00Z", "2026-06-01T12:00Z", 2, "time_off", 1),
      ("2026-06-01T12:00Z", "2026-06-01T13:00Z", 7, "override", "#10"),
      ("2026-06-01T13:00Z", "2026-06-02T09:00Z", 2, "time_off", 1)]),
])
def test_overrides_win_over_time_off(overrides, time_off, expected):
    assert shifts([DAILY], "2026-06-01T09:00Z", "2026-06-02T09:00Z", overrides, time_off) == expected


@pytest.mark.parametrize("at, expected", [
    ("2026-06-01T10:00Z", ("2026-06-01T09:00Z", "2026-06-01T12:00Z", 3, "time_off", 1)),
    ("2026-06-01T13:00Z", ("2026-06-01T12:00Z", "2026-06-01T15:00Z", None, "uncovered")),
    ("2026-06-01T16:00Z", ("2026-06-01T15:00Z", "2026-06-02T09:00Z", 2, "time_off", 1)),
    ("2026-06-02T10:00Z", ("2026-06-02T09:00Z", "2026-06-03T09:00Z", 2, "rotation")),
])
def test_on_call_at_with_time_off(at, expected):
    schedule = timeline.build_schedule([DAILY], time_off=[
        off(1, "2026-06-01T09:00Z", "2026-06-02T09:00Z"), off(2, "2026-06-01T09:00Z", "2026-06-01T15:00Z"),
        off(3, "2026-06-01T12:00Z", "2026-06-01T20:00Z")])
    assert rows([timeline.on_call_at(schedule, Z(at))]) == [expected]


# --- bad input ---------------------------------------------------------------------------------

NAIVE = datetime(2026, 6, 1, 9)


@pytest.mark.parametrize("make", [
    lambda: ShiftLength("months", 1),
    lambda: ShiftLength("days", 0),
    lambda: ShiftLength("hours", -3),
    lambda: ShiftLength("days", 1.5),
    lambda: version(people=()),
    lambda: version(zone="Mars/Olympus_Mons"),
    lambda: version(zone=""),
    lambda: RotationVersion(None, "UTC", time(9, tzinfo=UTC), ShiftLength("days", 1), date(2026, 6, 1), (1,)),
    lambda: RotationVersion(None, "UTC", time(9), ShiftLength("days", 1), datetime(2026, 6, 1), (1,)),
    lambda: RotationVersion(NAIVE, "UTC", time(9), ShiftLength("days", 1), date(2026, 6, 1), (1,)),
    lambda: Override(1, NAIVE, Z("2026-06-02T09:00Z")),
    lambda: Override(1, Z("2026-06-02T09:00Z"), Z("2026-06-02T09:00Z")),
    lambda: TimeOff(1, Z("2026-06-02T09:00Z"), Z("2026-06-01T09:00Z")),
    lambda: TimeOff(1, Z("2026-06-01T09:00Z"), NAIVE),
    lambda: timeline.build_schedule([]),
    lambda: timeline.build_schedule([version(effective_at="2026-06-01T00:00Z")]),  # first has no effective_at
    lambda: timeline.build_schedule([version(), version()]),  # later ones need one
    lambda: timeline.build_schedule([version(), version(effective_at="2026-07-01T00:00Z"),
                                     version(effective_at="2026-07-01T00:00Z")]),
    lambda: timeline.rotation_start_at([]),
])
def test_invalid_rotations_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


SCHEDULE = timeline.build_schedule([DAILY])


@pytest.mark.parametrize("query", [
    lambda: timeline.shifts_between(SCHEDULE, NAIVE, Z("2026-06-02T09:00Z")),
    lambda: timeline.shifts_between(SCHEDULE, Z("2026-06-02T09:00Z"), NAIVE),
    lambda: timeline.shifts_between(SCHEDULE, Z("2026-06-02T09:00Z"), Z("2026-06-02T09:00Z")),
    lambda: timeline.shifts_between(SCHEDULE, Z("2026-06-02T09:00Z"), Z("2026-06-01T09:00Z")),
    lambda: timeline.shifts_between(SCHEDULE, Z("2026-06-01T00:00Z"), Z("2026-06-01T00:00Z") + timeline.MAX_WINDOW
                                    + timedelta(microseconds=1)),
    lambda: timeline.handoffs_between(SCHEDULE, Z("2026-06-02T09:00Z"), Z("2026-06-01T09:00Z")),
    lambda: timeline.on_call_at(SCHEDULE, NAIVE),
    lambda: timeline.base_shift_at(SCHEDULE, NAIVE),
])
def test_invalid_queries_raise_value_error(query):
    with pytest.raises(ValueError):
        query()


def test_window_of_exactly_max_window_is_allowed_and_instants_come_back_in_utc():
    start = datetime(2026, 6, 1, 11, tzinfo=ZoneInfo("Europe/Berlin"))  # = 09:00Z
    result = timeline.shifts_between(SCHEDULE, start, start + timeline.MAX_WINDOW)
    assert result[0].start_at == Z("2026-06-01T09:00Z") and result[0].start_at.tzinfo is UTC
    assert result[-1].end_at == start + timeline.MAX_WINDOW
    assert len(result) == 400
    assert timeline.on_call_at(SCHEDULE, start).start_at.tzinfo is UTC
