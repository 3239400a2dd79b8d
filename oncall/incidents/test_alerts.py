"""A test alert through a team's integration: an Alertmanager notification made here, loaded by the webhook's own
schema and applied by the same service, firing and then resolved, so the team sees an incident open and close
without waiting for a real alert. Opened and resolved in one transaction: its pages are cancelled before any is
sent. Never commits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from oncall.incidents import alertmanager, service
from oncall.incidents.models import Incident, Integration
from oncall.incidents.schemas import AlertmanagerSchema

TEST_ALERTNAME = "OncallTestAlert"


def _notification(integration: Integration, *, status: str, fingerprint: str, starts_at: str, ends_at: str) -> dict:
    label = integration.name or f"integration {integration.id}"
    alert = {"status": status, "labels": {"alertname": TEST_ALERTNAME, "severity": "info"},
             "annotations": {"summary": f"Test alert through {label}",
                             "description": "Sent from the integrations page to check the way in; resolved at once."},
             "startsAt": starts_at, "endsAt": ends_at, "fingerprint": fingerprint}
    return {"version": "4", "status": status, "receiver": "oncall-test", "groupKey": f"{{}}:{{alertname=\"{TEST_ALERTNAME}\"}}",
            "commonLabels": {"alertname": TEST_ALERTNAME}, "alerts": [alert]}


def send_test_alert(session: Session, *, integration: Integration, now: datetime) -> Incident:
    """Fire and resolve a test alert through `integration`; returns the incident it opened (now resolved)."""
    fingerprint = f"oncall-test-{integration.id}-{now.strftime('%Y%m%dT%H%M%S%f')}"
    at = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    schema = AlertmanagerSchema()
    firing = schema.load(_notification(integration, status="firing", fingerprint=fingerprint, starts_at=at,
                                       ends_at="0001-01-01T00:00:00Z"))
    [opened] = service.apply_alerts(session, integration=integration, alerts=alertmanager.map_payload(firing), now=now)
    resolved = schema.load(_notification(integration, status="resolved", fingerprint=fingerprint, starts_at=at,
                                         ends_at=at))
    service.apply_alerts(session, integration=integration, alerts=alertmanager.map_payload(resolved), now=now)
    return service.get_incident(session, opened["incident_id"])
