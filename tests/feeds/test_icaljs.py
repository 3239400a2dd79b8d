"""Feeds read by ical.js (Mozilla's parser, the one Thunderbird uses), which shares no code with the Python ones.

Needs `node` and `npm install --prefix tests/feeds/js` (ical.js pinned in tests/feeds/js/package.json);
without them these tests skip and say so.
"""
import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.feeds.conftest import SUMMARY, source_of, utc
from tests.feeds.test_feeds_match_shifts import SCENARIOS, build_dst_scenario, expected

UTC = timezone.utc
JS = Path(__file__).parent / "js"
WINDOW = {"start": "2026-03-01", "end": "2026-04-01"}


@pytest.fixture(scope="module")
def icaljs():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: ical.js cannot read the feeds")
    if not (JS / "node_modules" / "ical.js" / "package.json").exists():
        pytest.skip("ical.js is not installed: run `npm ci --prefix tests/feeds/js`")

    def parse(body: bytes) -> dict:
        done = subprocess.run([node, str(JS / "parse_feed.mjs")], input=body, capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)

    return parse


def rows(document: dict) -> list[dict]:
    out = []
    for event in document["events"]:
        match = SUMMARY.match(event["summary"])
        assert match, event["summary"]
        for key in ("start", "end", "dtstamp", "last_modified"):
            assert event[key]["utc"] and not event[key]["is_date"] and event[key]["tzid"] is None, (key, event)
        assert not event["recurring"] and event["transp"] == "TRANSPARENT"
        out.append({"uid": event["uid"], "who": match["who"], "rotation": match["rotation"],
                    "source": source_of(event["description"]), "start": utc(event["start"]["iso"]),
                    "end": utc(event["end"]["iso"]), "summary": event["summary"],
                    "description": event["description"], "sequence": event["sequence"], "alarms": event["alarms"]})
    return sorted(out, key=lambda e: (e["start"], e["rotation"]))


def clipped(events: list[dict], start: datetime, end: datetime) -> list[tuple]:
    return sorted(((e["rotation"], e["who"], e["source"], max(e["start"], start), min(e["end"], end)) for e in events),
                  key=lambda r: (r[3], r[0]))


@pytest.mark.parametrize(("zone", "handoff", "start", "end", "transition"), SCENARIOS,
                         ids=[f"{s[0]}-{s[2]}" for s in SCENARIOS])
def test_icaljs_reads_every_feed_kind_as_the_api_shifts_across_dst(
        icaljs, api, client, make_team, make_user, make_rotation, make_feed, zone, handoff, start, end, transition):
    scenario = build_dst_scenario(api, make_team, make_user, make_rotation, zone=zone, handoff=handoff, start=start,
                                  transition=transition, team_name="Night, ops; \"EU\"")
    team, names, ids, daily, weekly = (scenario.team, scenario.names, scenario.ids, scenario.daily,
                                       scenario.weekly)

    window_start, window_end = utc(f"{start}T00:00:00Z"), utc(f"{end}T00:00:00Z")
    cases = [
        ("rotation", daily["id"], [daily], None, "Daily", zone),
        ("team", team["id"], [daily, weekly], None, team["name"], zone),
        ("user", ids[0], [daily, weekly], ids[0], "Alice", zone),
        ("user", ids[3], [daily, weekly], ids[3], "Dan", zone),
    ]
    for scope, scope_id, rotations, user_id, calname, display_zone in cases:
        want = expected(api, rotations, names, window_start.isoformat(), window_end.isoformat(), user_id)
        assert want, (scope, "the scenario must have shifts")
        document = icaljs(client.get(make_feed(scope, scope_id)["path"], query_string={"start": start, "end": end}).data)
        assert (document["name"], document["version"], document["timezones"]) == ("vcalendar", "2.0", 0)
        assert document["calname"] == f"On call: {calname}" and document["timezone"] == display_zone
        events = rows(document)
        assert clipped(events, window_start, window_end) == want, scope
        assert len({e["uid"] for e in events}) == len(events), scope


def test_icaljs_reads_escaped_texts_folded_utf8_and_alarms(icaljs, api, client, make_team, make_user, make_rotation,
                                                          make_feed):
    tricky = "Zoë Ñúñez, Jr.; \"Z\" \\ 🚀 " + "é" * 40
    team = make_team(name="Payments")
    alice, zoe = make_user(name="Alice")["id"], make_user(name=tricky)["id"]
    rotation = make_rotation(participants=[alice], team_id=team["id"], name="Payments primary, EU; nights")
    reason = "swap; back at 10:00, promise\nsecond line \\ done"
    assert api.post(f"/api/v1/rotations/{rotation['id']}/overrides", json={
        "user_id": zoe, "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z", "reason": reason,
    }).status_code == 201
    body = client.get(make_feed("rotation", rotation["id"])["path"], query_string=WINDOW | {"reminder": "30"}).data
    document = icaljs(body)
    (override,) = [e for e in document["events"] if e["description"].startswith(tricky)]
    assert override["summary"] == f"On call: {tricky} (Payments primary, EU; nights)"
    assert override["description"].startswith(
        f"{tricky} is on call for Payments primary, EU; nights by an override: {reason}.\n\nRotation: ")
    assert all(e["alarms"] == [{"action": "DISPLAY", "description": e["summary"], "trigger_seconds": -30 * 60}]
               for e in document["events"])
    # RFC 5545 3.1: CRLF line ends, lines of at most 75 octets, each of them valid UTF-8 on its own.
    assert b"\n" not in body.replace(b"\r\n", b"") and b"\r" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")


def test_icaljs_sees_distinct_events_for_simultaneous_shifts(icaljs, api, client, make_team, make_user,
                                                            make_rotation, make_feed):
    # Two rotations of one team hand over at the same instant, and Alice is on both of them at once.
    team = make_team(name="Payments")
    alice, bob = make_user(name="Alice")["id"], make_user(name="Bob")["id"]
    primary = make_rotation(participants=[alice, bob], team_id=team["id"], name="Primary")
    secondary = make_rotation(participants=[alice, bob], team_id=team["id"], name="Secondary")
    for scope, scope_id in (("team", team["id"]), ("user", alice)):
        events = rows(icaljs(client.get(make_feed(scope, scope_id)["path"], query_string=WINDOW).data))
        starts = [e["start"] for e in events]
        assert len(events) == len({e["uid"] for e in events}), scope
        assert {e["rotation"] for e in events} == {"Primary", "Secondary"}
        assert all(starts.count(s) == 2 for s in starts), "each handoff appears once per rotation"
    assert primary["id"] != secondary["id"]
