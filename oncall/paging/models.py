"""The notification outbox: one row per message to send. Most are pages, written with the escalation step that
causes them; a row without an incident is a message to a person (a handoff reminder) whose text is `body`,
sent through the same claim, SMS window, STOP check and retries."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oncall.clock import utcnow
from oncall.db import Base

SMS, VOICE = "sms", "voice"
CHANNELS = (SMS, VOICE)
VERIFY_PHONE, TEST_PAGE = "verify_phone", "test_page"  # Notification.purpose

# Outbox states. `sending` rows carry a lease in next_attempt_at: a worker killed mid-send leaves them
# there, and once the lease runs out any worker takes them again (a page may go twice, never zero times).
PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The engine may be asked twice (a retried transaction, a manual escalate racing a tick): this is
        # what keeps a step from paging the same person on the same channel twice.
        UniqueConstraint("incident_id", "step", "round", "user_id", "channel"),
        Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_notifications_user_id_incident_id", "user_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    # The provider's delivery status (Twilio MessageStatus / CallStatus), None until sent.
    status: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    to: Mapped[str | None] = mapped_column(String(20))  # the phone actually used
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)  # sent folded into a digest SMS
    last_error: Mapped[str | None] = mapped_column(Text)
    # The text of a message that is not an incident page (None for pages, whose text comes from the incident).
    body: Mapped[str | None] = mapped_column(Text)
    # What a message is for (None: a page or a handoff reminder). A phone verification code is the only
    # message that may go to a number not verified yet, and only to the number it verifies.
    purpose: Mapped[str | None] = mapped_column(String(16))
    # A page on the other channel created because this one failed; a fallback never falls back again.
    fallback_of_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    fell_back: Mapped[bool] = mapped_column(Boolean, default=False)


class SmsWindow(Base):
    """When each person last got an SMS from us: at most one per SMS_WINDOW, the rest wait and are folded.

    A row per user, locked while a worker decides, so two workers cannot both send inside one window."""

    __tablename__ = "sms_windows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_sent_at: Mapped[datetime | None]
