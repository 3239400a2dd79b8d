"""Fixtures for the Twilio side of paging: the fake Twilio server, app config pointing at it, a gateway."""
import pytest

from oncall.paging.gateway import TwilioGateway
from tests.paging.fake_twilio import FakeTwilio, require_spec

OUR_NUMBER = "+15005550006"  # TWILIO_FROM_NUMBER in these tests


@pytest.fixture(scope="session")
def twilio_server():
    """One server for the whole run: loading Twilio's 1.8 MB API description once is enough."""
    require_spec()
    with FakeTwilio() as server:
        yield server


@pytest.fixture()
def fake_twilio(twilio_server):
    twilio_server.reset()
    yield twilio_server
    twilio_server.reset()


@pytest.fixture()
def twilio_config(app, fake_twilio, monkeypatch) -> dict:
    """Real Twilio settings on the app, pointed at the fake; monkeypatch restores the shared app's config."""
    values = {"TWILIO_ACCOUNT_SID": fake_twilio.account_sid, "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
              "TWILIO_FROM_NUMBER": OUR_NUMBER, "TWILIO_BASE_URL": fake_twilio.base_url}
    for key, value in values.items():
        monkeypatch.setitem(app.config, key, value)
    return values


@pytest.fixture()
def twilio_gateway(twilio_config):
    gateway = TwilioGateway.from_config(twilio_config)
    yield gateway
    gateway.close()
