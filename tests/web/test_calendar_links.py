"""Calendar links: listed with when made and last fetched (recorded at most once a minute), revocable by their
owner only; "Subscribe" shows the existing link's state instead of making another, unless asked to replace it."""
from datetime import timedelta

from sqlalchemy import select

from oncall.feeds.models import CalendarFeed


def _secret(html: str) -> str:
    return html.split("https://oncall.example.com/calendars/", 1)[1].split(".ics", 1)[0]


def _feeds(session, user_id):
    session.expire_all()
    return list(session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user_id).order_by(CalendarFeed.id)))


def test_subscribe_again_shows_the_existing_link_and_can_replace_it(scenario, browser, session):
    b = browser(scenario.bob)
    first = b.post(f"/rotations/{scenario.rotation_id}/calendar-feed")
    assert first.status_code == 201
    old_secret = _secret(first.get_data(as_text=True))
    again = b.post(f"/rotations/{scenario.rotation_id}/calendar-feed")
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "You already have a calendar link for rotation Web primary" in html
    assert "never fetched yet" in html and "Make a new link (revokes the old)" in html
    assert len(_feeds(session, scenario.bob.id)) == 1
    replaced = b.post(f"/rotations/{scenario.rotation_id}/calendar-feed", {"replace": "1"})
    assert replaced.status_code == 201
    new_secret = _secret(replaced.get_data(as_text=True))
    assert len(_feeds(session, scenario.bob.id)) == 1
    assert b.get(f"/calendars/{old_secret}.ics").status_code == 404
    assert b.get(f"/calendars/{new_secret}.ics").status_code == 200


def test_the_list_shows_made_and_last_fetched_and_fetches_are_recorded_once_a_minute(scenario, browser, session,
                                                                                      clock):
    b = browser(scenario.bob)
    secret = _secret(b.post(f"/calendar-feed/team/{scenario.team_id}").get_data(as_text=True))
    b.post(f"/calendar-feed/user/{scenario.bob.id}")
    listing = b.get("/calendar-links").get_data(as_text=True)
    assert "team Web" in listing and "your own shifts in every rotation" in listing
    assert listing.count(">never<") == 2
    assert b.get(f"/calendars/{secret}.ics").status_code == 200
    [team_feed] = [f for f in _feeds(session, scenario.bob.id) if f.scope == "team"]
    first = team_feed.last_fetched_at
    assert first is not None
    b.get(f"/calendars/{secret}.ics")
    assert [f for f in _feeds(session, scenario.bob.id) if f.scope == "team"][0].last_fetched_at == first
    clock.set(first + timedelta(minutes=2))
    b.get(f"/calendars/{secret}.ics")
    later = [f for f in _feeds(session, scenario.bob.id) if f.scope == "team"][0].last_fetched_at
    assert later >= first + timedelta(minutes=2)
    assert b.get("/calendar-links").get_data(as_text=True).count(">never<") == 1


def test_revoke_is_for_the_owner_only(scenario, browser, session, client):
    b = browser(scenario.bob)
    secret = _secret(b.post(f"/calendar-feed/team/{scenario.team_id}").get_data(as_text=True))
    [feed_id] = [f.id for f in _feeds(session, scenario.bob.id)]
    assert browser(scenario.carol).post(f"/calendar-links/{feed_id}/revoke").status_code == 404
    assert browser(scenario.alice).post(f"/calendar-links/{feed_id}/revoke").status_code == 404
    assert b.post(f"/calendar-links/{feed_id}/revoke").status_code == 303
    assert _feeds(session, scenario.bob.id) == []
    assert client.get(f"/calendars/{secret}.ics").status_code == 404
    assert b.post(f"/calendar-links/{feed_id}/revoke").status_code == 404


def test_calendar_links_page_needs_signing_in(client):
    assert client.get("/calendar-links").status_code == 302


def test_the_api_lists_last_fetched(scenario, browser, session, client):
    from oncall.people.tokens import create_api_token
    from tests.conftest import ApiClient

    b = browser(scenario.bob)
    secret = _secret(b.post(f"/calendar-feed/user/{scenario.bob.id}").get_data(as_text=True))
    b.get(f"/calendars/{secret}.ics")
    api = ApiClient(client, create_api_token(session, user=scenario.bob))
    session.commit()
    [listed] = api.get("/api/v1/calendar-feeds").json
    assert listed["last_fetched_at"] is not None and listed["last_fetched_at"].endswith("Z")
