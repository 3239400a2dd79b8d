"""The 3 a.m. journey on a phone, in a real browser against a real server on 127.0.0.1: the dashboard shows
the page (a triggered SEV1 above an acknowledged SEV2) and that I am on call, I acknowledge from the
dashboard, open the incident and add a note. Screenshots go to test-artifacts/responder-*.png."""
import os
import threading
from datetime import datetime, time, timedelta, timezone

import pytest

from tests.browser.test_handoff_flow import ARTIFACTS, CHROMIUM, PASSWORD, browser, sign_in  # noqa: F401

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash
    from werkzeug.serving import make_server

    from oncall import create_app
    from oncall.db import get_engine, get_sessionmaker
    from oncall.incidents import service as incidents
    from oncall.people import service as people
    from oncall.schedules import service as schedules

    db = tmp_path_factory.mktemp("responder") / "oncall.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "browser-test", "PUBLIC_URL": "http://127.0.0.1"})
    with app.app_context():
        upgrade()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{httpd.server_port}"
    app.config["PUBLIC_URL"] = base

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
        story = {"base": base}

    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield story
    httpd.shutdown()
    thread.join()
    get_engine(app).dispose()


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
