"""The Alertmanager webhook: the pure mapping (PRODUCT.md's table) and POST /api/v1/integrations/alertmanager."""
from datetime import datetime, timezone

import pytest

from oncall.incidents import alertmanager

UTC = timezone.utc


@pytest.mark.parametrize("label,severity", [
    ("SEV1", "SEV1"), ("sev2", "SEV2"), (" Sev3 ", "SEV3"), ("SEV4", "SEV4"),
    ("critical", "SEV1"), ("CRITICAL", "SEV1"), ("error", "SEV2"), ("major", "SEV2"), ("warning", "SEV3"),
    ("info", "SEV4"), ("page", "SEV3"), ("", "SEV3"), (None, "SEV3"), ("SEV5", "SEV3"),
])
def test_severity_label_mapping(label, severity):
    labels = {} if label is None else {"severity": label}
    assert alertmanager.severity_of(labels) == severity


@pytest.mark.parametrize("text,expected", [
    ("2026-03-04T15:00:00Z", datetime(2026, 3, 4, 15, tzinfo=UTC)),
    ("2026-03-04T15:00:00.123456789Z", datetime(2026, 3, 4, 15, 0, 0, 123456, tzinfo=UTC)),
    ("2026-03-04T10:00:00.5-05:00", datetime(2026, 3, 4, 15, 0, 0, 500000, tzinfo=UTC)),
    ("2026-03-04t15:00:00+00:00", datetime(2026, 3, 4, 15, tzinfo=UTC)),
    ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
    ("0001-01-01T00:00:00+01:00", datetime(1, 1, 1, tzinfo=UTC)),
])
def test_parse_time_accepts_go_rfc3339(text, expected):
    assert alertmanager.parse_time(text) == expected


@pytest.mark.parametrize("text", ["2026-03-04T15:00:00", "2026-03-04", "yesterday", "2026-13-01T00:00:00Z",
                                  "2026-03-04T15:00:00+24:00", "2026-03-04T15:00:00.1234567890Z"])
def test_parse_time_rejects_the_rest(text):
    with pytest.raises(ValueError):
        alertmanager.parse_time(text)


def alert(**overrides) -> dict:
    return {"status": "firing", "labels": {"alertname": "CheckoutErrors", "severity": "critical"},
            "annotations": {"summary": "Checkout errors above 5%", "description": "5xx rate is 7%",
                            "dashboard": "https://grafana.example.com/d/checkout",
                            "runbook_url": "https://runbooks.example.com/checkout",
                            "slack_channel": "#payments-alerts"},
            "startsAt": "2026-03-04T14:58:00.123456789Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=x", "fingerprint": "a1b2c3d4e5f60718"} | overrides


def payload(*alerts, **overrides) -> dict:
    alerts = alerts or (alert(),)
    return {"version": "4", "groupKey": '{}:{alertname="CheckoutErrors"}', "truncatedAlerts": 0,
            "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
            "receiver": "oncall-payments", "groupLabels": {"alertname": "CheckoutErrors"},
            "commonLabels": {"alertname": "CheckoutErrors"}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093", "alerts": list(alerts)} | overrides


def loaded(body: dict) -> dict:
    from oncall.incidents.schemas import AlertmanagerSchema

    return AlertmanagerSchema().load(body)


def test_mapping_fills_the_incident():
    [event] = alertmanager.map_payload(loaded(payload()))
    assert (event.fingerprint, event.firing, event.severity) == ("a1b2c3d4e5f60718", True, "SEV1")
    assert event.title == "Checkout errors above 5%" and event.description == "5xx rate is 7%"
    assert event.links == {"dashboard": "https://grafana.example.com/d/checkout",
                           "runbook": "https://runbooks.example.com/checkout", "chat": "#payments-alerts"}
    assert event.alert["starts_at"] == "2026-03-04T14:58:00.123456Z" and event.alert["ends_at"] is None
    assert event.alert["labels"]["alertname"] == "CheckoutErrors"
    assert event.alert["generator_url"].startswith("http://prometheus:9090")


def test_mapping_falls_back_to_common_annotations_and_the_alert_name():
    bare = alert(annotations={}, labels={"alertname": "DiskFull"})
    [event] = alertmanager.map_payload(loaded(payload(bare, commonAnnotations={"runbook": "https://rb/disk"})))
    assert event.title == "DiskFull" and event.severity == "SEV3" and event.description is None
    assert event.links == {"dashboard": None, "runbook": "https://rb/disk", "chat": None}
    [nameless] = alertmanager.map_payload(loaded(payload(alert(annotations={}, labels={}), commonLabels={})))
    assert nameless.title == "Alert a1b2c3d4e5f60718"


def test_only_web_links_become_links():
    sneaky = alert(annotations={"dashboard": "javascript:alert(1)", "runbook": "see wiki"})
    [event] = alertmanager.map_payload(loaded(payload(sneaky)))
    assert event.links["dashboard"] is None and event.links["runbook"] is None
    assert event.alert["annotations"]["runbook"] == "see wiki"  # still there for people to read


# --- the webhook ---------------------------------------------------------------------------------------------

@pytest.fixture()
def hook(api, client, make_team, make_rotation):
    team = make_team()
    make_rotation(team_id=team["id"])
    token = api.post(f"/api/v1/teams/{team['id']}/integrations", json={"type": "alertmanager"}).json["token"]

    def post(body, token=token):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return client.post("/api/v1/integrations/alertmanager", json=body, headers=headers)

    post.team = team
    return post


@pytest.mark.parametrize("token", [None, "", "wrong", "oncall_int_nope"])
def test_a_missing_or_wrong_token_is_401_even_with_a_bad_payload(hook, token):
    for body in (payload(), {"version": "3"}):
        response = hook(body, token=token)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "Unauthorized"


def test_a_user_api_token_is_not_an_integration_token(hook, make_token):
    assert hook(payload(), token=make_token()).status_code == 401


@pytest.mark.parametrize("body,fields", [
    (payload(version="3"), {"version": ["Only version 4 payloads are supported."]}),
    (payload(status="pending"), {"status": ["Must be one of: firing, resolved."]}),
    ({k: v for k, v in payload().items() if k != "alerts"}, {"alerts": ["Missing data for required field."]}),
    (payload(alerts=[]), {"alerts": ["Length must be between 1 and 1000."]}),
    (payload(alert(fingerprint="")), {"alerts": {"0": {"fingerprint": ["Length must be between 1 and 255."]}}}),
    (payload(alert(), alert(startsAt="yesterday")),
     {"alerts": {"1": {"startsAt": ["Not an RFC 3339 date-time with an offset."]}}}),
    (payload(alert(labels={"severity": 1})), {"alerts": {"0": {"labels": {"severity": {"value": ["Not a valid string."]}}}}}),
    (payload(alert(status="firingish")), {"alerts": {"0": {"status": ["Must be one of: firing, resolved."]}}}),
    ([1, 2], {"_schema": ["Expected a JSON object (the Alertmanager webhook payload)."]}),
])
def test_invalid_payloads_are_422_naming_the_field(hook, body, fields):
    response = hook(body)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == fields


def test_firing_opens_repeats_do_not_page_resolved_resolves(hook, api):
    first = hook(payload())
    assert first.status_code == 200
    [result] = first.json["results"]
    assert result["action"] == "created"
    incident = api.get(f"/api/v1/incidents/{result['incident_id']}").json
    assert (incident["severity"], incident["title"], incident["dedup_key"], incident["source"]) == (
        "SEV1", "Checkout errors above 5%", "a1b2c3d4e5f60718", "alertmanager")
    assert incident["links"]["runbook"] == "https://runbooks.example.com/checkout"
    pages = len(incident["notifications"])
    assert pages > 0

    # Alertmanager re-sends the group (repeat_interval, or another alert joined it): nobody is paged again.
    other = alert(fingerprint="ffff000011112222", labels={"alertname": "CheckoutLatency", "severity": "warning"})
    again = hook(payload(alert(), other)).json["results"]
    assert [r["action"] for r in again] == ["unchanged", "created"]
    incident = api.get(f"/api/v1/incidents/{result['incident_id']}").json
    assert len(incident["notifications"]) == pages and incident["trigger_count"] == 1

    resolved = hook(payload(alert(status="resolved", endsAt="2026-03-04T15:10:00Z"))).json["results"]
    assert resolved == [{"fingerprint": "a1b2c3d4e5f60718", "status": "resolved",
                         "incident_id": result["incident_id"], "action": "resolved"}]
    incident = api.get(f"/api/v1/incidents/{result['incident_id']}").json
    assert incident["status"] == "resolved" and incident["resolved_via"] == "alertmanager"
    assert incident["timeline"][-1]["message"] == "Resolved by Alertmanager (via alertmanager)."
    # A resolved alert repeated, or one never seen, changes nothing.
    assert hook(payload(alert(status="resolved"))).json["results"][0]["action"] == "ignored"
    assert hook(payload(alert(status="resolved", fingerprint="0000"))).json["results"][0]["action"] == "ignored"


def test_the_same_firing_alert_does_not_reopen_an_incident_resolved_by_hand(hook, api):
    [result] = hook(payload()).json["results"]
    api.post(f"/api/v1/incidents/{result['incident_id']}/resolve")
    assert hook(payload()).json["results"][0]["action"] == "unchanged"
    # It fired anew (a new startsAt): that is a new incident.
    refired = hook(payload(alert(startsAt="2026-03-05T09:00:00Z"))).json["results"][0]
    assert refired["action"] == "created" and refired["incident_id"] != result["incident_id"]


def test_an_open_incident_notes_a_refire_on_its_timeline(hook, api):
    [result] = hook(payload()).json["results"]
    refired = hook(payload(alert(startsAt="2026-03-04T16:00:00Z"))).json["results"][0]
    assert refired["action"] == "retriggered" and refired["incident_id"] == result["incident_id"]
    incident = api.get(f"/api/v1/incidents/{result['incident_id']}").json
    assert incident["timeline"][-1]["kind"] == "retriggered" and incident["trigger_count"] == 2


def test_unknown_fields_from_newer_alertmanagers_are_ignored(hook):
    body = payload(alert(silencedBy=[], inhibitedBy=[]), extra={"x": 1})
    assert hook(body).status_code == 200


def test_an_alert_firing_again_after_alertmanager_resolved_it_pages_again(hook, api):
    # Alertmanager resolves an alert whose endsAt passed (Prometheus restarted or was cut off for a few minutes)
    # and, when Prometheus sends it again, merges it back with its original startsAt: the same firing alert by
    # its times, but firing again after Alertmanager itself said it was over. Somebody must be paged.
    [first] = hook(payload()).json["results"]
    hook(payload(alert(status="resolved", endsAt="2026-03-04T15:10:00Z")))
    [again] = hook(payload()).json["results"]
    assert again["action"] == "created" and again["incident_id"] != first["incident_id"]
    incident = api.get(f"/api/v1/incidents/{again['incident_id']}").json
    assert incident["status"] == "triggered" and len(incident["notifications"]) > 0
    # Its repeats are repeats of the new incident.
    assert hook(payload()).json["results"][0] == again | {"action": "unchanged"}


def test_last_used_at_is_stamped_to_the_minute(hook, api, clock):
    from datetime import timedelta

    def last_used():
        [integration] = api.get(f"/api/v1/teams/{hook.team['id']}/integrations").json["integrations"]
        return integration["last_used_at"] and datetime.fromisoformat(integration["last_used_at"])

    assert last_used() is None
    hook(payload())
    stamped = last_used()
    assert abs(stamped - clock()) < timedelta(seconds=1)
    # Within the minute a storm of webhooks leaves the row alone (it would queue every webhook of the team).
    clock.advance(timedelta(seconds=50))
    hook(payload())
    assert last_used() == stamped
    clock.advance(timedelta(seconds=15))
    hook(payload())
    assert last_used() - stamped >= timedelta(minutes=1)


# Statements one webhook costs (an alert storm sends a thousand in ten seconds), by outcome and dialect, for a
# team whose default policy pages a rotation. Here each request's transaction is a SAVEPOINT and its RELEASE
# (the tests' outer transaction): two of each figure. SQLite writes timeline events one INSERT each, PostgreSQL
# batches them. Lower is welcome (update the figures); higher needs a reason. Before issue 8's storm work a new
# incident cost 23 on PostgreSQL; one statement was added back since, to look for a maintenance window of the
# team (an alert opened during one pages nobody). Resolving a SEV1 writes its postmortem draft (three more).
STATEMENTS = {"created": {"sqlite": 18, "postgresql": 17},
              "unchanged": {"sqlite": 4, "postgresql": 4},
              "resolved": {"sqlite": 11, "postgresql": 11}}


def test_statements_per_webhook_are_pinned(hook, app):
    from sqlalchemy import event

    from oncall.db import get_engine

    engine = get_engine(app)
    hook(payload(alert(fingerprint="warm-up")))  # stamps the integration's last use for the minute
    seen = {}
    for action, body in [("created", payload()), ("unchanged", payload()),
                         ("resolved", payload(alert(status="resolved", endsAt="2026-03-04T15:10:00Z")))]:
        statements = []
        listener = lambda _conn, _cursor, sql, *_: statements.append(sql)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = hook(body)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert response.json["results"][0]["action"] == action
        seen[action] = len(statements)
    assert seen == {action: counts[engine.dialect.name] for action, counts in STATEMENTS.items()}, seen
