"""The postmortem form in a real browser against a real server on 127.0.0.1: a resolved SEV1's prefilled draft
is written, an action item given an owner and a due date, published, its Markdown read; the owner closes the item from the dashboard. Screenshots go to test-artifacts/."""
from datetime import time, timedelta

import pytest

from tests.browser.serving import serve
from tests.browser.test_handoff_flow import ARTIFACTS, CHROMIUM, PASSWORD, browser, sign_in  # noqa: F401
from tests.clock import TestClock
from tests.conftest import TEST_NOW

pytestmark = [
    pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
    pytest.mark.host_clock,  # the server lives across the module, on a clock of its own
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from werkzeug.security import generate_password_hash

    from oncall import clock as oncall_clock
    from oncall.db import get_sessionmaker
    from oncall.incidents import service as incidents
    from oncall.people import service as people
    from oncall.schedules import service as schedules

    with serve(tmp_path_factory, "browser-postmortem") as (app, base):
        test_clock = TestClock(TEST_NOW)
        with oncall_clock.reading(test_clock):
            now = test_clock()
            with get_sessionmaker(app).begin() as s:
                users = [people.create_user(s, name=n, email=f"{n.split()[0].lower()}@example.com",
                                            phone=f"+1415555020{i}", time_zone="UTC")
                         for i, n in enumerate(("Alice Adams", "Bob Brown"), 1)]
                for u in users:
                    u.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
                team = people.create_team(s, name="Payments", slug="payments", time_zone="UTC")
                people.set_members(s, team, user_ids=[u.id for u in users], admin_ids=[users[0].id])
                schedules.create_rotation(s, team_id=team.id, name="Payments primary", time_zone="UTC",
                                          handoff_time=time(9), shift_length={"unit": "weeks", "count": 1},
                                          start_date=(now - timedelta(days=2)).date(), participant_ids=[u.id for u in users])
                incident, _ = incidents.create_incident(s, team_id=team.id, severity="SEV1", title="Checkout down",
                                                        now=now - timedelta(minutes=50))
                incidents.acknowledge(s, incident, user_id=users[0].id, via="web", now=now - timedelta(minutes=45))
                incidents.resolve(s, incident, user_id=users[0].id, via="web", now=now - timedelta(minutes=5))
                story = {"base": base, "incident_id": incident.id, "alice": users[0].email, "bob": users[1].email,
                         "bob_id": users[1].id}
            yield story


def test_write_publish_and_follow_through(server, browser):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    base, iid = server["base"], server["incident_id"]
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)

    sign_in(page, base, server["alice"])
    page.goto(f"{base}/incidents/{iid}")
    page.click("#postmortem-link a")
    page.wait_for_url(f"{base}/incidents/{iid}/postmortem")
    timeline = page.input_value("textarea[name=timeline]")
    assert timeline.splitlines()[0].endswith("UTC - SEV1 opened for Payments: Checkout down")
    assert "Acknowledged by Alice Adams" in timeline and "Resolved by Alice Adams" in timeline
    page.fill("textarea[name=summary]", "Checkout returned errors for 45 minutes.")
    page.fill("textarea[name=impact]", "- About 2000 customers could not pay")
    page.fill("textarea[name=root_cause]", "A configuration change removed the payment provider's key.")
    page.fill("textarea[name=went_well]", "- The alert fired within a minute")
    page.fill("input[name=item_text] >> nth=0", "Validate configuration before deploys")
    page.select_option("select[name=item_owner] >> nth=0", label="Bob Brown")
    page.fill("input[name=item_due] >> nth=0", "2026-03-11")
    page.screenshot(path=str(ARTIFACTS / "postmortem-form.png"), full_page=True)
    page.click("button:has-text('Save and publish')")
    page.wait_for_url(f"{base}/incidents/{iid}/postmortem")
    main = page.inner_text("main")
    assert "Postmortem published." in main and "published" in main
    assert page.input_value("input[name=item_text] >> nth=0") == "Validate configuration before deploys"
    assert page.input_value("input[name=item_due] >> nth=0") == "2026-03-11"
    markdown = page.request.get(f"{base}/incidents/{iid}/postmortem.md").text()  # the page's Markdown link
    assert [line for line in markdown.splitlines() if line.startswith("## ")] == [
        "## Summary", "## Impact", "## Timeline", "## Root Cause", "## What Went Well", "## What Went Poorly",
        "## Action Items", "## Lessons Learned"]
    assert "| Validate configuration before deploys | @Bob Brown | 2026-03-11 |" in markdown

    page.click("button:has-text('Sign out')")
    page.wait_for_url(f"{base}/sign-in")

    # Bob owns the item: it is on his dashboard until he closes it.
    sign_in(page, base, server["bob"])
    items = page.inner_text("#action-items")
    assert "Validate configuration before deploys" in items and "due 2026-03-11" in items
    page.screenshot(path=str(ARTIFACTS / "dashboard-action-items.png"), full_page=True)
    page.click("#action-items button:has-text('Done')")
    page.wait_for_url(f"{base}/")
    assert page.locator("#action-items").count() == 0
    page.goto(f"{base}/incidents/{iid}/postmortem")
    assert "by Bob Brown" in page.inner_text("#action-items")
    context.close()
