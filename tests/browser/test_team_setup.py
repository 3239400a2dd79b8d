"""A new team set up with nothing but the browser, against a real server on 127.0.0.1: the site admin creates a
team and invites two people; each signs in with their one-time link and verifies their phone with the code the
console notifier prints (the outbox is dispatched by the test, as the worker would); the team admin creates a
weekly rotation and a secondary one, edits the SEV1 policy and connects Alertmanager; an alert posted with the
integration's token pages the on-call person, who acknowledges it in the browser. Screenshots of each page at
desktop and phone widths go to test-artifacts/setup-*.png, and no page scrolls sideways on a phone."""
import io
import itertools
import json
import os
import re
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.browser.serving import serve

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ADMIN_PASSWORD = "site admin password"
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free port with its own migrated SQLite file and one site admin; `outbox()` sends what is due
    through a console notifier and returns what it printed; `app` lets a test write its own data."""
    from werkzeug.security import generate_password_hash

    from oncall.db import get_sessionmaker
    from oncall.paging import outbox
    from oncall.paging.console import ConsoleNotifier
    from oncall.people import service as people

    with serve(tmp_path_factory, "setup") as (app, base):
        with get_sessionmaker(app).begin() as s:
            root = people.create_user(s, name="Sam Site", email="sam@example.com", phone=None, time_zone="UTC")
            root.is_admin = True
            root.password_hash = generate_password_hash(ADMIN_PASSWORD, method="pbkdf2:sha256:1000")

        calls = itertools.count(1)

        def dispatch() -> str:
            printed = io.StringIO()
            # Each pass an hour further on than the last, so one person's SMS window (30 s) never holds the next.
            later = datetime.now(timezone.utc) + timedelta(hours=next(calls))
            outbox.dispatch_due(get_sessionmaker(app), ConsoleNotifier(printed), public_url=base, now=later)
            return printed.getvalue()

        yield {"base": base, "outbox": dispatch, "app": app}


# The one browser fixture of the browser tests (outside faketime, the agreed chromium flags).
from tests.browser.test_handoff_flow import browser as chromium  # noqa: E402,F401


def shoot(page, name: str) -> None:
    """Screenshots at desktop and phone widths; the phone one must not scroll sideways."""
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"setup-{name}-{label}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{name} scrolls sideways"
    page.set_viewport_size(DESKTOP)


def test_a_team_sets_itself_up_in_the_browser(server, chromium):
    ARTIFACTS.mkdir(exist_ok=True)
    base = server["base"]
    admin = chromium.new_context(viewport=DESKTOP).new_page()
    admin.set_default_timeout(10_000)

    # The site admin signs in and creates the team.
    admin.goto(f"{base}/sign-in")
    admin.fill("input[name=email]", "sam@example.com")
    admin.fill("input[name=password]", ADMIN_PASSWORD)
    admin.click("button:has-text('Sign in')")
    admin.wait_for_url(f"{base}/")
    admin.click("nav >> text=Teams")
    admin.fill("#team-form input[name=name]", "Checkout")
    admin.fill("#team-form input[name=time_zone]", "UTC")
    shoot(admin, "teams")
    admin.click("#team-form button")
    admin.wait_for_url(re.compile(r".*/teams/\d+$"))
    team_url = admin.url

    # ... and invites two people; each gets a one-time sign-in link to copy.
    links = {}
    for name, email, phone in (("Dana Diaz", "dana@example.com", "+14155550201"),
                               ("Eli Evans", "eli@example.com", "+14155550202")):
        admin.fill("#invite-form input[name=name]", name)
        admin.fill("#invite-form input[name=email]", email)
        admin.fill("#invite-form input[name=phone]", phone)
        admin.click("#invite-form button")
        admin.wait_for_selector("#invited")
        links[email] = admin.inner_text("#invited code")
        assert links[email].startswith(f"{base}/sign-in/link/")
        admin.goto(team_url)
    shoot(admin, "team")
    admin.click("#members li:has-text('Dana Diaz') button:has-text('make team admin')")
    admin.wait_for_selector("#members li:has-text('Dana Diaz') .tag:has-text('team admin')")

    # Each person signs in with their link and verifies their phone with the code the console notifier prints.
    pages = {}
    for email, phone in (("dana@example.com", "+14155550201"), ("eli@example.com", "+14155550202")):
        page = chromium.new_context(viewport=DESKTOP).new_page()
        page.set_default_timeout(10_000)
        page.goto(links[email])
        page.fill("input[name=password]", f"{email} password")
        page.fill("input[name=confirm]", f"{email} password")
        page.click("button:has-text('Set password')")
        page.wait_for_url(f"{base}/profile")
        assert "is not verified yet" in page.inner_text("#phone")
        page.click("button:has-text('Send me a new code')")
        page.wait_for_selector("p.flash:has-text('A new code is on its way')")
        printed = server["outbox"]()
        code = re.search(rf"--- SMS to \{phone} ---\s+oncall: your verification code is (\d{{6}})", printed).group(1)
        page.fill("#verify-form input[name=code]", code)
        if email.startswith("dana"):
            shoot(page, "profile-unverified")
        page.click("#verify-form button")
        page.wait_for_selector("p.flash:has-text('is verified')")
        assert "verified" in page.inner_text("#phone") and "not verified" not in page.inner_text("#phone")
        pages[email] = page
    dana, eli = pages["dana@example.com"], pages["eli@example.com"]
    shoot(dana, "profile")

    # The team admin creates a weekly rotation and a secondary one.
    dana.goto(team_url)
    for name, first, second in (("Checkout primary", "Dana Diaz", "Eli Evans"),
                                ("Checkout secondary", "Eli Evans", "Dana Diaz")):
        dana.click("a:has-text('New rotation')")
        dana.fill("#rotation-form input[name=name]", name)
        dana.fill("#rotation-form input[name=handoff_time]", "00:00")
        dana.fill(f"#participants label:has-text('{first}') input", "1")
        dana.fill(f"#participants label:has-text('{second}') input", "2")
        if name.endswith("primary"):
            shoot(dana, "new-rotation")
        dana.click("#rotation-form button")
        dana.wait_for_url(re.compile(r".*/rotations/\d+$"))
        dana.goto(team_url)
    assert "Checkout primary" in dana.inner_text("#rotations") and "Checkout secondary" in dana.inner_text("#rotations")

    # ... edits the SEV1 policy: the primary by SMS and voice at once, the secondary five minutes later.
    dana.click("a:has-text('Escalation policies')")
    dana.click("a:has-text('Edit SEV1')")
    step0, step1 = "#step-0", "#step-1"
    for box in dana.query_selector_all(f"{step0} input[name=step-0-target]"):
        box.uncheck()
    dana.check(f"{step0} label:has-text('on call for Checkout primary') input")
    dana.check(f"{step0} input[value=voice]")
    for remove in dana.query_selector_all("fieldset.step input[name$='-remove']")[1:]:
        remove.check()  # keep step 1, fill step 2 below, drop any later default step
    dana.uncheck(f"{step1} input[name=step-1-remove]") if dana.query_selector(f"{step1} input[name=step-1-remove]") \
        else None
    dana.fill(f"{step1} input[name=step-1-delay]", "5")
    for box in dana.query_selector_all(f"{step1} input[name=step-1-target]"):
        box.uncheck()
    dana.check(f"{step1} label:has-text('on call for Checkout secondary') input")
    shoot(dana, "policy-edit")
    dana.click("button:has-text('Save SEV1 policy')")
    dana.wait_for_url(re.compile(r".*/escalation#sev1$"))
    sev1 = dana.inner_text("#sev1")
    assert "on call for Checkout primary" in sev1 and "After 5 min" in sev1 and "Now: Dana Diaz" in sev1
    shoot(dana, "policies")

    # ... and connects Alertmanager.
    dana.goto(team_url)
    dana.click("a:has-text('Integrations')")
    dana.fill("#integration-form input[name=name]", "prod Alertmanager")
    dana.click("#integration-form button")
    dana.wait_for_selector("#new-integration")
    token = dana.inner_text("#integration-token").strip()
    assert f"credentials: {token}" in dana.inner_text("#receiver-block")
    shoot(dana, "integrations")

    # An alert sent to the integration's endpoint pages the person on call for the primary: Dana.
    alert = {"version": "4", "status": "firing", "alerts": [{
        "status": "firing", "labels": {"alertname": "CheckoutDown", "severity": "critical"},
        "annotations": {"summary": "Checkout is down"}, "startsAt": datetime.now(timezone.utc).isoformat(),
        "fingerprint": "checkout-down-1"}]}
    request = urllib.request.Request(f"{base}/api/v1/integrations/alertmanager", data=json.dumps(alert).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        incident_id = json.load(answer)["results"][0]["incident_id"]
    printed = server["outbox"]()
    assert "--- SMS to +14155550201 ---" in printed and "[SEV1] Checkout is down" in printed
    assert "--- voice call to +14155550201 ---" in printed and "+14155550202" not in printed

    # Dana acknowledges it in the browser; the page showed whom the next step pages.
    dana.goto(f"{base}/incidents/{incident_id}")
    assert "Next: step 2" in dana.inner_text("#escalation") and "Eli Evans" in dana.inner_text("#escalation")
    shoot(dana, "incident")
    dana.click("button:has-text('Acknowledge')")
    dana.wait_for_selector("#escalation:has-text('Escalation stopped')")
    assert "acknowledged" in dana.inner_text("main")
    assert "Escalation stopped" in dana.inner_text("#escalation")

    # Dana's own pages for tokens, calendar links and the password fit a phone too.
    for name, path in (("tokens", "/tokens"), ("calendar-links", "/calendar-links"), ("password", "/password")):
        dana.goto(base + path)
        shoot(dana, name)
    eli.close()
