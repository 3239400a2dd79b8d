"""Dashboard, rotation page (shifts, overrides, settings), time off: rendering, forms, CSRF and permissions."""
from datetime import timedelta

from sqlalchemy import select

from oncall.clock import utcnow
from oncall.schedules import service as schedules
from oncall.schedules.models import Override, TimeOff
from oncall.web.timefmt import local_input


def test_dashboard_shows_who_is_on_call_now_and_next(scenario, browser):
    page = browser(scenario.bob).get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Web primary" in html and "your team" in html
    # daily alice -> bob -> carol from six days before the fixture's day: worked out here, not by the code
    order = [scenario.alice, scenario.bob, scenario.carol]
    change = (scenario.now + timedelta(hours=3)).replace(second=0, microsecond=0)
    k = (change.date() - (scenario.now - timedelta(days=6)).date()).days
    current, upcoming = order[(k - 1) % 3], order[k % 3]
    now_block = html[html.index("<dt>Now</dt>"):html.index("<dt>Next</dt>")]
    next_block = html[html.index("<dt>Next</dt>"):html.index("<dt>Handoff</dt>")]
    assert current.name in now_block and upcoming.name in next_block
    assert "Handoff for " in html  # the row names the shift change its draft is for
    assert ("Write the Web primary handoff" in html) == (current == scenario.bob)
    assert "Nothing open" in html


def test_rotation_page_marks_pto_and_overrides(scenario, browser, session):
    now = utcnow()
    schedules.add_time_off(session, user_id=scenario.carol.id, start_at=now, end_at=now + timedelta(days=10),
                           reason="Vacation", now=now)
    schedules.add_override(session, rotation_id=scenario.rotation_id, user_id=scenario.alice.id,
                           start_at=now + timedelta(days=12), end_at=now + timedelta(days=12, hours=5),
                           reason="Swap with Bob", now=now)
    session.commit()
    html = browser(scenario.bob).get(f"/rotations/{scenario.rotation_id}").get_data(as_text=True)
    assert "covering Carol Member&#39;s PTO" in html
    assert "override: Swap with Bob" in html
    assert 'id="override-form"' in html  # members may add overrides
    assert "Only this team's admins can change the rotation" in html
    assert 'action="/rotations/%d/settings"' % scenario.rotation_id not in html


def test_rotation_page_for_admin_and_for_outsider(scenario, browser):
    admin_html = browser(scenario.alice).get(f"/rotations/{scenario.rotation_id}").get_data(as_text=True)
    assert f'action="/rotations/{scenario.rotation_id}/settings"' in admin_html
    assert scenario.alice.email in admin_html  # participants listed by email in the settings form
    outsider = browser(scenario.outsider).get(f"/rotations/{scenario.rotation_id}")
    assert outsider.status_code == 404 and "Coming 4 weeks" not in outsider.get_data(as_text=True)


def test_rotation_weeks_is_bounded(scenario, browser):
    b = browser(scenario.bob)
    assert "Coming 12 weeks" in b.get(f"/rotations/{scenario.rotation_id}?weeks=500").get_data(as_text=True)
    assert "Coming 1 weeks" in b.get(f"/rotations/{scenario.rotation_id}?weeks=-3").get_data(as_text=True)
    assert "Coming 4 weeks" in b.get(f"/rotations/{scenario.rotation_id}?weeks=abc").get_data(as_text=True)


def test_missing_rotation_is_an_html_404(scenario, browser):
    response = browser(scenario.bob).get("/rotations/999999")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "does not exist" in response.get_data(as_text=True)


def _override_form(scenario, start, end):
    return {"user_id": str(scenario.carol.id), "start": local_input(start, "UTC"), "end": local_input(end, "UTC"),
            "reason": "cover"}


def test_add_and_remove_override(scenario, browser, session):
    b = browser(scenario.bob)
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=2)
    response = b.post(f"/rotations/{scenario.rotation_id}/overrides",
                      _override_form(scenario, start, start + timedelta(hours=4)))
    assert response.status_code == 303
    override = session.scalar(select(Override).where(Override.rotation_id == scenario.rotation_id))
    assert override.user_id == scenario.carol.id and override.start_at == start and override.created_by_id == scenario.bob.id
    override_id = override.id
    assert b.post(f"/rotations/{scenario.rotation_id}/overrides/{override_id}/delete").status_code == 303
    session.expire_all()
    assert session.get(Override, override_id) is None


def test_override_form_errors(scenario, browser):
    b = browser(scenario.bob)
    start = utcnow() + timedelta(days=2)
    bad_order = b.post(f"/rotations/{scenario.rotation_id}/overrides", _override_form(scenario, start, start - timedelta(hours=1)))
    assert bad_order.status_code == 422 and "Must be after start." in bad_order.get_data(as_text=True)
    garbage = b.post(f"/rotations/{scenario.rotation_id}/overrides",
                     _override_form(scenario, start, start) | {"start": "yesterday-ish"})
    assert garbage.status_code == 422 and "Expected a date and time." in garbage.get_data(as_text=True)
    huge = b.post(f"/rotations/{scenario.rotation_id}/overrides",
                  _override_form(scenario, start, start + timedelta(hours=1)) | {"user_id": "99999999999999"})
    # The API's own message for an id beyond 32 bits (the form goes through the API's schema).
    assert huge.status_code == 422 and "less than or equal to 2147483647" in huge.get_data(as_text=True)
    nul = b.post(f"/rotations/{scenario.rotation_id}/overrides",
                 _override_form(scenario, start, start + timedelta(hours=1)) | {"reason": "a\x00b"})
    assert nul.status_code == 400


def test_override_needs_membership_and_csrf(scenario, browser, session):
    start = utcnow() + timedelta(days=2)
    form = _override_form(scenario, start, start + timedelta(hours=1))
    assert browser(scenario.outsider).post(f"/rotations/{scenario.rotation_id}/overrides", form).status_code == 403
    no_token = browser(scenario.bob).post(f"/rotations/{scenario.rotation_id}/overrides", form, csrf=False)
    assert no_token.status_code == 400
    assert session.scalar(select(Override.id).where(Override.rotation_id == scenario.rotation_id)) is None


def test_settings_are_for_team_admins(scenario, browser, session):
    form = {"name": "Web primary (renamed)", "handoff_time": "07:30",
            "participants": f"{scenario.carol.email}\n{scenario.alice.email}"}
    assert browser(scenario.bob).post(f"/rotations/{scenario.rotation_id}/settings", form).status_code == 403
    response = browser(scenario.alice).post(f"/rotations/{scenario.rotation_id}/settings", form)
    assert response.status_code == 303
    session.expire_all()
    rotation = schedules.get_rotation(session, scenario.rotation_id)
    assert rotation.name == "Web primary (renamed)"
    assert rotation.current.participant_ids == [scenario.carol.id, scenario.alice.id]
    assert rotation.current.handoff_time.strftime("%H:%M") == "07:30"


def test_settings_errors(scenario, browser):
    b = browser(scenario.alice)
    url = f"/rotations/{scenario.rotation_id}/settings"
    unknown = b.post(url, {"name": "x", "handoff_time": "09:00", "participants": "ghost@example.com"})
    assert unknown.status_code == 422 and "Unknown: ghost@example.com" in unknown.get_data(as_text=True)
    bad_time = b.post(url, {"name": "x", "handoff_time": "25:00", "participants": scenario.alice.email})
    assert bad_time.status_code == 422 and "Expected a time as" in bad_time.get_data(as_text=True)
    twice = b.post(url, {"name": "x", "handoff_time": "09:00", "participants": f"{scenario.alice.email} {scenario.alice.email}"})
    assert twice.status_code == 422


def test_time_off_shows_who_covers(scenario, browser, session):
    b = browser(scenario.carol)
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=1)
    response = b.post("/time-off", {"start": local_input(start, "UTC"), "end": local_input(start + timedelta(days=4), "UTC"),
                                    "reason": "Vacation"})
    assert response.status_code == 303
    entry = session.scalar(select(TimeOff).where(TimeOff.user_id == scenario.carol.id))
    assert entry.start_at == start and entry.reason == "Vacation"
    html = b.get("/time-off").get_data(as_text=True)
    # carol's shifts in those 4 days go to the next in order who is free: alice
    assert "Web primary" in html and "<strong>Alice Admin</strong> covers" in html
    # only one's own time off can be cancelled
    entry_id = entry.id
    assert browser(scenario.bob).post(f"/time-off/{entry_id}/delete").status_code == 404
    assert b.post(f"/time-off/{entry_id}/delete").status_code == 303
    session.expire_all()
    assert session.get(TimeOff, entry_id) is None


def test_time_off_form_errors(scenario, browser):
    b = browser(scenario.carol)
    start = utcnow() + timedelta(days=1)
    backwards = b.post("/time-off", {"start": local_input(start, "UTC"), "end": local_input(start - timedelta(days=1), "UTC")})
    assert backwards.status_code == 422 and "Must be after start." in backwards.get_data(as_text=True)
    missing = b.post("/time-off", {"start": "", "end": ""})
    assert missing.status_code == 422 and "Missing data for required field." in missing.get_data(as_text=True)
    no_token = b.post("/time-off", {"start": local_input(start, "UTC"), "end": local_input(start + timedelta(days=1), "UTC")},
                      csrf=False)
    assert no_token.status_code == 400


def test_time_off_is_entered_in_the_readers_zone(make_person, browser, session):
    person = make_person(time_zone="America/New_York")
    browser(person).post("/time-off", {"start": "2030-07-01T09:00", "end": "2030-07-02T09:00"})
    entry = session.scalar(select(TimeOff).where(TimeOff.user_id == person.id))
    assert entry.start_at.isoformat() == "2030-07-01T13:00:00+00:00"  # EDT is UTC-4


def test_calendar_link_for_the_signed_in_person(scenario, browser, session):
    from oncall.feeds.models import CalendarFeed

    b = browser(scenario.bob)
    assert "Get my calendar link" in b.get(f"/rotations/{scenario.rotation_id}").get_data(as_text=True)
    assert b.post(f"/rotations/{scenario.rotation_id}/calendar-feed", csrf=False).status_code == 400
    response = b.post(f"/rotations/{scenario.rotation_id}/calendar-feed")
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert 'href="webcal://oncall.example.com/calendars/' in html
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == scenario.bob.id))
    assert (feed.scope, feed.scope_id) == ("rotation", scenario.rotation_id)
    # the link works: the feed serves the rotation's shifts
    secret = html.split("https://oncall.example.com/calendars/", 1)[1].split(".ics", 1)[0]
    ics = b.get(f"/calendars/{secret}.ics")
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.data
    assert b.post("/rotations/999999/calendar-feed").status_code == 404


def test_team_and_personal_calendar_links(scenario, browser, session):
    from oncall.feeds.models import CalendarFeed

    b = browser(scenario.bob)
    dashboard = b.get("/").get_data(as_text=True)
    assert f"/calendar-feed/team/{scenario.team_id}" in dashboard
    assert f"/calendar-feed/user/{scenario.bob.id}" in b.get("/time-off").get_data(as_text=True)
    team = b.post(f"/calendar-feed/team/{scenario.team_id}")
    mine = b.post(f"/calendar-feed/user/{scenario.bob.id}")
    assert team.status_code == mine.status_code == 201
    assert 'href="webcal://oncall.example.com/calendars/' in mine.get_data(as_text=True)
    feeds = session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == scenario.bob.id)).all()
    assert sorted((f.scope, f.scope_id) for f in feeds) == [("team", scenario.team_id), ("user", scenario.bob.id)]
    secret = mine.get_data(as_text=True).split("https://oncall.example.com/calendars/", 1)[1].split(".ics", 1)[0]
    assert b"BEGIN:VCALENDAR" in b.get(f"/calendars/{secret}.ics").data
    # someone else's personal feed is not theirs to create; unknown teams are 404; forms need CSRF
    assert b.post(f"/calendar-feed/user/{scenario.carol.id}").status_code == 403
    assert b.post("/calendar-feed/team/999999").status_code == 404
    assert b.post(f"/calendar-feed/team/{scenario.team_id}", csrf=False).status_code == 400
