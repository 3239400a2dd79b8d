"""A calendar feed: whose it is, what it shows (a rotation, a team or a user) and the hash of its secret."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from oncall.clock import utcnow
from oncall.db import Base

SCOPES = ("rotation", "team", "user")


class CalendarFeed(Base):
    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(16))  # one of SCOPES
    # The rotation, team or user shown; no foreign key, as it points at one of three tables.
    scope_id: Mapped[int] = mapped_column(Integer)
    # Only a SHA-256 of the secret is kept: the URL is shown once, at creation.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # To the minute (feeds/subscriptions.py), so that polls do not each write.
    last_fetched_at: Mapped[datetime | None]

    # The secret itself exists only on the object create_feed returns, never in the database.
    secret = None
