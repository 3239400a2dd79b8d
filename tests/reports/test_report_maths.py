"""The report maths (pure): hours on call, at night and at weekends in the person's own zone; pages at night;
response times against each severity's target."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from oncall.escalation.policy import BusinessHours
from oncall.reports import load, response

UTC = timezone.utc
MON = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def test_a_two_person_weekly_rotation_over_two_weeks():
    shifts = [(1, MON, MON + 7 * 24 * H), (2, MON + 7 * 24 * H, MON + 14 * 24 * H)]
    report = load.load_report(shifts, [], {1: "UTC", 2: "UTC"}, MON, MON + 14 * 24 * H)
    assert [(p.user_id, hours(p.oncall), hours(p.night), hours(p.weekend)) for p in report] == [
        (1, 168, 63, 48), (2, 168, 63, 48)]


def test_nights_are_the_persons_own():
    day = [(1, MON + 9 * H, MON + 21 * H), (2, MON + 9 * H, MON + 21 * H)]
    report = {p.user_id: p for p in load.load_report(day, [], {1: "UTC", 2: "Asia/Kolkata"}, MON, MON + 24 * H)}
    assert hours(report[1].night) == 0
    assert hours(report[2].night) == 4.5, "14:30-02:30 in Kolkata: 22:00-02:30 is night"


def test_a_night_with_a_dst_change_is_as_long_as_it_is_lived():
    ny = ZoneInfo("America/New_York")
    saturday_evening = datetime(2026, 3, 7, 20, tzinfo=ny).astimezone(UTC)  # clocks spring forward on Sunday 02:00
    night, weekend = load.night_and_weekend(saturday_evening, saturday_evening + 24 * H, ny)
    assert hours(night) == 8 and hours(weekend) == 24


def test_a_whole_weekend_holds_18_hours_that_are_night_and_weekend_both():
    saturday = datetime(2026, 3, 7, tzinfo=UTC)
    night, weekend, both = load.split(saturday, saturday + 48 * H, ZoneInfo("UTC"))
    assert (hours(night), hours(weekend), hours(both)) == (7 + 9 + 2, 48, 7 + 9 + 2)


def test_weekends_in_the_persons_zone():
    tokyo = ZoneInfo("Asia/Tokyo")
    friday_utc = datetime(2026, 3, 6, 12, tzinfo=UTC)  # 21:00 Friday in Tokyo
    _night, weekend = load.night_and_weekend(friday_utc, friday_utc + 6 * H, tokyo)
    assert hours(weekend) == 3, "Saturday starts at 15:00 UTC in Tokyo"


def test_pages_at_03_local_are_night_pages():
    pages = [(1, datetime(2026, 3, 3, 3, tzinfo=UTC)), (1, datetime(2026, 3, 3, 12, tzinfo=UTC)),
             (2, datetime(2026, 3, 3, 21, 30, tzinfo=UTC))]  # 03:00 in Kolkata
    report = {p.user_id: p for p in load.load_report([], pages, {1: "UTC", 2: "Asia/Kolkata"}, MON, MON + 7 * 24 * H)}
    assert (report[1].pages, report[1].night_pages) == (2, 1)
    assert (report[2].pages, report[2].night_pages) == (1, 1)


def test_shifts_and_pages_are_clipped_to_the_period():
    report = load.load_report([(1, MON - 10 * H, MON + 10 * H)], [(1, MON - H)], {}, MON, MON + 24 * H)
    assert hours(report[0].oncall) == 10 and report[0].pages == 0


@settings(deadline=None, database=None)
@given(st.integers(0, 24 * 60), st.integers(1, 24 * 14), st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York",
                                                                            "Australia/Lord_Howe", "Europe/London"]))
def test_night_and_weekend_never_exceed_the_stretch_and_add_up_over_a_split(start_minute, length_hours, zone):
    tz = ZoneInfo(zone)
    start = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=start_minute)
    end = start + length_hours * H
    night, weekend = load.night_and_weekend(start, end, tz)
    assert timedelta(0) <= night <= end - start and timedelta(0) <= weekend <= end - start
    both = load.split(start, end, tz)[2]
    assert timedelta(0) <= both <= min(night, weekend)
    middle = start + (end - start) / 3
    a, b = load.night_and_weekend(start, middle, tz), load.night_and_weekend(middle, end, tz)
    assert (a[0] + b[0], a[1] + b[1]) == (night, weekend)


# --- response ---------------------------------------------------------------------------------------------

def answered(severity, after_seconds, *, resolved_after=None, created=MON + 10 * H, hours_=None):
    return response.Answered(severity, created, None if after_seconds is None else created + timedelta(seconds=after_seconds),
                             None if resolved_after is None else created + timedelta(seconds=resolved_after), hours_)


def test_response_per_severity_against_its_target():
    incidents = [answered("SEV1", 60, resolved_after=600), answered("SEV1", 400, resolved_after=1200),
                 answered("SEV1", None), answered("SEV2", 900), answered("SEV3", None, resolved_after=100)]
    rows = {r["severity"]: r for r in response.response_report(incidents)}
    assert list(rows) == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert rows["SEV1"] == {"severity": "SEV1", "incidents": 3, "acknowledged_within_target": 1,
                            "median_seconds_to_acknowledge": 230.0, "p90_seconds_to_acknowledge": 400.0,
                            "median_seconds_to_resolve": 900.0, "target_seconds": 300}
    assert rows["SEV2"]["acknowledged_within_target"] == 1 and rows["SEV2"]["target_seconds"] == 900
    assert rows["SEV3"]["median_seconds_to_acknowledge"] == 100, "a resolve without acknowledgement answers it"
    assert rows["SEV4"] == {"severity": "SEV4", "incidents": 0, "acknowledged_within_target": 0,
                            "median_seconds_to_acknowledge": None, "p90_seconds_to_acknowledge": None,
                            "median_seconds_to_resolve": None, "target_seconds": 3600}


def test_a_sev4_counts_from_the_next_business_hours_start():
    hours_ = BusinessHours("America/New_York", ("mon", "tue", "wed", "thu", "fri"), time(9), time(17))
    saturday = datetime(2026, 3, 7, 15, tzinfo=UTC)
    monday_open = datetime(2026, 3, 9, 13, tzinfo=UTC)  # 09:00 EDT
    late = answered("SEV4", (monday_open - saturday).total_seconds() + 1800, created=saturday, hours_=hours_)
    early = answered("SEV4", 60, created=saturday, hours_=hours_)
    assert response.time_to_acknowledge(late) == timedelta(minutes=30)
    assert response.time_to_acknowledge(early) == timedelta(0)
    row = response.response_report([late, early])[3]
    assert row["acknowledged_within_target"] == 2


@pytest.mark.parametrize(("values", "expected"), [([], None), ([5.0], 5.0), (list(map(float, range(1, 11))), 9.0),
                                                  (list(map(float, range(1, 21))), 18.0)])
def test_p90_is_nearest_rank(values, expected):
    assert response.p90(values) == expected
