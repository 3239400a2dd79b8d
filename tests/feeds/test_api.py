"""Calendar feeds over HTTP: creating and revoking them, serving them, caching, changes showing at once."""
import hashlib
from urllib.parse import unquote
from datetime import timedelta, timezone

import icalendar
import pytest
from sqlalchemy import func, select, update

from oncall.clock import utcnow
from oncall.feeds import service
from oncall.feeds.models import CalendarFeed
from oncall.people.models import Team, User
from oncall.schedules.models import Rotation
from tests.conftest import ApiClient
from tests.feeds.conftest import PUBLIC_URL, parse_icalendar, utc

UTC = timezone.utc
WINDOW = {"start": "2026-03-01", "end": "2026-04-01"}


@pytest.fixture()
def plain(client, make_token) -> ApiClient:
    return ApiClient(client, make_token("plain@example.com", admin=False))


def backdate(session, rotation_id: int, seconds: int) -> None:
    """SEQUENCE counts seconds: move the rotation's last change back so the next one is visibly later."""
    session.execute(update(Rotation).where(Rotation.id == rotation_id)
                    .values(updated_at=utcnow() - timedelta(seconds=seconds)))
    session.commit()


# --- creating, listing, revoking ---------------------------------------------------------------

def test_create_returns_secret_urls_once_and_stores_only_a_hash(api, session, make_rotation, make_feed):
    rotation = make_rotation()
    feed = make_feed("rotation", rotation["id"])
    secret = feed["url"].removeprefix(f"{PUBLIC_URL}/calendars/").removesuffix(".ics")
    assert feed["url"] == f"{PUBLIC_URL}/calendars/{secret}.ics"
    assert feed["webcal_url"] == f"webcal://oncall.example.com/calendars/{secret}.ics"
    assert (feed["scope"], feed["scope_id"]) == ("rotation", rotation["id"])
    assert len(secret) >= 43 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    row = session.get(CalendarFeed, feed["id"])
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr([getattr(row, c.key) for c in CalendarFeed.__table__.columns])
    listed = api.get("/api/v1/calendar-feeds").json
    assert [f["id"] for f in listed] == [feed["id"]]
    assert "url" not in listed[0]


def test_secrets_differ(make_rotation, make_feed):
    rotation = make_rotation()
    urls = {make_feed("rotation", rotation["id"])["url"] for _ in range(5)}
    assert len(urls) == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "calendar", "id": 1}, "scope"),
        ({"scope": "rotation"}, "id"),
        ({"scope": "rotation", "id": "1"}, "id"),
        ({"scope": "rotation", "id": 0}, "id"),
        ({"scope": "rotation", "id": 2**40}, "id"),
        ({"scope": "rotation", "id": 999999}, "id"),  # no such rotation
        ({"scope": "team", "id": 999999}, "id"),
        ({"scope": "user", "id": 999999}, "id"),
        ({"id": 1}, "scope"),
    ],
)
def test_bad_feed_requests_are_422_and_create_nothing(api, session, body, field):
    before = session.scalar(select(func.count()).select_from(CalendarFeed))
    response = api.post("/api/v1/calendar-feeds", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert session.scalar(select(func.count()).select_from(CalendarFeed)) == before


def test_anyone_may_subscribe_to_schedules_and_themselves_but_not_to_others(plain, make_rotation, make_user, api):
    rotation = make_rotation()
    me = next(u["id"] for u in api.get("/api/v1/users").json if u["email"] == "plain@example.com")
    other = make_user()
    assert plain.post("/api/v1/calendar-feeds", json={"scope": "rotation", "id": rotation["id"]}).status_code == 201
    assert plain.post("/api/v1/calendar-feeds", json={"scope": "team", "id": rotation["team_id"]}).status_code == 201
    assert plain.post("/api/v1/calendar-feeds", json={"scope": "user", "id": me}).status_code == 201
    refused = plain.post("/api/v1/calendar-feeds", json={"scope": "user", "id": other["id"]})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "Forbidden"
    assert api.post("/api/v1/calendar-feeds", json={"scope": "user", "id": other["id"]}).status_code == 201


def test_listing_is_per_owner_and_admins_may_look_at_anyone(plain, api, make_rotation, make_feed):
    rotation = make_rotation()
    mine = make_feed("rotation", rotation["id"], client=plain)
    admins = make_feed("rotation", rotation["id"])
    assert [f["id"] for f in plain.get("/api/v1/calendar-feeds").json] == [mine["id"]]
    assert [f["id"] for f in api.get("/api/v1/calendar-feeds").json] == [admins["id"]]
    assert [f["id"] for f in api.get("/api/v1/calendar-feeds", query_string={"user_id": mine["user_id"]}).json] \
        == [mine["id"]]
    assert plain.get("/api/v1/calendar-feeds", query_string={"user_id": admins["user_id"]}).status_code == 403
    assert api.get("/api/v1/calendar-feeds", query_string={"user_id": "x"}).status_code == 422


def test_revoking_answers_404_at_once_and_only_owner_or_admin_may(client, plain, api, make_rotation, make_feed):
    rotation = make_rotation()
    feed = make_feed("rotation", rotation["id"], client=plain)
    other = make_feed("rotation", rotation["id"])
    assert client.get(feed["path"], query_string=WINDOW).status_code == 200  # warms every cache
    assert plain.delete(f"/api/v1/calendar-feeds/{other['id']}").status_code == 403
    assert plain.delete(f"/api/v1/calendar-feeds/{feed['id']}").status_code == 204
    gone = client.get(feed["path"], query_string=WINDOW)
    unknown = client.get("/calendars/" + "A" * 43 + ".ics", query_string=WINDOW)
    assert gone.status_code == unknown.status_code == 404
    assert gone.data == unknown.data and gone.content_type == unknown.content_type
    assert plain.delete(f"/api/v1/calendar-feeds/{feed['id']}").status_code == 404
    assert api.delete(f"/api/v1/calendar-feeds/{other['id']}").status_code == 204
    assert api.delete("/api/v1/calendar-feeds/99999999999999").status_code == 404


def test_feed_api_needs_a_token_but_the_feed_does_not(client, make_rotation, make_feed):
    assert client.post("/api/v1/calendar-feeds", json={"scope": "team", "id": 1}).status_code == 401
    assert client.get("/api/v1/calendar-feeds").status_code == 401
    feed = make_feed("rotation", make_rotation()["id"])
    assert client.get(feed["path"]).status_code == 200


# --- serving -------------------------------------------------------------------------------------

def test_feed_is_text_calendar_and_head_works(client, make_rotation, make_feed):
    feed = make_feed("rotation", make_rotation(name="Payments primary")["id"])
    response = client.get(feed["path"], query_string=WINDOW)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["ETag"].startswith('"') and response.headers["Last-Modified"]
    assert "private" in response.headers["Cache-Control"]
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == "On call: Payments primary"
    assert str(calendar["X-WR-TIMEZONE"]) == "America/New_York"
    head = client.head(feed["path"], query_string=WINDOW)
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == response.headers["ETag"]


def test_default_window_is_30_days_back_to_180_ahead(client, make_rotation, make_feed, clock):
    today = clock().replace(hour=0, minute=0, second=0, microsecond=0)
    rotation = make_rotation(shift_length={"unit": "days", "count": 1},
                             start_date=(today - timedelta(days=60)).date().isoformat(), time_zone="UTC",
                             handoff_time="00:00")
    events = parse_icalendar(client.get(make_feed("rotation", rotation["id"])["path"]).data)
    # A single daily shift reaching over an edge is shown whole, and nothing beyond.
    assert events[0]["start"] == today - timedelta(days=30)
    assert events[-1]["end"] == today + timedelta(days=180)
    assert len(events) == 210


def test_explicit_window_and_only_start_or_end(client, make_rotation, make_feed):
    feed = make_feed("rotation", make_rotation(shift_length={"unit": "days", "count": 1}, time_zone="UTC",
                                               handoff_time="00:00")["id"])
    events = parse_icalendar(client.get(feed["path"], query_string={"start": "2026-03-01T00:00:00Z",
                                                                    "end": "2026-03-08T00:00:00+00:00"}).data)
    assert [e["start"].day for e in events] == [1, 2, 3, 4, 5, 6, 7]
    only_start = parse_icalendar(client.get(feed["path"], query_string={"start": "2026-03-01"}).data)
    assert len(only_start) == 210 and only_start[0]["start"] == utc("2026-03-01T00:00:00Z")
    only_end = parse_icalendar(client.get(feed["path"], query_string={"end": "2026-03-01"}).data)
    assert only_end[-1]["end"] == utc("2026-03-01T00:00:00Z")


def test_edge_shifts_are_whole_not_cut_at_the_window(client, make_rotation, make_feed):
    rotation = make_rotation()  # weekly, Mondays 09:00 New York
    feed = make_feed("rotation", rotation["id"])
    events = parse_icalendar(client.get(feed["path"], query_string={"start": "2026-03-04", "end": "2026-03-12"}).data)
    assert [(e["start"], e["end"]) for e in events] == [
        (utc("2026-03-02T14:00:00Z"), utc("2026-03-09T13:00:00Z")),
        (utc("2026-03-09T13:00:00Z"), utc("2026-03-16T13:00:00Z")),
    ]


def test_one_person_rotation_has_an_event_per_shift_that_survives_the_window_moving(api, client, make_user,
                                                                                   make_rotation, make_feed):
    # /shifts merges the same person's consecutive shifts into one piece; unsplit, the feed's event would begin
    # and end wherever the margin around the window happened to fall, and its UID would change with the window.
    # Everyone on PTO makes the same kind of run of 'uncovered' shifts.
    alice = make_user(name="Alice")["id"]
    solo = make_rotation(participants=[alice], name="Solo", time_zone="UTC", handoff_time="09:00",
                         start_date="2026-01-05")
    assert api.post(f"/api/v1/users/{alice}/time-off",
                    json={"start": "2026-03-16T09:00:00Z", "end": "2026-03-30T09:00:00Z"}).status_code == 201
    feed = make_feed("rotation", solo["id"])
    mondays = [utc(f"2026-03-{d:02d}T09:00:00Z") for d in (2, 9, 16, 23, 30)] + [utc("2026-04-06T09:00:00Z")]
    events = parse_icalendar(client.get(feed["path"], query_string={"start": "2026-03-04", "end": "2026-04-01"}).data)
    assert [(e["start"], e["end"], e["source"]) for e in events] == [
        (a, b, "uncovered" if a in mondays[2:4] else "rotation") for a, b in zip(mondays, mondays[1:])]
    moved = parse_icalendar(client.get(feed["path"], query_string={"start": "2026-03-05", "end": "2026-04-02"}).data)
    assert [e["uid"] for e in moved] == [e["uid"] for e in events]
    # Joined again where /shifts joins them (same person, same source) and cut at the window, they are /shifts.
    joined: list[list] = []
    for e in events:
        if joined and joined[-1][1] == e["start"] and joined[-1][2:] == [e["who"], e["source"]]:
            joined[-1][1] = e["end"]
        else:
            joined.append([e["start"], e["end"], e["who"], e["source"]])
    shifts = api.get(f"/api/v1/rotations/{solo['id']}/shifts",
                     query_string={"start": "2026-03-04T00:00:00Z", "end": "2026-04-01T00:00:00Z"}).json["shifts"]
    window = (utc("2026-03-04T00:00:00Z"), utc("2026-04-01T00:00:00Z"))
    assert [(max(a, window[0]), min(b, window[1]), source) for a, b, _who, source in joined] == [
        (utc(s["start"]), utc(s["end"]), s["source"]) for s in shifts]


@pytest.mark.parametrize(
    "query",
    [
        {"start": "0001-01-01", "end": "0001-02-01"},
        {"start": "9999-12-01"},
        {"end": "0001-01-01"},
        {"start": "2026-03-01", "end": "2027-06-01"},  # over 400 days
        {"start": "2026-03-02", "end": "2026-03-01"},
        {"start": "2026-03-01", "end": "2026-03-01"},
        {"start": "2026-03-01T00:00:00"},  # naive
        {"start": "yesterday"},
        {"start": "2026-02-30"},
        {"end": "2026-03-01T25:00:00Z"},
        {"start": "2026-03-01\x00"},
        {"start": "2" * 5000},
        {"reminder": "-1"},
        {"reminder": "1441"},
        {"reminder": "soon"},
        {"reminder": "1e3"},
    ],
)
def test_absurd_windows_and_reminders_are_422_json(client, make_rotation, make_feed, query):
    feed = make_feed("rotation", make_rotation()["id"])
    response = client.get(feed["path"], query_string=query)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "ValidationError"
    assert set(response.json["error"]["fields"]) <= {"start", "end", "reminder"}


@pytest.mark.parametrize(
    "path",
    [
        "/calendars/abc.ics", "/calendars/" + "A" * 43 + ".ics", "/calendars/" + "A" * 42 + "!.ics",
        "/calendars/" + "A" * 44 + ".ics", "/calendars/x", "/calendars/a/b.ics", "/calendars/.ics",
        "/calendars/%00.ics", "/calendars/" + "A" * 5000 + ".ics", "/calendars/" + "é" * 43 + ".ics",
    ],
)
def test_malformed_or_unknown_secret_is_a_plain_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.data == b"Not found.\n"


def test_secret_in_another_case_is_unknown(client, make_rotation, make_feed):
    feed = make_feed("rotation", make_rotation()["id"])
    secret = feed["path"].removeprefix("/calendars/").removesuffix(".ics")
    flipped = secret.swapcase()
    if flipped != secret:
        assert client.get(f"/calendars/{flipped}.ics").status_code == 404


def test_feed_of_a_deleted_rotation_is_404(api, client, make_rotation, make_feed):
    rotation = make_rotation()
    feed = make_feed("rotation", rotation["id"])
    assert api.delete(f"/api/v1/rotations/{rotation['id']}").status_code == 204
    assert client.get(feed["path"]).status_code == 404


def test_reminder_adds_a_valarm(client, make_rotation, make_feed):
    feed = make_feed("rotation", make_rotation()["id"])
    plain_body = client.get(feed["path"], query_string=WINDOW).data
    with_alarm = client.get(feed["path"], query_string=WINDOW | {"reminder": "30"}).data
    assert b"VALARM" not in plain_body
    events = icalendar.Calendar.from_ical(with_alarm).walk("VEVENT")
    assert events and all(e.walk("VALARM")[0].decoded("TRIGGER") == timedelta(minutes=-30) for e in events)


# --- what each kind of feed holds ------------------------------------------------------------------

def test_team_feed_holds_all_its_rotations_and_user_feed_only_the_users_shifts(
        api, client, make_team, make_user, make_rotation, make_feed):
    team = make_team(name="Payments")
    people = [make_user(name=n) for n in ("Alice", "Bob", "Carol", "Dan")]
    ids = [p["id"] for p in people]
    primary = make_rotation(participants=ids[:2], team_id=team["id"], name="Payments primary")
    secondary = make_rotation(participants=ids[2:], team_id=team["id"], name="Payments secondary",
                              shift_length={"unit": "days", "count": 1})
    outsider = make_rotation(participants=[make_user(name="Eve")["id"]], name="Other team")
    # Alice covers a stretch of another team's rotation: her own feed shows it.
    api.post(f"/api/v1/rotations/{outsider['id']}/overrides",
             json={"user_id": ids[0], "start": "2026-03-10T00:00:00Z", "end": "2026-03-11T00:00:00Z"})

    team_events = parse_icalendar(client.get(make_feed("team", team["id"])["path"], query_string=WINDOW).data)
    assert {e["rotation"] for e in team_events} == {"Payments primary", "Payments secondary"}
    cal = icalendar.Calendar.from_ical(client.get(make_feed("team", team["id"])["path"]).data)
    assert str(cal["X-WR-CALNAME"]) == "On call: Payments"

    alice = parse_icalendar(client.get(make_feed("user", ids[0])["path"], query_string=WINDOW).data)
    assert {e["who"] for e in alice} == {"Alice"}
    assert {e["rotation"] for e in alice} == {"Payments primary", "Other team"}
    assert [e["source"] for e in alice if e["rotation"] == "Other team"] == ["override"]
    assert len({e["uid"] for e in alice}) == len(alice)
    assert primary["id"] != secondary["id"]


def test_descriptions_say_the_source_and_link_the_rotation(api, client, make_user, make_rotation, make_feed):
    people = [make_user(name=n)["id"] for n in ("Alice", "Bob", "Carol")]
    rotation = make_rotation(participants=people, name="Payments primary")
    api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
             json={"user_id": people[2], "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z",
                   "reason": "dentist swap"})
    # Week of 2026-03-09 is Alice's (k=9): she is away, Bob covers.
    api.post(f"/api/v1/users/{people[0]}/time-off", json={"start": "2026-03-10T00:00:00Z",
                                                          "end": "2026-03-12T00:00:00Z"})
    events = parse_icalendar(client.get(make_feed("rotation", rotation["id"])["path"], query_string=WINDOW).data)
    by_source = {e["source"]: e for e in events}
    assert by_source["override"]["description"].startswith(
        "Carol is on call for Payments primary by an override: dentist swap.")
    assert by_source["time_off"]["description"].startswith(
        "Bob is on call for Payments primary, covering PTO for Alice.")
    assert all(f"{PUBLIC_URL}/rotations/{rotation['id']}" in e["description"] for e in events)


# --- change: immediate, visible to conditional requests, stable identity ----------------------------

def test_conditional_requests_answer_304(client, make_rotation, make_feed):
    feed = make_feed("rotation", make_rotation()["id"])
    first = client.get(feed["path"], query_string=WINDOW)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    for headers in ({"If-None-Match": etag}, {"If-None-Match": f'W/{etag}'}, {"If-None-Match": f'"x", {etag}'},
                    {"If-None-Match": "*"}):
        again = client.get(feed["path"], query_string=WINDOW, headers=headers)
        assert again.status_code == 304, headers
        assert again.data == b"" and again.headers["ETag"] == etag
    assert client.get(feed["path"], query_string=WINDOW, headers={"If-None-Match": '"other"'}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
    assert client.get(feed["path"], query_string=WINDOW,
                      headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified}).status_code == 200
    for since in (last_modified, "Thu, 01 Jan 2015 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"):
        assert client.get(feed["path"], query_string=WINDOW, headers={"If-Modified-Since": since}).status_code == 200
    assert client.get(feed["path"], query_string=WINDOW, headers={"If-Modified-Since": "garbage"}).status_code == 200
    # Another window or reminder is another document.
    assert client.get(feed["path"], query_string=WINDOW | {"reminder": "5"},
                      headers={"If-None-Match": etag}).status_code == 200


def test_304_and_repeat_200_do_not_rebuild(client, make_rotation, make_feed, monkeypatch):
    feed = make_feed("rotation", make_rotation()["id"])
    first = client.get(feed["path"], query_string=WINDOW)

    def refuse(*args, **kwargs):
        raise AssertionError("the feed was rebuilt")

    monkeypatch.setattr(service, "build_feed", refuse)
    assert client.get(feed["path"], query_string=WINDOW,
                      headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    again = client.get(feed["path"], query_string=WINDOW)
    assert again.status_code == 200 and again.data == first.data


def _etag(client, feed) -> str:
    response = client.get(feed["path"], query_string=WINDOW)
    assert response.status_code == 200
    return response.headers["ETag"]


def test_every_kind_of_change_changes_the_etag(api, client, make_team, make_user, make_rotation, make_feed):
    team = make_team()
    people = [make_user()["id"] for _ in range(3)]
    helper = make_user()["id"]
    rotation = make_rotation(participants=people, team_id=team["id"])
    feeds = [make_feed("rotation", rotation["id"]), make_feed("team", team["id"]), make_feed("user", people[0])]
    changes = [
        lambda: api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
                         json={"user_id": people[0], "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z"}),
        lambda: api.post(f"/api/v1/users/{people[1]}/time-off",
                         json={"start": "2026-03-17T00:00:00Z", "end": "2026-03-18T00:00:00Z"}),
        lambda: api.patch(f"/api/v1/users/{people[0]}", json={"name": "Alice Renamed"}),
        lambda: api.patch(f"/api/v1/users/{people[2]}", json={"name": "Carol Renamed"}),
        lambda: api.patch(f"/api/v1/rotations/{rotation['id']}", json={"name": "Renamed rotation"}),
    ]
    before = [_etag(client, f) for f in feeds]
    for change in changes:
        response = change()
        assert response.status_code in (200, 201), response.json
        after = [_etag(client, f) for f in feeds]
        assert all(a != b for a, b in zip(before, after)), change
        before = after
    # A team's name and zone are the team feed's own.
    assert api.patch(f"/api/v1/teams/{team['id']}", json={"name": "Renamed team"}).status_code == 200
    assert _etag(client, feeds[1]) != before[1]
    # An override by someone outside the rotation changes the override-taker's own feed.
    helper_feed = make_feed("user", helper)
    helper_before = _etag(client, helper_feed)
    api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
             json={"user_id": helper, "start": "2026-03-20T00:00:00Z", "end": "2026-03-21T00:00:00Z"})
    assert _etag(client, helper_feed) != helper_before


def test_override_shows_at_once_bumps_sequence_and_keeps_other_uids(api, client, session, make_user, make_rotation,
                                                                    make_feed):
    people = [make_user(name=n)["id"] for n in ("Alice", "Bob", "Carol")]
    rotation = make_rotation(participants=people, name="Payments primary")
    feed = make_feed("rotation", rotation["id"])
    backdate(session, rotation["id"], 60)
    first = client.get(feed["path"], query_string=WINDOW)
    before = {e["uid"]: e for e in parse_icalendar(first.data)}

    # Carol takes a day in the middle of the week starting 2026-03-02: that shift is cut in three.
    created = api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
                       json={"user_id": people[2], "start": "2026-03-04T14:00:00Z", "end": "2026-03-05T14:00:00Z"})
    assert created.status_code == 201
    second = client.get(feed["path"], query_string=WINDOW, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    after = {e["uid"]: e for e in parse_icalendar(second.data)}

    touched = next(e for e in before.values() if e["start"] == utc("2026-03-02T14:00:00Z"))
    assert touched["uid"] in after, "the shortened shift is the same event"
    changed = after[touched["uid"]]
    assert changed["end"] == utc("2026-03-04T14:00:00Z")
    assert changed["sequence"] > touched["sequence"]
    assert changed["last_modified"] > touched["last_modified"]
    assert set(before) - set(after) == set(), "no shift lost its UID"
    untouched = set(before) - {touched["uid"]}
    assert {uid: after[uid] for uid in untouched} == {uid: before[uid] for uid in untouched}, \
        "every other event keeps its times, SEQUENCE and LAST-MODIFIED"
    new = [after[uid] for uid in set(after) - set(before)]
    assert sorted((e["source"], e["start"]) for e in new) == [
        ("override", utc("2026-03-04T14:00:00Z")), ("rotation", utc("2026-03-05T14:00:00Z"))]

    # Deleting the override restores the shift: same UID, a SEQUENCE higher still.
    backdate(session, rotation["id"], 30)
    middle = client.get(feed["path"], query_string=WINDOW)
    middle_seq = {e["uid"]: e["sequence"] for e in parse_icalendar(middle.data)}
    assert api.delete(f"/api/v1/rotations/{rotation['id']}/overrides/{created.json['id']}").status_code == 204
    restored = {e["uid"]: e for e in parse_icalendar(client.get(feed["path"], query_string=WINDOW).data)}
    assert set(restored) == set(before)
    assert restored[touched["uid"]]["end"] == touched["end"]
    assert restored[touched["uid"]]["sequence"] > middle_seq[touched["uid"]]
    assert {uid: restored[uid] for uid in untouched} == {uid: before[uid] for uid in untouched}


def test_time_off_changes_the_stamps_of_the_events_it_changes_only(api, client, session, make_user, make_rotation,
                                                                   make_team, make_feed):
    team = make_team()
    people = [make_user(name=n)["id"] for n in ("Alice", "Bob", "Carol")]
    rotation = make_rotation(participants=people, name="Payments primary", team_id=team["id"])
    feeds = [make_feed("rotation", rotation["id"]), make_feed("team", team["id"])]
    backdate(session, rotation["id"], 60)
    before = [{e["uid"]: e for e in parse_icalendar(client.get(f["path"], query_string=WINDOW).data)} for f in feeds]
    owner = next(e for e in before[0].values() if e["start"] == utc("2026-03-09T13:00:00Z"))
    owner_id = people[["Alice", "Bob", "Carol"].index(owner["who"])]
    assert api.post(f"/api/v1/users/{owner_id}/time-off", json={"start": "2026-03-11T00:00:00Z",
                                                                "end": "2026-03-12T00:00:00Z"}).status_code == 201
    for feed, earlier in zip(feeds, before):
        after = {e["uid"]: e for e in parse_icalendar(client.get(feed["path"], query_string=WINDOW).data)}
        cut = next(uid for uid, e in earlier.items() if e["start"] == owner["start"])
        assert after[cut]["end"] == utc("2026-03-11T00:00:00Z")
        assert after[cut]["sequence"] == earlier[cut]["sequence"] + 1
        assert after[cut]["last_modified"] > earlier[cut]["last_modified"]
        others = set(earlier) - {cut}
        assert {uid: after[uid] for uid in others} == {uid: earlier[uid] for uid in others}
        new = sorted((e["source"], e["start"]) for uid, e in after.items() if uid not in earlier)
        assert new == [("rotation", utc("2026-03-12T00:00:00Z")), ("time_off", utc("2026-03-11T00:00:00Z"))]


def test_stamps_do_not_move_when_a_feed_is_built_again_elsewhere(api, client, app, make_rotation, make_feed):
    """Another process (an empty cache here) builds the same state: the same bytes, SEQUENCE not bumped twice."""
    rotation = make_rotation()
    feed = make_feed("rotation", rotation["id"])
    first = client.get(feed["path"], query_string=WINDOW)
    app.extensions.pop("oncall_feeds", None)
    again = client.get(feed["path"], query_string=WINDOW)
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]


def test_the_etag_follows_the_revision_even_when_the_clock_does_not_move(api, client, session, make_rotation,
                                                                         make_user, make_feed):
    """Two changes stamped with the same updated_at (one clock reading, or a clock set back) are still two."""
    rotation = make_rotation()
    feed = make_feed("rotation", rotation["id"])
    frozen = utcnow() - timedelta(hours=1)
    session.execute(update(Rotation).where(Rotation.id == rotation["id"]).values(updated_at=frozen))
    session.commit()
    first = client.get(feed["path"], query_string=WINDOW)
    assert api.post(f"/api/v1/rotations/{rotation['id']}/overrides",
                    json={"user_id": make_user()["id"], "start": "2026-03-04T14:00:00Z",
                          "end": "2026-03-05T14:00:00Z"}).status_code == 201
    session.execute(update(Rotation).where(Rotation.id == rotation["id"]).values(updated_at=frozen))
    session.commit()
    second = client.get(feed["path"], query_string=WINDOW, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert any(e["source"] == "override" for e in parse_icalendar(second.data))


def test_time_off_shows_at_once_with_the_substitute(api, client, make_user, make_rotation, make_feed):
    people = [make_user(name=n)["id"] for n in ("Alice", "Bob", "Carol")]
    rotation = make_rotation(participants=people, name="Payments primary")
    feed = make_feed("rotation", rotation["id"])
    client.get(feed["path"], query_string=WINDOW)
    owner = next(e for e in parse_icalendar(client.get(feed["path"], query_string=WINDOW).data)
                 if e["start"] == utc("2026-03-09T13:00:00Z"))
    owner_id = people[["Alice", "Bob", "Carol"].index(owner["who"])]
    api.post(f"/api/v1/users/{owner_id}/time-off", json={"start": "2026-03-11T00:00:00Z",
                                                         "end": "2026-03-12T00:00:00Z"})
    events = parse_icalendar(client.get(feed["path"], query_string=WINDOW).data)
    covering = [e for e in events if e["source"] == "time_off"]
    assert len(covering) == 1 and covering[0]["start"] == utc("2026-03-11T00:00:00Z")
    assert f"covering PTO for {owner['who']}" in covering[0]["description"]


def test_changed_state_during_a_build_is_served_but_not_cached(client, make_rotation, make_feed, monkeypatch, app):
    feed = make_feed("rotation", make_rotation()["id"])
    real = service.feed_state
    calls = []

    def drifting(session, ref):
        state = real(session, ref)
        calls.append(state)
        if len(calls) == 2:  # the check after the build sees a newer state
            from dataclasses import replace
            return replace(state, names=(state.names or "") + "!")
        return state

    monkeypatch.setattr(service, "feed_state", drifting)
    assert client.get(feed["path"], query_string=WINDOW).status_code == 200
    assert len(app.extensions["oncall_feeds"].bodies) == 0


def test_deleting_a_rotation_or_moving_a_zone_changes_the_etag(api, client, make_team, make_user, make_rotation,
                                                               make_feed):
    team = make_team()
    alice = make_user()["id"]
    first = make_rotation(participants=[alice], team_id=team["id"])
    second = make_rotation(participants=[alice, make_user()["id"]], team_id=team["id"])
    feeds = [make_feed("team", team["id"]), make_feed("user", alice)]
    rotation_feed = make_feed("rotation", first["id"])
    before, rotation_before = [_etag(client, f) for f in feeds], _etag(client, rotation_feed)
    assert api.patch(f"/api/v1/rotations/{first['id']}", json={"time_zone": "Europe/London"}).status_code == 200
    rotation_after = _etag(client, rotation_feed)
    assert rotation_after != rotation_before
    assert "Europe/London" in client.get(rotation_feed["path"], query_string=WINDOW).data.decode()
    before = [_etag(client, f) for f in feeds]
    # The rotation deleted is the one changed last: the newest updated_at left is older than before.
    assert api.patch(f"/api/v1/rotations/{second['id']}", json={"name": "Going"}).status_code == 200
    before = [_etag(client, f) for f in feeds]
    assert api.delete(f"/api/v1/rotations/{second['id']}").status_code == 204
    after = [_etag(client, f) for f in feeds]
    assert all(a != b for a, b in zip(before, after))
    assert b"Going" not in client.get(feeds[0]["path"], query_string=WINDOW).data
    assert api.patch(f"/api/v1/teams/{team['id']}", json={"time_zone": "Asia/Kolkata"}).status_code == 200
    assert _etag(client, feeds[0]) != after[0]


def test_the_default_window_moves_at_midnight_and_with_it_the_etag(client, make_rotation, make_feed, clock):
    # A day after the rotation's last change, so that Last-Modified is the window's own.
    day = clock().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    feed = make_feed("rotation", make_rotation(shift_length={"unit": "days", "count": 1}, time_zone="UTC",
                                               handoff_time="00:00", start_date="2026-01-01")["id"])
    clock.set(day - timedelta(seconds=1), freeze=True)
    evening = client.get(feed["path"])
    events = parse_icalendar(evening.data)
    assert (events[0]["start"], events[-1]["end"]) == (day - timedelta(days=31), day + timedelta(days=179))
    assert client.get(feed["path"], headers={"If-None-Match": evening.headers["ETag"]}).status_code == 304
    clock.set(day + timedelta(seconds=1), freeze=True)
    morning = client.get(feed["path"], headers={"If-None-Match": evening.headers["ETag"]})
    assert morning.status_code == 200 and morning.headers["ETag"] != evening.headers["ETag"]
    assert parse_icalendar(morning.data)[-1]["end"] == day + timedelta(days=180)
    assert client.get(feed["path"], headers={"If-Modified-Since": evening.headers["Last-Modified"]}).status_code == 200


def test_if_modified_since_alone_never_gets_a_stale_304(api, session, client, make_team, make_rotation, make_user,
                                                        make_feed):
    """Last-Modified is to the second and cannot see a rename or the deletion of the rotation changed last: a
    client that only echoes it always gets the whole feed, never a 304 for a copy that is out of date."""
    team = make_team()
    kept = make_rotation(team_id=team["id"], name="Kept")
    backdate(session, kept["id"], 120)
    gone = make_rotation(team_id=team["id"], name="Gone")
    feed = make_feed("team", team["id"])
    first = client.get(feed["path"], query_string=WINDOW)
    assert b"(Gone)" in first.data
    assert api.delete(f"/api/v1/rotations/{gone['id']}").status_code == 204
    again = client.get(feed["path"], query_string=WINDOW, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 200 and b"(Gone)" not in again.data
    # A change stamped within the same second as the copy's Last-Modified.
    copy = client.get(feed["path"], query_string=WINDOW)
    stamp = session.scalar(select(Rotation.updated_at).where(Rotation.id == kept["id"]))
    assert api.post(f"/api/v1/rotations/{kept['id']}/overrides", json={
        "user_id": make_user()["id"], "start": "2026-03-04T14:00:00Z", "end": "2026-03-05T14:00:00Z"}).status_code == 201
    session.execute(update(Rotation).where(Rotation.id == kept["id"]).values(updated_at=stamp))
    session.commit()
    fresh = client.get(feed["path"], query_string=WINDOW, headers={"If-Modified-Since": copy.headers["Last-Modified"]})
    assert fresh.headers["Last-Modified"] == copy.headers["Last-Modified"]
    assert fresh.status_code == 200 and "by an override" in fresh.get_data(as_text=True)


@pytest.mark.parametrize("scope", ["rotation", "team", "user"])
def test_a_feed_never_opens_a_newer_target_that_took_its_targets_id(api, session, client, make_team, make_user,
                                                                    make_rotation, make_feed, scope):
    # SQLite (the embedded default) hands a deleted row's id to the next row inserted when it was the highest,
    # so a feed's id can come to name a target created after the feed: stamped so here, on either database.
    model = {"rotation": Rotation, "team": Team, "user": User}[scope]
    make = {"rotation": lambda: make_rotation()["id"], "team": lambda: make_team()["id"],
            "user": lambda: make_user()["id"]}[scope]
    target = make()
    feed = make_feed(scope, target)
    assert client.get(feed["path"], query_string=WINDOW).status_code == 200
    session.execute(update(model).where(model.id == target).values(created_at=utcnow() + timedelta(seconds=1)))
    session.commit()
    assert client.get(feed["path"], query_string=WINDOW).status_code == 404
    # A target stamped by a clock ahead of this process's (another web host) still opens a feed made at once.
    ahead = make()
    session.execute(update(model).where(model.id == ahead).values(created_at=utcnow() + timedelta(seconds=5)))
    session.commit()
    assert client.get(make_feed(scope, ahead)["path"], query_string=WINDOW).status_code == 200


# --- secrets: no path shape redirects to a feed --------------------------------------------------------

def test_odd_paths_to_a_feed_answer_404_and_never_redirect_with_its_secret(client, make_rotation, make_feed):
    feed = make_feed("rotation", make_rotation()["id"])
    secret = feed["path"].removeprefix("/calendars/").removesuffix(".ics")
    assert client.get(feed["path"], query_string=WINDOW).status_code == 200
    # Leading slashes are one to werkzeug (Request.path, Map.match): that is the feed itself, answered as such.
    # Servers decode %2F in PATH_INFO, so /calendars%2F<secret>.ics is the feed's own path too.
    served = [f"//calendars/{secret}.ics", f"///calendars/{secret}.ics", f"/%2Fcalendars/{secret}.ics",
              f"/calendars%2F{secret}.ics"]
    for path in served + [f"/calendars//{secret}.ics", f"//calendars//{secret}.ics", f"/calendars/{secret}.ics/",
                          f"/calendars/./{secret}.ics", f"/calendars/%2F{secret}.ics"]:
        # The path exactly as a server hands it over (a client would read "//calendars/..." as a host name).
        response = client.get("/", query_string=WINDOW, environ_overrides={"PATH_INFO": unquote(path)})
        assert response.status_code == (200 if path in served else 404), path
        assert "Location" not in response.headers, path
        assert response.status_code == 200 or secret not in response.get_data(as_text=True), path

