"""The team report page in a real browser (desktop and a 390 px phone): the charts draw, the tables hold the
same numbers, the period picker works, and nothing scrolls sideways. Screenshots: test-artifacts/report-*.png."""
import re
from datetime import time, timedelta

from tests.browser.test_team_setup import ADMIN_PASSWORD, ARTIFACTS, DESKTOP, PHONE, chromium, server  # noqa: F401


def seed(app) -> int:
    """A team of three (one in Kolkata) on a weekly rotation for two months, with incidents of each severity,
    their acknowledgements and the pages they sent. Returns the team's id."""
    from oncall.clock import utcnow
    from oncall.db import get_sessionmaker
    from oncall.incidents import service as incidents
    from oncall.paging.models import Notification
    from oncall.people import service as people
    from oncall.schedules import service as schedules

    now = utcnow()
    with get_sessionmaker(app).begin() as s:
        crew = [people.create_user(s, name=n, email=f"{n.split()[0].lower()}@reports.example.com", phone=None,
                                   time_zone=z)
                for n, z in (("Asha Rao", "Asia/Kolkata"), ("Ben Ortiz", "America/New_York"), ("Chloe Wu", "UTC"))]
        team = people.create_team(s, name="Reports", slug="reports", time_zone="UTC")
        people.set_members(s, team, user_ids=[u.id for u in crew], admin_ids=[crew[0].id])
        schedules.create_rotation(s, team_id=team.id, name="Primary", time_zone="UTC", handoff_time=time(9),
                                  shift_length={"unit": "weeks", "count": 1},
                                  start_date=(now - timedelta(days=70)).date(), participant_ids=[u.id for u in crew])
        for i, (severity, ack_minutes) in enumerate([("SEV1", 3), ("SEV1", 9), ("SEV2", 12), ("SEV3", 40),
                                                     ("SEV2", 25), ("SEV1", 2)]):
            opened = now - timedelta(days=3 + 9 * i, hours=i * 5)
            incident, _ = incidents.create_incident(s, team_id=team.id, severity=severity, title=f"Incident {i}",
                                                    now=opened)
            incident.acknowledged_at = opened + timedelta(minutes=ack_minutes)
            incident.resolved_at = opened + timedelta(minutes=ack_minutes * 3)
            incident.status = "resolved"
            s.add(Notification(incident_id=incident.id, step=99, round=0, user_id=crew[i % 3].id, channel="voice",
                               state="sent", sent_at=opened + timedelta(seconds=5), created_at=opened))
        return team.id


def test_the_report_page_in_a_browser(server, chromium):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    base, team_id = server["base"], seed(server["app"])
    page = chromium.new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", "sam@example.com")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/teams/{team_id}")
    page.click("p.links a:has-text('Reports')")
    page.wait_for_url(re.compile(rf".*/teams/{team_id}/reports$"))
    assert page.locator("#load figure.chart svg rect").count() >= 3, "the hours chart draws a bar per person"
    rows = page.locator("#load-table tbody tr")
    assert rows.count() == 3
    assert {rows.nth(i).locator("th").inner_text() for i in range(3)} == {"Asha Rao", "Ben Ortiz", "Chloe Wu"}
    assert page.locator("#response figure.chart line.target").count() >= 1, "a target line per severity shown"
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"report-4w-{label}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], f"{label} scrolls sideways"
    page.set_viewport_size(DESKTOP)

    page.check("input[name=period][value=quarter]")
    page.click("#period-form button")
    page.wait_for_url(re.compile(r".*period=quarter.*"))
    sev1 = page.locator("#response-table tbody tr").first
    assert sev1.locator("th").inner_text() == "SEV1" and sev1.locator("td").first.inner_text() == "3"
    page.screenshot(path=str(ARTIFACTS / "report-quarter-desktop.png"), full_page=True)
