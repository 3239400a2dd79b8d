"""Helpers for feed tests: a clean per-process feed cache per test, creating and fetching feeds, parsing them."""
import re
from datetime import datetime

import icalendar
import pytest
import vobject

PUBLIC_URL = "https://oncall.example.com"


@pytest.fixture(autouse=True)
def _fresh_feed_caches(app):
    # Ids repeat across rolled-back tests; the caches are keyed by data that includes them.
    app.extensions.pop("oncall_feeds", None)
    yield
    app.extensions.pop("oncall_feeds", None)


@pytest.fixture()
def make_feed(api):
    def make(scope: str, scope_id: int, client=None) -> dict:
        response = (client or api).post("/api/v1/calendar-feeds", json={"scope": scope, "id": scope_id})
        assert response.status_code == 201, response.json
        body = response.json
        body["path"] = body["url"].removeprefix(PUBLIC_URL)
        return body

    return make


SUMMARY = re.compile(r"^(?:On call: (?P<who>.+)|Uncovered: nobody on call) \((?P<rotation>[^()]+)\)$")


def source_of(description: str) -> str:
    first = description.split("\n", 1)[0]
    if "by an override" in first:
        return "override"
    if "covering PTO for" in first:
        return "time_off"
    if first.startswith("Nobody is on call"):
        return "uncovered"
    assert "(regular rotation)" in first, first
    return "rotation"


def parse_icalendar(body: bytes) -> list[dict]:
    """Events as read by the icalendar package."""
    calendar = icalendar.Calendar.from_ical(body)
    out = []
    for event in calendar.walk("VEVENT"):
        match = SUMMARY.match(str(event["SUMMARY"]))
        out.append({
            "uid": str(event["UID"]), "start": event.decoded("DTSTART"), "end": event.decoded("DTEND"),
            "who": match["who"], "rotation": match["rotation"], "source": source_of(str(event["DESCRIPTION"])),
            "sequence": int(event["SEQUENCE"]), "last_modified": event.decoded("LAST-MODIFIED"),
            "description": str(event["DESCRIPTION"]),
        })
    return sorted(out, key=lambda e: (e["start"], e["rotation"]))


def parse_vobject(body: bytes) -> list[dict]:
    """The same events as read by vobject, a parser that shares no code with icalendar."""
    calendar = vobject.readOne(body.decode("utf-8"))
    out = []
    for event in getattr(calendar, "vevent_list", []):
        match = SUMMARY.match(event.summary.value)
        out.append({
            "uid": event.uid.value, "start": event.dtstart.value, "end": event.dtend.value,
            "who": match["who"], "rotation": match["rotation"], "source": source_of(event.description.value),
            "sequence": int(event.sequence.value), "last_modified": event.last_modified.value,
            "description": event.description.value,
        })
    return sorted(out, key=lambda e: (e["start"], e["rotation"]))


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
