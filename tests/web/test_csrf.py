"""Every state-changing web route needs the form's CSRF token, signed in or not; only the bearer-token API,
the signature-checked Twilio webhooks and the secret calendar URLs are exempt (they carry no cookie)."""
import re

from oncall.web import CSRF_EXEMPT_PREFIXES


def _post_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.methods & {"POST", "PUT", "PATCH", "DELETE"} or rule.rule.startswith(CSRF_EXEMPT_PREFIXES):
            continue
        paths.append(re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule.rule))
    return sorted(set(paths))


def test_every_web_form_refuses_a_request_without_its_token(app, scenario, browser):
    paths = _post_paths(app)
    # the forms this interface has; a new one is covered automatically
    assert {"/sign-in", "/sign-out", "/time-off", "/rotations/1/handoff", "/handoffs/1/acknowledge",
            "/teams/1/watch-items", "/teams/1/watch-items/1/close", "/rotations/1/settings",
            "/incidents/1/resolve"} <= set(paths)
    signed_in, anonymous = browser(scenario.alice), browser()
    for path in paths:
        for who in (signed_in, anonymous):
            refused = who.post(path, {"text": "x", "notes": "x", "action": "submit"}, csrf=False)
            assert refused.status_code == 400, path
            assert "Form expired" in refused.get_data(as_text=True), path
            forged = who.post(path, {"csrf_token": "forged"}, csrf=False)
            assert forged.status_code == 400, path
    # and nothing was signed out by the forged sign-out
    assert signed_in.get("/").status_code == 200
