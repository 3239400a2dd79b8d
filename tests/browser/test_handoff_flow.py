"""The handoff flow in a real browser against a real server on 127.0.0.1: sign in, write and submit the
draft, acknowledge as the incoming on-call, resolve an incident, and check what the next draft carries.
Screenshots of the dashboard, rotation and handoff pages go to test-artifacts/."""
import os
from datetime import time, timedelta
from pathlib import Path

import pytest

from tests.browser.serving import serve
from tests.clock import TestClock
from tests.conftest import TEST_NOW

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
    # The server lives across the module's tests, so its clock does too (set in `server`, not per test).
    pytest.mark.host_clock,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free port with its own migrated SQLite file, and the people and data of the story."""
    from werkzeug.security import generate_password_hash

    from oncall import clock as oncall_clock
    from oncall.db import get_sessionmaker
    from oncall.handoffs.models import WatchItem
    from oncall.incidents import service as incidents
    from oncall.people import service as people
    from oncall.schedules import service as schedules

    with serve(tmp_path_factory, "browser") as (app, base):

        # The story happens on the test clock, from the data's creation to the last page the server answers.
        test_clock = TestClock(TEST_NOW)
        with oncall_clock.reading(test_clock):
            now = test_clock()
            change = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
            start = (now - timedelta(days=6)).date()
            with get_sessionmaker(app).begin() as s:
                names = ("Alice Adams", "Bob Brown", "Carol Chen")
                users = [people.create_user(s, name=n, email=f"{n.split()[0].lower()}@example.com",
                                            phone=f"+1415555010{i}", time_zone="UTC") for i, n in enumerate(names, 1)]
                for u in users:
                    u.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
                team = people.create_team(s, name="Payments", slug="payments", time_zone="UTC")
                people.set_members(s, team, user_ids=[u.id for u in users], admin_ids=[users[0].id])
                rotation = schedules.create_rotation(
                    s, team_id=team.id, name="Payments primary", time_zone="UTC",
                    handoff_time=time(change.hour, change.minute), shift_length={"unit": "days", "count": 1},
                    start_date=start, participant_ids=[u.id for u in users])
                incidents.create_incident(s, team_id=team.id, severity="SEV2", title="Checkout errors at 5%", now=now)
                incidents.create_incident(s, team_id=team.id, severity="SEV3", title="Search is slow", now=now)
                long_one, _ = incidents.create_incident(
                    s, team_id=team.id, severity="SEV4", title=f"PaymentGatewayConnectorTimeoutException_{'x' * 80}",
                    now=now, description=f"https://logs.example.com/app/discover#/view/{'a' * 120}")
                s.add(WatchItem(team_id=team.id, text="Old certificate renewal", added_by_id=users[0].id, created_at=now))
                s.flush()
                k = (change.date() - start).days
                outgoing, incoming = users[(k - 1) % 3], users[k % 3]
                story = {"base": base, "rotation_id": rotation.id, "outgoing": outgoing.email, "incoming": incoming.email,
                         "incoming_name": incoming.name, "team_id": team.id, "long_incident_id": long_one.id}

            yield story


def _real_clock_env() -> dict[str, str]:
    """The environment without libfaketime: chromium never loads a page under it (.ci/run's shifted-clock pass
    preloads it into every child process). Nothing here reads the browser's clock: no page script reads the
    date (static/dashboard.js only refreshes on an interval) and the session cookie has no expiry."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, env=_real_clock_env(),
                                     args=["--headless", "--no-sandbox", "--disable-gpu",
                                           "--disable-background-networking"])
        yield chromium
        chromium.close()


def sign_in(page, base, email):
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/")


def section(page, element_id: str) -> str:
    return page.inner_text(f"#{element_id}")


def test_handoff_flow(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    base, rid = server["base"], server["rotation_id"]
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.set_default_timeout(10_000)

    # The outgoing on-call signs in and writes the draft.
    sign_in(page, base, server["outgoing"])
    assert "Payments primary" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    page.click("a:has-text('Payments primary')")
    page.wait_for_url(f"{base}/rotations/{rid}")
    assert "Coming 4 weeks" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "rotation.png"), full_page=True)

    page.click("a:has-text('Handoff draft')")
    page.wait_for_url(f"{base}/rotations/{rid}/handoff")
    active = section(page, "active-issues")
    assert "Checkout errors at 5%" in active and "Search is slow" in active
    page.fill("input[name=new_text] >> nth=0", "Keep an eye on the payment queue")
    page.check("#watch-items li:has-text('Old certificate renewal') input[name=close]")
    page.fill("textarea[name=notes]", "Deploy freeze until Thursday.")
    page.screenshot(path=str(ARTIFACTS / "handoff-form.png"), full_page=True)
    page.click("button:has-text('Submit handoff')")
    page.wait_for_url(f"{base}/handoffs/*")
    handoff_url = page.url
    assert "Deploy freeze until Thursday." in section(page, "notes")
    assert "Closed since last handoff" in section(page, "watch-items")
    page.screenshot(path=str(ARTIFACTS / "handoff.png"), full_page=True)
    page.click("button:has-text('Sign out')")
    page.wait_for_url(f"{base}/sign-in")

    # The incoming on-call acknowledges from the dashboard's link.
    sign_in(page, base, server["incoming"])
    page.click("a:has-text('Acknowledge handoff')")
    page.wait_for_url(handoff_url)
    page.click("#acknowledge button")
    page.wait_for_url(handoff_url)
    assert "acknowledged" in page.inner_text("main")
    assert f"by {server['incoming_name']}" in page.inner_text("main")

    # They resolve one incident.
    page.goto(f"{base}/incidents")
    page.click("a:has-text('Search is slow')")
    page.click("button:has-text('Resolve')")
    page.wait_for_url(f"{base}/incidents/*")
    assert "resolved" in page.inner_text("main")

    # The next shift's draft: the open incident and the watch item carried, the resolved one listed, the
    # closed watch item gone.
    page.goto(f"{base}/rotations/{rid}/handoff")
    active, resolved = section(page, "active-issues"), section(page, "recently-resolved")
    watch = section(page, "watch-items")
    assert "Checkout errors at 5%" in active and "Search is slow" not in active
    assert "Search is slow" in resolved
    assert "Keep an eye on the payment queue" in watch and "Old certificate renewal" not in watch
    page.screenshot(path=str(ARTIFACTS / "handoff-next-draft.png"), full_page=True)
    context.close()


def test_every_page_fits_a_phone(server, browser):
    """At 390px nothing scrolls sideways, even with long unbroken words (URLs, exception names) in titles,
    descriptions, watch items and notes. Screenshots of each page go to test-artifacts/phone-*.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    base, rid, tid = server["base"], server["rotation_id"], server["team_id"]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, base, server["outgoing"])
    long_url = "https://grafana.example.com/d/" + "checkout-latency-overview-" * 6
    page.goto(f"{base}/teams/{tid}/watch-items")
    page.fill("#watch-item-form input[name=text]", f"Watch {long_url}")
    page.click("#watch-item-form button")
    page.wait_for_url(f"{base}/teams/{tid}/watch-items")
    pages = {"dashboard": "/", "rotation": f"/rotations/{rid}", "draft": f"/rotations/{rid}/handoff",
             "history": f"/rotations/{rid}/handoffs", "watch-items": f"/teams/{tid}/watch-items",
             "incidents": "/incidents", "incident": f"/incidents/{server['long_incident_id']}", "time-off": "/time-off"}
    wide = {}
    for name, path in pages.items():
        page.goto(base + path)
        page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[name] = width
    assert wide == {}
    context.close()
