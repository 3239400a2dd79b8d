"""GET /metrics: every metric PRODUCT.md names, read from the database at scrape time or summed over the web
processes of one server (prometheus_client's multiprocess mode)."""
import json
import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete

from oncall import create_app
from oncall.clock import database_now
from oncall.db import get_engine
from oncall.incidents import service as incidents
from oncall.operations.models import WorkerHeartbeat
from oncall.paging.models import CANCELLED, FAILED, PENDING, SENDING, SENT, Notification
from oncall.people import service as people

NAMED = ["oncall_notifications", "oncall_outbox_pending", "oncall_outbox_oldest_pending_seconds",
         "oncall_escalation_lag_seconds", "oncall_worker_heartbeat_age_seconds",
         "oncall_http_request_duration_seconds"]


def scrape(client, **kwargs) -> dict:
    """{(name, sorted labels): value} of one scrape, checked to be valid exposition by the official parser."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return samples(response.get_data(as_text=True))


def samples(text: str) -> dict:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def families(text: str) -> dict:
    return {family.name: family.type for family in text_string_to_metric_families(text)}


def test_every_named_metric_is_exposed_with_its_type(client):
    text = client.get("/healthz") and client.get("/metrics").get_data(as_text=True)
    types = families(text)
    assert {name: types.get(name) for name in NAMED} == {
        "oncall_notifications": "counter", "oncall_outbox_pending": "gauge",
        "oncall_outbox_oldest_pending_seconds": "gauge", "oncall_escalation_lag_seconds": "gauge",
        "oncall_worker_heartbeat_age_seconds": "gauge", "oncall_http_request_duration_seconds": "histogram"}
    assert "_created" not in text


def test_database_state_at_scrape_time(session, client):
    user = people.create_user(session, name="Pat", email="pat@example.com", phone="+14155550100", time_zone="UTC")
    team = people.create_team(session, name="Ops", slug="ops", time_zone="UTC")
    people.set_members(session, team, user_ids=[user.id], admin_ids=[])
    now = database_now(session)
    incident, _ = incidents.create_incident(session, team_id=team.id, severity="SEV1", title="Down", now=now)
    session.execute(delete(Notification))  # start from known rows only
    incident.next_step_at = now - timedelta(seconds=45)
    rows = [("sms", SENT, now), ("sms", SENT, now), ("voice", SENT, now), ("voice", FAILED, now),
            ("sms", CANCELLED, now), ("sms", PENDING, now - timedelta(seconds=30)),
            ("voice", PENDING, now + timedelta(seconds=20)), ("voice", SENDING, now + timedelta(seconds=50))]
    for step, (channel, state, due) in enumerate(rows):
        session.add(Notification(incident_id=incident.id, step=step, round=0, user_id=user.id, channel=channel,
                                 state=state, next_attempt_at=due, created_at=now))
    session.add(WorkerHeartbeat(id="w", host="h", pid=1, version="v", started_at=now - timedelta(minutes=5),
                                last_seen_at=now - timedelta(seconds=7)))
    session.commit()

    found = scrape(client)
    count = lambda channel, state: found[("oncall_notifications_total", (("channel", channel), ("state", state)))]  # noqa: E731
    assert [count("sms", SENT), count("voice", SENT), count("voice", FAILED), count("sms", FAILED),
            count("sms", CANCELLED), count("voice", CANCELLED)] == [2, 1, 1, 0, 1, 0]
    assert found[("oncall_outbox_pending", ())] == 3
    assert 30 <= found[("oncall_outbox_oldest_pending_seconds", ())] < 40  # only the due one counts
    assert 45 <= found[("oncall_escalation_lag_seconds", ())] < 55
    assert 7 <= found[("oncall_worker_heartbeat_age_seconds", ())] < 17
    assert found[("oncall_workers_alive", ())] == 1
    assert found[("oncall_database_up", ())] == 1


def test_no_worker_on_record_is_an_infinite_heartbeat_age(client):
    found = scrape(client)
    assert found[("oncall_worker_heartbeat_age_seconds", ())] == float("inf")
    assert found[("oncall_workers_alive", ())] == 0


def test_requests_are_observed_by_route_template_never_the_raw_path(client):
    secret = "S" * 43

    def count(route, status):
        key = ("oncall_http_request_duration_seconds_count",
               (("method", "GET"), ("route", route), ("status", status)))
        return scrape(client).get(key, 0)

    before = count("/calendars/<secret>.ics", "404"), count("/api/v1/users", "401")
    client.get(f"/calendars/{secret}.ics")
    client.get(f"/calendars/{secret}.ics")
    client.get("/api/v1/users")  # refused by authentication, before any view: observed all the same
    assert (count("/calendars/<secret>.ics", "404"), count("/api/v1/users", "401")) == (before[0] + 2, before[1] + 1)
    assert secret not in client.get("/metrics").get_data(as_text=True)
    client.open("/healthz", method="BREW")  # any method text a client sends: one label value for all
    assert "BREW" not in client.get("/metrics").get_data(as_text=True)


def test_a_token_can_be_required(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-me")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scrape(client, headers={"Authorization": "Bearer scrape-me"})


def test_a_database_that_does_not_answer_is_reported_not_hidden():
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite:////nonexistent-directory/oncall.db",
                      "SECRET_KEY": "test"})
    try:
        found = scrape(app.test_client())
    finally:
        get_engine(app).dispose()
    assert found[("oncall_database_up", ())] == 0
    assert ("oncall_outbox_pending", ()) not in found


# --- several processes -------------------------------------------------------------------------------------

REQUESTS_IN_CHILD = textwrap.dedent("""
    import sys
    from oncall import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1], "SECRET_KEY": "test"})
    client = app.test_client()
    for _ in range(int(sys.argv[2])):
        assert client.get("/api/v1/users").status_code == 401
    if len(sys.argv) > 3:
        sys.stdout.write(client.get("/metrics").get_data(as_text=True))
""")


def test_two_processes_count_one_scrape_sees_both(tmp_path):
    """What gunicorn's workers do: each process records its own requests; whichever answers /metrics reports
    the sum (PROMETHEUS_MULTIPROC_DIR)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONCALL_", "PROMETHEUS"))}
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "prometheus")
    url = f"sqlite:///{tmp_path / 'oncall.db'}"

    def child(*args):
        done = subprocess.run([sys.executable, "-c", REQUESTS_IN_CHILD, url, *args], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    child("3")
    child("4")
    text = child("2", "scrape")
    key = ("oncall_http_request_duration_seconds_count", (("method", "GET"), ("route", "/api/v1/users"),
                                                           ("status", "401")))
    assert samples(text)[key] == 9
