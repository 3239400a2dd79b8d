"""Incidents with their escalation state, their timeline, and teams' integration tokens."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oncall.clock import utcnow
from oncall.db import Base

TRIGGERED, ACKNOWLEDGED, RESOLVED = "triggered", "acknowledged", "resolved"
STATUSES = (TRIGGERED, ACKNOWLEDGED, RESOLVED)
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
VIAS = ("api", "sms", "voice", "web", "alertmanager", "handoff", "heartbeat")

_OPEN_WITH_KEY = "dedup_key IS NOT NULL AND status != 'resolved'"


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("code"),
        # One open incident per team and dedup key: a second trigger joins it, even when two race.
        Index("uq_incidents_open_dedup_key", "team_id", "dedup_key", unique=True,
              sqlite_where=text(_OPEN_WITH_KEY), postgresql_where=text(_OPEN_WITH_KEY)),
        Index("ix_incidents_team_id_dedup_key", "team_id", "dedup_key"),
        Index("ix_incidents_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short number people type in SMS replies ("4521A"); random so a typo rarely hits a neighbour.
    code: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    dashboard_url: Mapped[str | None] = mapped_column(String(2000))
    runbook_url: Mapped[str | None] = mapped_column(String(2000))
    chat_channel: Mapped[str | None] = mapped_column(String(200))
    dedup_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=TRIGGERED)
    source: Mapped[str] = mapped_column(String(16), default="api")
    integration_id: Mapped[int | None] = mapped_column(ForeignKey("integrations.id", ondelete="SET NULL"))
    # What Alertmanager said about the alert (labels, startsAt, generatorURL), for people and for dedup.
    alert: Mapped[dict | None] = mapped_column(JSON)
    trigger_count: Mapped[int] = mapped_column(Integer, default=1)
    last_triggered_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_via: Mapped[str | None] = mapped_column(String(16))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_via: Mapped[str | None] = mapped_column(String(16))

    # Escalation state. The policy in force at creation is copied here (escalation.policy.Snapshot as
    # JSON), so editing a team's policy never changes an escalation already running.
    policy: Mapped[dict] = mapped_column(JSON)
    next_step: Mapped[int] = mapped_column(Integer, default=0)  # index in policy steps of the next firing
    round: Mapped[int] = mapped_column(Integer, default=0)  # pass over the steps, 0 = first
    # When the engine must look at this incident next; NULL once it needs nothing (acked, resolved, done).
    next_step_at: Mapped[datetime | None] = mapped_column(index=True)
    exhausted_at: Mapped[datetime | None]
    # Opened by a machine during a maintenance window (maintenance/service.py): kept and shown, paging nobody
    # while `held`; its escalation starts when the window ends if it is still open.
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    suppressed_at: Mapped[datetime | None]
    maintenance_window_id: Mapped[int | None] = mapped_column(
        ForeignKey("maintenance_windows.id", ondelete="SET NULL"), index=True)

    events: Mapped[list["TimelineEvent"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", passive_deletes=True,
        order_by="TimelineEvent.id",
    )

    @property
    def links(self) -> dict:
        return {"dashboard": self.dashboard_url, "runbook": self.runbook_url, "chat": self.chat_channel}

    @property
    def is_open(self) -> bool:
        return self.status != RESOLVED


class TimelineEvent(Base):
    """One thing that happened to an incident. `detail` is kind-specific JSON (who was paged, why, ...)."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_incident_id_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    via: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict | None] = mapped_column(JSON)

    incident: Mapped[Incident] = relationship(back_populates="events")


ROLES = ("commander", "tech_lead", "comms_lead")


class IncidentRoles(Base):
    """Who holds the framework's roles in an incident (one person may hold several); no row until someone is
    named. A table of its own rather than columns on incidents, which SQLite could only add references to by
    copying the table."""

    __tablename__ = "incident_roles"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    commander_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    tech_lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comms_lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def as_dict(self) -> dict:
        return {role: getattr(self, f"{role}_id") for role in ROLES}


class StatusUpdate(Base):
    """A status update for the incident's stakeholders (investigating, identified, monitoring, resolved)."""

    __tablename__ = "status_updates"
    __table_args__ = (Index("ix_status_updates_incident_id_created_at", "incident_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    via: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UpdateReminder(Base):
    """One row per missed cadence slot of an incident: the unique slot makes two workers remind once."""

    __tablename__ = "update_reminders"
    __table_args__ = (UniqueConstraint("incident_id", "slot_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    slot_at: Mapped[datetime]  # when the update was due
    reminded_at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Integration(Base):
    """A team's token for a machine that raises incidents (Alertmanager). Only the token's hash is kept."""

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None]
