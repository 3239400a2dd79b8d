"""The 3 a.m. journey on a phone, in a real browser against a real server on 127.0.0.1: the dashboard shows
the page (a triggered SEV1 above an acknowledged SEV2) and that I am on call, I acknowledge from the
dashboard, open the incident and add a note. Screenshots go to test-artifacts/responder-*.png."""
import os
from datetime import datetime, time, timedelta, timezone

import pytest

from tests.browser.serving import serve
from tests.browser.test_handoff_flow import ARTIFACTS, CHROMIUM, PASSWORD, browser, sign_in  # noqa: F401

pytestmark = [
    # The server lives across the module's tests and its data is built from the host's clock, which it reads too.
    pytest.mark.host_clock,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from werkzeug.security import generate_password_hash

    from oncall.db import get_sessionmaker
    from oncall.incidents import service as incidents
    from oncall.people import service as people
    from oncall.schedules import service as schedules

    with serve(tmp_path_factory, "responder") as (app, base):

        now = datetime.now(timezone.utc)
        with get_sessionmaker(app).begin() as s:
            nia = people.create_user(s, name="Nia Night", email="nia@example.com", phone="+14155550142",
                                     time_zone="America/New_York")
            dan = people.create_user(s, name="Dan Day", email="dan@example.com", phone="+14155550143", time_zone="UTC")
            for u in (nia, dan):
                u.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
            team = people.create_team(s, name="Payments", slug="payments", time_zone="UTC")
            people.set_members(s, team, user_ids=[nia.id, dan.id], admin_ids=[nia.id])
            # Nia alone on the rotation: she is on call whatever the hour the test runs at.
            schedules.create_rotation(s, team_id=team.id, name="Payments primary", time_zone="UTC",
                                      handoff_time=time(9), shift_length={"unit": "days", "count": 1},
                                      start_date=(now - timedelta(days=3)).date(), participant_ids=[nia.id])
            acked, _ = incidents.create_incident(s, team_id=team.id, severity="SEV2", title="Refunds delayed",
                                                 now=now - timedelta(minutes=40))
            incidents.acknowledge(s, acked, user_id=dan.id, via="web", now=now - timedelta(minutes=35))
            incidents.create_incident(s, team_id=team.id, severity="SEV1", title="Checkout is down",
                                      now=now - timedelta(minutes=3))
            # A second team for the calendar and swap story: Eve and Finn alternate daily at 09:00 UTC; Finn has
            # an override tomorrow afternoon, Eve is away the day after (Finn covers), both are away on day 4.
            eve = people.create_user(s, name="Eve Early", email="eve@example.com", phone="+14155550144", time_zone="UTC")
            finn = people.create_user(s, name="Finn Late", email="finn@example.com", phone="+14155550145",
                                      time_zone="Europe/Berlin")
            for u in (eve, finn):
                u.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
            search = people.create_team(s, name="Search", slug="search", time_zone="UTC")
            people.set_members(s, search, user_ids=[eve.id, finn.id], admin_ids=[])
            today = now.date()
            calendar_rotation = schedules.create_rotation(
                s, team_id=search.id, name="Search primary", time_zone="UTC", handoff_time=time(9),
                shift_length={"unit": "days", "count": 1}, start_date=today - timedelta(days=7),
                participant_ids=[eve.id, finn.id])
            day = lambda n, h=9: datetime(today.year, today.month, today.day, h, tzinfo=timezone.utc) + timedelta(days=n)  # noqa: E731
            schedules.add_override(s, rotation_id=calendar_rotation.id, user_id=finn.id, start_at=day(1, 13),
                                   end_at=day(1, 17), reason="covering the dentist", now=now)
            schedules.add_time_off(s, user_id=eve.id, start_at=day(2, 0), end_at=day(3, 0), now=now)
            for u in (eve, finn):
                schedules.add_time_off(s, user_id=u.id, start_at=day(4, 10), end_at=day(4, 14), now=now)
            later, _ = incidents.create_incident(s, team_id=search.id, severity="SEV3", title="Indexing lag",
                                                 now=now - timedelta(minutes=5))
            story = {"base": base, "calendar_rotation": calendar_rotation.id, "eve_id": eve.id, "finn_id": finn.id,
                     "search_incident": later.id, "swap_start": day(5), "swap_end": day(6),
                     "days": {"override": day(1).date(), "time_off": day(2).date(), "uncovered": day(4).date()}}

        yield story


def test_three_am_page_on_a_phone(server, browser):  # noqa: F811  (the module fixture imported above)
    ARTIFACTS.mkdir(exist_ok=True)
    base = server["base"]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    sign_in(page, base, "nia@example.com")
    fire = page.inner_text("#incidents")
    assert "1 unacknowledged" in fire
    assert fire.index("Checkout is down") < fire.index("Refunds delayed")  # what is on fire comes first
    assert "acknowledged by Dan Day" in fire
    assert "You are on call" in page.inner_text("#you")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "responder-dashboard.png"), full_page=True)

    # The live part refreshes in place (what the 30-second timer runs), keeping the page usable.
    with page.expect_response(lambda r: "/dashboard/live" in r.url and r.status == 200):
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")

    page.click("#incidents li:has-text('Checkout is down') button:has-text('Acknowledge')")
    page.wait_for_url(f"{base}/")
    assert "all acknowledged" in page.inner_text("#incidents")
    assert "Acknowledge</button>" not in page.inner_html("#incidents")
    page.screenshot(path=str(ARTIFACTS / "responder-acknowledged.png"), full_page=True)

    page.click("#incidents a:has-text('Checkout is down')")
    page.wait_for_url(f"{base}/incidents/*")
    page.fill("#note-form textarea[name=text]", "Rolling back deploy 311; card payments recovering.")
    page.click("#note-form button")
    page.wait_for_url(f"{base}/incidents/*")
    timeline = page.inner_text(".timeline")
    assert "Rolling back deploy 311" in timeline and "Acknowledged by Nia Night" in timeline
    assert "times in America/New_York" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "responder-incident.png"), full_page=True)
    assert problems == []
    context.close()


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_calendar_swap_escalate_and_severity(server, browser, width):  # noqa: F811
    """Week and month views with an override, PTO cover and a gap; a swap asked from a shift, accepted on the
    dashboard and shown in the calendar; escalate and change severity on the incident page."""
    ARTIFACTS.mkdir(exist_ok=True)
    base, rid = server["base"], server["calendar_rotation"]
    name = "desktop" if width > 500 else "phone"
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, base, "finn@example.com")
    grid = page.locator("#schedule-grid")
    for kind, on in server["days"].items():  # the week of each (the test's date decides which weeks)
        page.goto(f"{base}/rotations/{rid}?start={on.isoformat()}")
        assert "times in Europe/Berlin" in grid.inner_text()
        assert page.locator(f"#schedule-grid svg.bar-{kind}").count() >= 1, kind
        assert page.locator("#schedule-grid svg.bar-rotation").count() >= 1
    page.goto(f"{base}/rotations/{rid}?start={server['days']['override'].isoformat()}")
    grid.screenshot(path=str(ARTIFACTS / f"responder-week-{name}.png"))
    page.goto(f"{base}/rotations/{rid}?start={server['days']['uncovered'].isoformat()}")
    page.click("#schedule-grid a:has-text('Month')")
    assert page.locator("#schedule-grid .cal-week").count() >= 4
    assert page.locator("#schedule-grid svg.bar-uncovered").count() >= 1
    grid.screenshot(path=str(ARTIFACTS / f"responder-month-{name}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.click("#schedule-grid a:has-text('Show in UTC')")
    assert "times in UTC" in page.locator("#schedule-grid").inner_text()

    # Whoever is on call for that day asks the other to take it.
    # Each run asks for another day: an accepted swap's override would clash with the next run's.
    offset = timedelta(days=0 if name == "desktop" else 2)
    start, end = server["swap_start"] + offset, server["swap_end"] + offset
    page.goto(f"{base}/rotations/{rid}/shift?start={start.isoformat().replace('+', '%2B')}"
              f"&end={end.isoformat().replace('+', '%2B')}")
    owner = page.locator("main ul.plain li").first.inner_text()
    asker, taker = ("finn@example.com", "eve@example.com") if "Finn" in owner else ("eve@example.com", "finn@example.com")
    if asker != "finn@example.com":
        page.click("button:has-text('Sign out')")
        sign_in(page, base, asker)
        page.goto(f"{base}/rotations/{rid}/shift?start={start.isoformat().replace('+', '%2B')}"
                  f"&end={end.isoformat().replace('+', '%2B')}")
    page.fill("#swap-form input[name=reason]", f"wedding ({name})")
    page.click("#swap-form button")
    page.wait_for_url(f"{base}/rotations/{rid}#schedule-grid")
    page.click("button:has-text('Sign out')")
    sign_in(page, base, taker)
    swaps = page.inner_text("#swaps")
    assert f"wedding ({name})" in swaps
    page.screenshot(path=str(ARTIFACTS / f"responder-swap-asked-{name}.png"), full_page=True)
    page.click(f"#swaps li:has-text('wedding ({name})') button:has-text('Accept')")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/rotations/{rid}?start={start.date().isoformat()}")
    assert page.locator("#schedule-grid svg.bar-override title", has_text="swap with").count() >= 1

    # On the Search incident: escalate, then raise the severity.
    page.goto(f"{base}/incidents/{server['search_incident']}")
    page.click("button:has-text('Escalate now')")
    page.wait_for_url(f"{base}/incidents/*")
    assert "Escalated by" in page.inner_text(".timeline")
    page.click("summary:has-text('Hand over or change severity')")
    page.select_option("select[name=severity]", "SEV1")
    page.click("button:has-text('Change severity')")
    page.wait_for_url(f"{base}/incidents/*")
    assert "Severity changed from SEV3 to SEV1" in page.inner_text(".timeline")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(ARTIFACTS / f"responder-incident-actions-{name}.png"), full_page=True)
    context.close()
