"""Which notifier pages go through: Twilio when its credentials are configured, the console otherwise.

ONCALL_NOTIFIER may force one: "console", "twilio", or "file:<path>" (JSON lines, for dry runs and tests)."""
import logging
from collections.abc import Mapping

from oncall.paging.console import ConsoleNotifier, FileNotifier
from oncall.paging.notifier import Notifier

log = logging.getLogger(__name__)


def notifier_from_config(config: Mapping) -> Notifier:
    choice = str(config.get("NOTIFIER") or "").strip()
    if choice.startswith("file:"):
        return FileNotifier(choice.removeprefix("file:"))
    if choice == "console":
        return ConsoleNotifier()
    if choice not in ("", "twilio"):
        raise ValueError(f"ONCALL_NOTIFIER must be console, twilio or file:<path>, not {choice!r}")
    # Imported here: the gateway pulls in the Twilio SDK, which the console setup does not need.
    from oncall.paging.gateway import TwilioGateway

    gateway = TwilioGateway.from_config(config)
    if gateway is not None:
        return gateway
    if choice == "twilio":
        raise ValueError("ONCALL_NOTIFIER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER")
    log.info("no Twilio credentials configured: pages go to the console")
    return ConsoleNotifier()
