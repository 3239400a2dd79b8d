"""What the outbox needs from whoever delivers pages: Twilio in production, the console otherwise.

Both raise oncall.errors.TransientDeliveryFailure (retry later) or DeliveryFailed (give up on this
channel and fall back to the other)."""
from typing import Protocol


class Notifier(Protocol):
    name: str  # "twilio" | "console" | "fake"; recorded on the timeline with each page

    def send_sms(self, *, to: str, body: str, status_callback: str | None = None) -> str:
        """Send one SMS; returns the provider's id (Twilio's Message SID)."""

    def place_call(self, *, to: str, twiml: str, status_callback: str | None = None) -> str:
        """Start one voice call reading `twiml`; returns the provider's id (Twilio's Call SID)."""
