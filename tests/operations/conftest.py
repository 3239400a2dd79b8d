"""Tests here judge the heartbeats they write themselves: rows left by worker processes of other tests (they
commit to the same database) are removed inside the test's transaction, which is rolled back afterwards."""
import pytest
from sqlalchemy import delete

from oncall.operations.models import WorkerHeartbeat


@pytest.fixture(autouse=True)
def _no_other_heartbeats(request):
    if "app" not in request.fixturenames:
        return
    session = request.getfixturevalue("session")
    session.execute(delete(WorkerHeartbeat))
    session.commit()


# The fake Twilio server and the app's Twilio settings, as tests/paging uses them (the full logging run).
from tests.paging.conftest import fake_twilio, twilio_config, twilio_server  # noqa: E402,F401
