"""Escalation policies as stored: one row per team and severity once a team admin sets one."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oncall.clock import utcnow
from oncall.db import Base


class EscalationPolicy(Base):
    """A team's policy for one severity. Without a row, policy.default_policy() applies (computed at read)."""

    __tablename__ = "escalation_policies"
    __table_args__ = (UniqueConstraint("team_id", "severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(4))
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    # [{"delay_minutes": 5, "targets": [{"type": "rotation", "id": 2}], "channels": ["sms", "voice"]}, ...]:
    # steps are always read and written whole, so one JSON document beats a child table.
    steps: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
