"""Every kind of feed, read by three parsers, equals the API's /shifts for the same window, across DST.

Each scenario is a team with a daily rotation whose handoff falls in the zone's spring-forward gap or
fall-back fold on the transition day, and a weekly one; an override and a PTO stretch span the transition.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import icalendar
import pytest
import recurring_ical_events

from tests.feeds.conftest import parse_icalendar, parse_vobject, utc

UTC = timezone.utc

# (zone, daily handoff, window start, window end, transition instant (UTC))
SCENARIOS = [
    # 02:30 does not exist on 2026-03-08 in New York: that handoff happens at 03:00 EDT (07:00Z).
    ("America/New_York", "02:30", "2026-03-03", "2026-03-13", "2026-03-08T07:00:00Z"),
    # 01:30 happens twice on 2026-11-01: the first (EDT, 05:30Z) is the handoff.
    ("America/New_York", "01:30", "2026-10-27", "2026-11-06", "2026-11-01T06:00:00Z"),
    ("Europe/London", "01:30", "2026-03-24", "2026-04-03", "2026-03-29T01:00:00Z"),
    ("Europe/London", "01:30", "2026-10-20", "2026-10-30", "2026-10-25T01:00:00Z"),
    ("Asia/Kolkata", "00:00", "2026-03-03", "2026-03-13", "2026-03-08T07:00:00Z"),
    # Lord Howe moves by 30 minutes: 01:30-02:00 repeats on 2026-04-05, 02:00-02:30 is skipped on 2026-10-04.
    ("Australia/Lord_Howe", "01:45", "2026-03-31", "2026-04-10", "2026-04-04T15:00:00Z"),
    ("Australia/Lord_Howe", "02:15", "2026-09-29", "2026-10-09", "2026-10-03T15:30:00Z"),
]


def api_shifts(api, rotation: dict, start: str, end: str) -> list[dict]:
    response = api.get(f"/api/v1/rotations/{rotation['id']}/shifts", query_string={"start": start, "end": end})
    assert response.status_code == 200, response.json
    return response.json["shifts"]


def expected(api, rotations: list[dict], names: dict[int, str], start: str, end: str, user_id=None) -> list[tuple]:
    rows = []
    for rotation in rotations:
        for s in api_shifts(api, rotation, start, end):
            if user_id is not None and s["user_id"] != user_id:
                continue
            rows.append((rotation["name"], names.get(s["user_id"]), s["source"], utc(s["start"]), utc(s["end"])))
    return sorted(rows, key=lambda r: (r[3], r[0]))


def clipped(events: list[dict], start: datetime, end: datetime) -> list[tuple]:
    """The feed shows shifts whole; /shifts cuts them at the window."""
    rows = [(e["rotation"], e["who"], e["source"], max(e["start"], start), min(e["end"], end)) for e in events]
    return sorted(rows, key=lambda r: (r[3], r[0]))


def parse_recurring(body: bytes, start: datetime, end: datetime) -> list[dict]:
    """A third reading: recurring-ical-events (what many Python tools use) over the same window."""
    from tests.feeds.conftest import SUMMARY, source_of

    out = []
    for event in recurring_ical_events.of(icalendar.Calendar.from_ical(body)).between(start, end):
        match = SUMMARY.match(str(event["SUMMARY"]))
        out.append({"rotation": match["rotation"], "who": match["who"], "source": source_of(str(event["DESCRIPTION"])),
                    "start": event.decoded("DTSTART").astimezone(UTC), "end": event.decoded("DTEND").astimezone(UTC),
                    "uid": str(event["UID"])})
    return out


@dataclass
class DstScenario:
    team: dict
    names: dict[int, str]
    ids: list[int]
    daily: dict
    weekly: dict


def build_dst_scenario(api, make_team, make_user, make_rotation, *, zone: str, handoff: str, start: str,
                       transition: str, team_name: str) -> DstScenario:
    """A team with a daily rotation (handoff inside the DST change) and a weekly one, an override across the
    transition and time off that makes the next participant cover: every source appears around the change."""
    team = make_team(time_zone=zone, name=team_name)
    people = [make_user(name=n, time_zone=zone) for n in ("Alice", "Bob", "Carol", "Dan", "Erin")]
    names = {p["id"]: p["name"] for p in people}
    ids = [p["id"] for p in people]
    first_day = (datetime.fromisoformat(start) - timedelta(days=9)).date().isoformat()
    daily = make_rotation(participants=ids[:3], team_id=team["id"], name="Daily", time_zone=zone,
                          handoff_time=handoff, shift_length={"unit": "days", "count": 1}, start_date=first_day)
    weekly = make_rotation(participants=ids[3:], team_id=team["id"], name="Weekly", time_zone=zone,
                           handoff_time="09:00", shift_length={"unit": "weeks", "count": 1}, start_date=first_day)
    at = utc(transition)
    override = api.post(f"/api/v1/rotations/{daily['id']}/overrides", json={
        "user_id": ids[3], "start": (at - timedelta(hours=3)).isoformat(), "end": (at + timedelta(hours=2)).isoformat()})
    assert override.status_code == 201, override.json
    time_off = api.post(f"/api/v1/users/{ids[0]}/time-off", json={
        "start": (at - timedelta(days=1)).isoformat(), "end": (at + timedelta(days=1, hours=5)).isoformat()})
    assert time_off.status_code == 201, time_off.json
    return DstScenario(team, names, ids, daily, weekly)


@pytest.mark.parametrize(("zone", "handoff", "start", "end", "transition"), SCENARIOS,
                         ids=[f"{s[0]}-{s[2]}" for s in SCENARIOS])
def test_every_feed_kind_equals_shifts_across_dst(api, client, make_team, make_user, make_rotation, make_feed,
                                                  zone, handoff, start, end, transition):
    scenario = build_dst_scenario(api, make_team, make_user, make_rotation, zone=zone, handoff=handoff, start=start,
                                  transition=transition, team_name=f"Team {zone}")
    team, names, ids, daily, weekly = (scenario.team, scenario.names, scenario.ids, scenario.daily,
                                       scenario.weekly)

    window_start, window_end = utc(f"{start}T00:00:00Z"), utc(f"{end}T00:00:00Z")
    query = {"start": start, "end": end}
    cases = [
        ("rotation", daily["id"], [daily], None),
        ("team", team["id"], [daily, weekly], None),
        ("user", ids[0], [daily, weekly], ids[0]),
        ("user", ids[3], [daily, weekly], ids[3]),  # covers the daily rotation by override, owns the weekly one
    ]
    for scope, scope_id, rotations, user_id in cases:
        want = expected(api, rotations, names, window_start.isoformat(), window_end.isoformat(), user_id)
        assert want, (scope, "the scenario must have shifts")
        response = client.get(make_feed(scope, scope_id)["path"], query_string=query)
        assert response.status_code == 200
        body = response.data
        assert b"TZID" not in body and b"RRULE" not in body
        by_icalendar = parse_icalendar(body)
        by_vobject = parse_vobject(body)
        by_recurring = parse_recurring(body, window_start, window_end)
        for parsed in (by_icalendar, by_vobject, by_recurring):
            assert clipped(parsed, window_start, window_end) == want, scope
        assert sorted(e["uid"] for e in by_icalendar) == sorted(e["uid"] for e in by_vobject) \
            == sorted(e["uid"] for e in by_recurring)
        assert len({e["uid"] for e in by_icalendar}) == len(by_icalendar)
        assert all(e["start"].utcoffset() == timedelta(0) for e in by_vobject)

    # The override and the PTO substitution appear in the rotation feed around the transition.
    sources = {e["source"] for e in parse_icalendar(client.get(make_feed("rotation", daily["id"])["path"],
                                                               query_string=query).data)}
    assert {"override", "time_off", "rotation"} <= sources


def test_new_york_spring_forward_handoff_is_written_as_the_instant_it_happens(api, client, make_rotation, make_feed):
    rotation = make_rotation(time_zone="America/New_York", handoff_time="02:30",
                             shift_length={"unit": "days", "count": 1}, start_date="2026-03-01")
    body = client.get(make_feed("rotation", rotation["id"])["path"],
                      query_string={"start": "2026-03-07", "end": "2026-03-10"}).data
    # 02:30 EST on the 7th is 07:30Z; on the 8th 02:30 does not exist and the gap ends at 03:00 EDT = 07:00Z;
    # on the 9th 02:30 EDT is 06:30Z.
    assert b"DTSTART:20260307T073000Z" in body
    assert b"DTSTART:20260308T070000Z" in body and b"DTEND:20260308T070000Z" in body
    assert b"DTSTART:20260309T063000Z" in body
