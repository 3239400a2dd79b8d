"""A heartbeat monitor: a secret ping URL; no ping for `interval_minutes` opens an incident, the next ping resolves it."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from oncall.clock import utcnow
from oncall.db import Base


class HeartbeatMonitor(Base):
    __tablename__ = "heartbeat_monitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    interval_minutes: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(4))
    # Only a SHA-256 of the ping URL's secret is kept: the URL is shown once, at creation.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_ping_at: Mapped[datetime | None]
    # Silent since, by the database's clock: when the interval runs out from here, an incident opens.
    due_at: Mapped[datetime] = mapped_column(index=True)
    # The incident its silence opened, while it is open.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))

    secret = None  # set on the object create_monitor returns, never stored
