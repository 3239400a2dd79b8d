"""DST through the HTTP API, checked against an independent computation (dateutil's tz database reader,
brute-force resolution of gaps and folds) rather than against timeline.py's own arithmetic."""
from datetime import date, datetime, time, timedelta, timezone

import pytest
from dateutil import tz as dtz

UTC = timezone.utc


def _local(u: datetime, zone) -> datetime:
    return u.astimezone(zone).replace(tzinfo=None)


def expected_instant(day: date, at: time, zone) -> datetime:
    """Wall time `at` on `day`: its first occurrence, or the end of the gap that skips it."""
    wall = datetime.combine(day, at)
    probes = [wall - timedelta(hours=h) for h in range(-15, 16)]
    offsets = {zone.utcoffset(p.replace(tzinfo=zone)) for p in probes} | {
        (datetime.combine(day, time(12)) + timedelta(hours=h)).replace(tzinfo=UTC).astimezone(zone).utcoffset()
        for h in range(-36, 37)
    }
    real = sorted(u for o in offsets if _local(u := (wall - o).replace(tzinfo=UTC), zone) == wall)
    if real:
        return real[0]
    # Skipped: the first whole minute whose local reading is past `wall` (tzdata transitions fall on minutes).
    lo = min((wall - o).replace(tzinfo=UTC) for o in offsets)
    u = lo
    while _local(u, zone) < wall:
        u += timedelta(minutes=1)
    return u


def expected_shifts(zone_name, handoff, unit, count, start_date, ids, window_start, window_end):
    zone = dtz.gettz(zone_name)
    assert zone is not None
    out = []
    k = 0
    anchor = expected_instant(start_date, handoff, zone)
    while True:
        if unit == "hours":
            s, e = anchor + k * timedelta(hours=count), anchor + (k + 1) * timedelta(hours=count)
        else:
            step = count * (7 if unit == "weeks" else 1)
            s = expected_instant(start_date + timedelta(days=k * step), handoff, zone)
            e = expected_instant(start_date + timedelta(days=(k + 1) * step), handoff, zone)
        if s >= window_end:
            return out
        if e > window_start:
            out.append((max(s, window_start), min(e, window_end), ids[k % len(ids)]))
        k += 1


def z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


CASES = [
    # zone, handoff, unit, count, start_date, window (days around the DST dates)
    ("America/New_York", "02:30", "days", 1, "2026-03-01", ("2026-03-05", "2026-03-12")),
    ("America/New_York", "01:30", "days", 1, "2026-10-25", ("2026-10-29", "2026-11-04")),
    ("America/New_York", "02:30", "weeks", 1, "2026-02-22", ("2026-02-20", "2026-03-30")),
    ("America/New_York", "01:30", "weeks", 1, "2026-10-04", ("2026-10-20", "2026-11-20")),
    ("America/New_York", "02:30", "hours", 8, "2026-03-08", ("2026-03-08", "2026-03-11")),
    ("America/New_York", "01:30", "hours", 5, "2026-11-01", ("2026-11-01", "2026-11-03")),
    ("America/New_York", "09:00", "days", 2, "2026-02-27", ("2026-03-01", "2026-03-15")),
    ("Europe/London", "01:30", "days", 1, "2026-03-20", ("2026-03-26", "2026-04-01")),
    ("Europe/London", "01:30", "days", 1, "2026-10-20", ("2026-10-22", "2026-10-28")),
    ("Europe/London", "01:30", "weeks", 2, "2026-03-15", ("2026-03-10", "2026-05-01")),
    ("Europe/London", "01:30", "hours", 12, "2026-03-29", ("2026-03-29", "2026-04-01")),
    ("Asia/Kolkata", "09:00", "days", 1, "2026-03-01", ("2026-03-05", "2026-03-12")),
    ("Asia/Kolkata", "00:00", "hours", 7, "2026-01-01", ("2026-03-07", "2026-03-10")),
    ("Australia/Lord_Howe", "02:15", "days", 1, "2026-09-28", ("2026-10-01", "2026-10-08")),
    ("Australia/Lord_Howe", "01:45", "days", 1, "2026-03-30", ("2026-04-02", "2026-04-08")),
    ("Australia/Lord_Howe", "01:45", "weeks", 1, "2026-03-15", ("2026-03-20", "2026-04-20")),
    ("Australia/Lord_Howe", "02:15", "hours", 6, "2026-10-04", ("2026-10-04", "2026-10-06")),
]


@pytest.mark.parametrize(("zone", "handoff", "unit", "count", "start_date", "window"), CASES)
def test_shifts_match_an_independent_dst_computation(api, make_rotation, zone, handoff, unit, count, start_date,
                                                     window):
    rotation = make_rotation(participants=3, time_zone=zone, handoff_time=handoff, start_date=start_date,
                             shift_length={"unit": unit, "count": count})
    ids = rotation["participant_ids"]
    lo = datetime.fromisoformat(window[0]).replace(tzinfo=UTC)
    hi = datetime.fromisoformat(window[1]).replace(tzinfo=UTC)
    response = api.get(f"/api/v1/rotations/{rotation['id']}/shifts", query_string={"start": z(lo), "end": z(hi)})
    assert response.status_code == 200, response.json
    got = [(s["start"], s["end"], s["user_id"]) for s in response.json["shifts"]]
    h, m = map(int, handoff.split(":"))
    want = [(z(s), z(e), u) for s, e, u in expected_shifts(zone, time(h, m), unit, count,
                                                           date.fromisoformat(start_date), ids, lo, hi)]
    assert got == want
    # Just after each handoff and just before the next, the on-call answer agrees.
    for s, e, u in want:
        for at in (s, z(datetime.fromisoformat(e.replace("Z", "+00:00")) - timedelta(seconds=1))):
            body = api.get(f"/api/v1/rotations/{rotation['id']}/oncall", query_string={"at": at}).json
            assert body["user_id"] == u, (at, body)


def test_the_reference_computation_knows_the_product_rules():
    ny = dtz.gettz("America/New_York")
    # PRODUCT.md: 02:30 on 2026-03-08 in New York is 03:00 EDT; 01:30 on 2026-11-01 is its first (EDT) occurrence.
    assert expected_instant(date(2026, 3, 8), time(2, 30), ny) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert expected_instant(date(2026, 11, 1), time(1, 30), ny) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    lhi = dtz.gettz("Australia/Lord_Howe")
    # Lord Howe springs forward half an hour at 02:00 local (15:30Z the day before).
    assert expected_instant(date(2026, 10, 4), time(2, 15), lhi) == datetime(2026, 10, 3, 15, 30, tzinfo=UTC)
