"""Feeds of rows stored before names were checked (oncall.fields.Name): whatever a name or reason holds (line
breaks, a bare CR, escapes, NUL, U+2028), every feed answers 200 with one line per property, exactly the events
the shifts say, none injected, no control character, read alike by icalendar, vobject and ical.js."""
import re

import pytest
from sqlalchemy import update

from oncall.people.models import Team, User
from oncall.plaintext import free_text, one_line
from oncall.schedules.models import Override, Rotation
from tests.feeds.conftest import parse_icalendar, parse_vobject, utc
from tests.feeds.test_feeds_match_shifts import clipped, expected
from tests.feeds.test_icaljs import icaljs, rows  # noqa: F401 (a fixture)

WINDOW = {"start": "2026-03-01", "end": "2026-04-01"}
INJECTED = "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:injected\r\nDTSTART:20260301T000000Z\r\nSUMMARY:injected"
# What old rows may hold; no parentheses, which the feed's summary uses around the rotation.
POISON = {
    "crlf": f"Eve{INJECTED}",
    "bare cr": "Eve\rEND:VEVENT\rBEGIN:VEVENT\rSUMMARY:injected",
    "lf": "Eve\nBEGIN:VEVENT",
    "escapes": "Eve\x1b[31m\x07\x08\x7f\x9b",
    "separators": "Eve\u2028BEGIN:VEVENT\u2029\x85x",
    "nul": "Eve\x00x",  # SQLite only: PostgreSQL text cannot hold NUL
    "tabs and feeds": "\tEve\x0b\x0c\x1c",
}
# A control byte (or an encoded C1, U+2028, U+2029) anywhere in a line of the document; RFC 5545 3.3.11 allows
# HTAB in text, which a reason (free text) may keep.
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")


@pytest.mark.parametrize("poison", list(POISON), ids=list(POISON))
def test_a_poisoned_name_never_breaks_a_feed(poison, api, client, session, make_team, make_user, make_rotation,
                                             make_feed, icaljs):  # noqa: F811
    bad = POISON[poison]
    if "\x00" in bad and session.get_bind().dialect.name == "postgresql":
        pytest.skip("PostgreSQL cannot store NUL, so no old row holds one")
    team = make_team()
    alice, bob = make_user(name="Alice")["id"], make_user(name="Bob")["id"]
    rotation = make_rotation(participants=[alice, bob], team_id=team["id"], name="Primary")
    # Weekly from 2026-01-05: the week of 2026-03-09 is Bob's, Alice takes a day of it; the week of 2026-03-16
    # is Alice's, she is away two days and Bob covers for her.
    assert api.post(f"/api/v1/rotations/{rotation['id']}/overrides", json={
        "user_id": alice, "start": "2026-03-10T00:00:00Z", "end": "2026-03-11T00:00:00Z",
        "reason": "swap"}).status_code == 201
    assert api.post(f"/api/v1/users/{alice}/time-off", json={
        "start": "2026-03-17T00:00:00Z", "end": "2026-03-19T00:00:00Z"}).status_code == 201
    feeds = {scope: make_feed(scope, scope_id)["path"]
             for scope, scope_id in (("rotation", rotation["id"]), ("team", team["id"]), ("user", alice))}
    # As rows written before the check: straight to the database.
    session.execute(update(User).where(User.id == alice).values(name=f"Alice {bad}"))
    session.execute(update(Team).where(Team.id == team["id"]).values(name=f"Payments {bad}"))
    session.execute(update(Rotation).where(Rotation.id == rotation["id"]).values(name=f"Primary {bad}"))
    session.execute(update(Override).values(reason=f"swap {bad}"))
    session.commit()

    names = {alice: one_line(f"Alice {bad}"), bob: "Bob"}
    shown = rotation | {"name": one_line(f"Primary {bad}")}
    start, end = utc(f"{WINDOW['start']}T00:00:00Z"), utc(f"{WINDOW['end']}T00:00:00Z")
    calnames = {"rotation": shown["name"], "team": one_line(f"Payments {bad}"), "user": names[alice]}
    for scope, path in feeds.items():
        response = client.get(path, query_string=WINDOW)
        assert response.status_code == 200, (scope, response.data[:300])
        body = response.data
        lines = body.split(b"\r\n")
        assert lines[-1] == b"" and not [line for line in lines if CONTROL_BYTES.search(line)], scope
        want = expected(api, [shown], names, start.isoformat(), end.isoformat(), alice if scope == "user" else None)
        assert {"override", "time_off" if scope != "user" else "override"} <= {w[2] for w in want}
        assert lines.count(b"BEGIN:VEVENT") == lines.count(b"END:VEVENT") == len(want)
        for read in (parse_icalendar, parse_vobject):
            events = read(body)
            assert clipped(events, start, end) == want, (scope, read.__name__)
            assert "UID:injected" not in {e["uid"] for e in events}
        document = icaljs(body)
        assert document["calname"] == f"On call: {calnames[scope]}"
        assert clipped(rows(document), start, end) == want
        assert all(e["uid"] != "injected" for e in document["events"])
        overridden = [e for e in document["events"] if "by an override" in e["description"]]
        assert overridden and all(free_text(f"swap {bad}") in e["description"] for e in overridden)
