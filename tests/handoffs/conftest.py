"""Handoff fixtures: the web scenario (team, daily rotation, signed-in people) plus bearer tokens for them."""
import pytest

from oncall.people.tokens import create_api_token
from tests.conftest import ApiClient
from tests.web.conftest import browser, make_person, scenario  # noqa: F401  (shared fixtures)


@pytest.fixture()
def api_as(client, session):
    """An API client authenticated as the given user."""

    def make(user) -> ApiClient:
        token = create_api_token(session, user=user)
        session.commit()
        return ApiClient(client, token)

    return make


@pytest.fixture()
def make_incident(session):
    """An incident row as the incidents domain stores it (its model is the contract used here)."""
    from itertools import count

    from oncall.incidents.models import Incident

    codes = count(9000)

    def make(team_id: int, *, severity: str = "SEV2", status: str = "triggered", title: str | None = None,
             created_at=None, acknowledged_by_id: int | None = None, resolved_at=None) -> Incident:
        from oncall.clock import utcnow

        now = utcnow()
        code = next(codes)
        incident = Incident(code=code, team_id=team_id, severity=severity, title=title or f"Incident {code}",
                            status=status, policy={"repeat": 0, "steps": []}, created_at=created_at or now,
                            last_triggered_at=created_at or now, acknowledged_by_id=acknowledged_by_id,
                            acknowledged_at=now if acknowledged_by_id else None, resolved_at=resolved_at)
        session.add(incident)
        session.commit()
        return incident

    return make
