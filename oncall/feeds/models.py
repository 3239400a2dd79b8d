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


class FeedEventStamp(Base):
    """What a feed last served for one event (by UID): a fingerprint of its content, its SEQUENCE and LAST-MODIFIED.

    Kept so that a change raises the SEQUENCE of exactly the events it changed, whoever built the feed: an
    override cuts one shift and leaves every other event's SEQUENCE and LAST-MODIFIED as they were."""

    __tablename__ = "feed_event_stamps"

    # SHA-256 of the UID, cut to 128 bits: a UID holds the public host name and can be long.
    uid_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32))
    sequence: Mapped[int] = mapped_column(Integer)
    modified_at: Mapped[datetime]
    # The event's end: stamps of events no window can reach any more are deleted (stamps.prune).
    end_at: Mapped[datetime] = mapped_column(index=True)
