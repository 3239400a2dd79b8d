"""Handoffs (one per shift change of a rotation), team watch items, and the reminders already sent."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oncall.clock import utcnow
from oncall.db import Base
from oncall.people.models import User

DRAFT, SUBMITTED, ACKNOWLEDGED = "draft", "submitted", "acknowledged"
STATES = (DRAFT, SUBMITTED, ACKNOWLEDGED)


class Handoff(Base):
    """The note for one shift change. A draft row exists only once someone saved one; the sections are
    frozen when it is submitted, so the record shows what the incoming on-call was told."""

    __tablename__ = "handoffs"
    __table_args__ = (UniqueConstraint("rotation_id", "shift_change_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    shift_change_at: Mapped[datetime]
    outgoing_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    incoming_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=DRAFT)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Snapshot of the automatic sections at submission (plain JSON, see handoffs/draft.py).
    sections: Mapped[dict | None] = mapped_column(JSON)
    # Start of the "recently resolved" / "closed since" window this handoff covered.
    since_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None]
    # When the outgoing on-call's acknowledged incidents passed to the incoming one: at the acknowledgement, or
    # at the shift change when it was acknowledged before it (the pager changes hands then, not earlier).
    incidents_passed_at: Mapped[datetime | None]

    outgoing_user: Mapped[User | None] = relationship(foreign_keys=[outgoing_user_id])
    incoming_user: Mapped[User | None] = relationship(foreign_keys=[incoming_user_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])


class WatchItem(Base):
    """Something the team keeps an eye on; carried into every handoff until someone closes it."""

    __tablename__ = "watch_items"
    __table_args__ = (Index("ix_watch_items_team_closed", "team_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[date | None]
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The handoff whose form added it, if any.
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]

    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class HandoffReminder(Base):
    """One reminder SMS (or re-page) per shift change and kind; the unique key makes each go out once even
    with several workers. The SMS itself is a row of the paging outbox (`notification_id`), which sends it
    with everything else for that person."""

    __tablename__ = "handoff_reminders"
    __table_args__ = (UniqueConstraint("rotation_id", "shift_change_at", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    shift_change_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str | None] = mapped_column(Text)
    # queued (in the outbox), skipped (no phone, opted out: last_error says which), done (a re-page)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
