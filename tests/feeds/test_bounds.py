"""What one feed request may cost: whole-day windows, at most FEED_MAX_EVENTS events (those nearest today), and
at most RATELIMIT_FEED_BUILDS builds of one feed a minute."""
from datetime import timedelta

import pytest

from tests.feeds.conftest import parse_icalendar
from tests.test_ratelimits import assert_429, limited  # noqa: F401 (a fixture)

HOURLY = {"unit": "hours", "count": 1}


@pytest.fixture()
def hourly_feed(make_rotation, make_user, make_feed):
    rotation = make_rotation(participants=[make_user()["id"] for _ in range(5)], shift_length=HOURLY)
    return make_feed("rotation", rotation["id"])


def test_a_window_is_whole_utc_days_so_seconds_cannot_defeat_the_cache(client, hourly_feed):
    tags = {client.get(hourly_feed["path"], query_string={"start": start, "end": end}).headers["ETag"]
            for start, end in [("2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z"),
                               ("2026-03-01T10:00:00Z", "2026-03-04T23:59:59Z"),
                               ("2026-03-01T23:59:59Z", "2026-03-04T00:00:01Z")]}
    assert len(tags) == 1
    events = parse_icalendar(client.get(hourly_feed["path"], query_string={"start": "2026-03-01T10:00:00Z",
                                                                           "end": "2026-03-04T10:00:00Z"}).data)
    assert len(events) == 4 * 24


def test_a_feed_holds_at_most_feed_max_events_those_nearest_today(app, client, hourly_feed, clock):
    """Hourly shifts over the default 210 days would be 5,040 events; a 400-day window 9,600."""
    now = clock()
    for query in ({}, {"start": "2026-02-01", "end": "2027-03-01"}):
        events = parse_icalendar(client.get(hourly_feed["path"], query_string=query).data)
        assert len(events) <= app.config["FEED_MAX_EVENTS"] == 1000
        assert len(events) >= 900, "the window is cut to about what fits, not far below"
        starts = [e["start"] for e in events]
        assert starts == sorted(starts)
        ends = [e["end"] for e in events]
        assert all(b == a for a, b in zip(ends, starts[1:])), "what is kept is one stretch, without holes"
    default = parse_icalendar(client.get(hourly_feed["path"]).data)
    assert default[0]["start"] < now < default[-1]["end"], "the default window keeps today"
    past = sum(1 for e in default if e["end"] <= now)
    assert past < len(default) / 4, "and mostly what is ahead"
    custom = parse_icalendar(client.get(hourly_feed["path"], query_string={"start": "2026-02-01",
                                                                           "end": "2027-03-01"}).data)
    assert custom[0]["start"].isoformat() == "2026-02-01T00:00:00+00:00", "a chosen window keeps its start"


def test_the_event_bound_holds_when_overrides_cut_more_pieces_than_expected(app, api, client, make_rotation,
                                                                          make_user, make_feed, clock):
    app.config["FEED_MAX_EVENTS"] = 20
    try:
        people = [make_user()["id"] for _ in range(3)]
        rotation = make_rotation(participants=people, shift_length={"unit": "days", "count": 1})
        feed = make_feed("rotation", rotation["id"])
        day = clock().replace(hour=0, minute=0, second=0, microsecond=0)
        for i in range(12):  # each cuts a day in three
            start = day + timedelta(days=i, hours=10)
            assert api.post(f"/api/v1/rotations/{rotation['id']}/overrides", json={
                "user_id": people[0], "start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat(),
            }).status_code == 201
        events = parse_icalendar(client.get(feed["path"]).data)
        assert len(events) == 20
        assert events[0]["start"] <= clock() < events[0]["end"] or events[0]["start"] < day + timedelta(days=1)
    finally:
        app.config["FEED_MAX_EVENTS"] = 1000


def test_builds_from_one_address_are_limited_across_feeds(limited, make_rotation, make_feed):
    client = limited(RATELIMIT_FEED_BUILDS_PER_ADDRESS="2 per minute", RATELIMIT_FEEDS="")
    feeds = [make_feed("rotation", make_rotation()["id"]) for _ in range(3)]
    assert [client.get(f["path"]).status_code for f in feeds[:2]] == [200, 200]
    assert_429(client.get(feeds[2]["path"]))
    assert client.get(feeds[0]["path"]).status_code == 200, "a cached feed is no build"
    assert client.get(feeds[2]["path"], environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_builds_of_one_feed_are_limited_but_its_polls_are_not(limited, make_rotation, make_feed):
    client = limited(RATELIMIT_FEED_BUILDS="3 per minute", RATELIMIT_FEEDS="", RATELIMIT_FEED_BUILDS_PER_ADDRESS="")
    feed = make_feed("rotation", make_rotation()["id"])
    other = make_feed("rotation", make_rotation()["id"])
    first = client.get(feed["path"])
    assert first.status_code == 200
    for day in (2, 3):
        assert client.get(feed["path"], query_string={"start": f"2026-03-0{day}"}).status_code == 200
    over = client.get(feed["path"], query_string={"start": "2026-03-04"})
    assert_429(over)
    # What is cached or unchanged is still served: a calendar app polling its one view never sees a 429.
    assert client.get(feed["path"]).status_code == 200
    assert client.get(feed["path"], headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.get(other["path"]).status_code == 200, "the limit is per feed"
    assert client.get(feed["path"], query_string={"start": "2026-03-05"},
                      environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 429, "whoever asks"


def test_builds_beyond_the_slots_wait_then_get_a_503_while_cached_feeds_are_served(app, client, make_rotation,
                                                                                  make_feed, tmp_path):
    from oncall.feeds.build_slots import build_slot

    feed = make_feed("rotation", make_rotation()["id"])
    cached = client.get(feed["path"])
    app.config.update(FEED_BUILD_SLOTS=1, FEED_BUILD_WAIT_SECONDS=0.2, FEED_BUILD_LOCK_DIR=str(tmp_path))
    try:
        with build_slot(tmp_path, slots=1, wait_seconds=0):  # another process is building
            busy = client.get(feed["path"], query_string={"start": "2026-03-02"})
            assert busy.status_code == 503 and int(busy.headers["Retry-After"]) >= 1
            assert client.get(feed["path"]).data == cached.data, "what is built already is served"
        assert client.get(feed["path"], query_string={"start": "2026-03-02"}).status_code == 200
    finally:
        app.config.update(FEED_BUILD_SLOTS=0, FEED_BUILD_LOCK_DIR="")


def test_a_slot_is_released_when_its_holder_fails(tmp_path):
    from oncall.feeds.build_slots import NoSlot, build_slot

    with pytest.raises(RuntimeError):
        with build_slot(tmp_path, slots=1, wait_seconds=0):
            raise RuntimeError("build failed")
    with build_slot(tmp_path, slots=2, wait_seconds=0):
        with build_slot(tmp_path, slots=2, wait_seconds=0):
            with pytest.raises(NoSlot):
                with build_slot(tmp_path, slots=2, wait_seconds=0.05):
                    pass
