"""Rotations (as versions in force from an instant), overrides and time off."""
from datetime import date, datetime, time

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oncall.clock import utcnow
from oncall.db import Base
from oncall.schedules import timeline


class Rotation(Base):
    __tablename__ = "rotations"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped on every change to the rotation, its overrides or its participants' time off, so
    # caches (calendar ETags) can tell a schedule changed without recomputing it.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # +1 with every such change: with updated_at (which tells a reused SQLite id apart) it forms the cache
    # stamp, and unlike a timestamp it moves even when two changes carry the same clock reading.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An archived rotation pages nobody and leaves the pages and lists; its shifts, overrides and handoffs stay.
    archived_at: Mapped[datetime | None]

    versions: Mapped[list["RotationVersion"]] = relationship(
        back_populates="rotation", cascade="all, delete-orphan", order_by="RotationVersion.id"
    )

    @property
    def current(self) -> "RotationVersion":
        """The latest configuration (the one the API shows at top level)."""
        return self.versions[-1]

    def to_plain(self) -> list[timeline.RotationVersion]:
        return [v.to_plain() for v in self.versions]

    @property
    def participant_ids_ever(self) -> set[int]:
        return {p.user_id for v in self.versions for p in v.participants}


class RotationVersion(Base):
    """One configuration of a rotation. Changes add a version from an instant, so past shifts stay."""

    __tablename__ = "rotation_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"), index=True)
    effective_at: Mapped[datetime | None]  # None: the first version, in force from its first handoff
    time_zone: Mapped[str] = mapped_column(String(64))
    handoff_time: Mapped[time]
    shift_unit: Mapped[str] = mapped_column(String(8))
    shift_count: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rotation: Mapped[Rotation] = relationship(back_populates="versions")
    participants: Mapped[list["RotationParticipant"]] = relationship(
        cascade="all, delete-orphan", order_by="RotationParticipant.position"
    )

    @property
    def participant_ids(self) -> list[int]:
        return [p.user_id for p in self.participants]

    @property
    def shift_length(self) -> dict:
        return {"unit": self.shift_unit, "count": self.shift_count}

    def to_plain(self) -> timeline.RotationVersion:
        return timeline.RotationVersion(
            effective_at=self.effective_at,
            time_zone=self.time_zone,
            handoff_time=self.handoff_time,
            shift_length=timeline.ShiftLength(self.shift_unit, self.shift_count),
            start_date=self.start_date,
            participant_ids=tuple(self.participant_ids),
        )


class RotationParticipant(Base):
    __tablename__ = "rotation_participants"

    version_id: Mapped[int] = mapped_column(ForeignKey("rotation_versions.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class Override(Base):
    __tablename__ = "overrides"
    __table_args__ = (Index("ix_overrides_rotation_window", "rotation_id", "start_at", "end_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def to_plain(self) -> timeline.Override:
        return timeline.Override(user_id=self.user_id, start_at=self.start_at, end_at=self.end_at, id=self.id)


class TimeOff(Base):
    __tablename__ = "time_off"
    __table_args__ = (Index("ix_time_off_user_window", "user_id", "start_at", "end_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def to_plain(self) -> timeline.TimeOff:
        return timeline.TimeOff(user_id=self.user_id, start_at=self.start_at, end_at=self.end_at, id=self.id)


class SwapRequest(Base):
    """Someone on call asks a teammate (or anyone in the team) to take [start_at, end_at) of a rotation.
    Accepting creates the override; an open request expires when its time starts (`state_at`)."""

    __tablename__ = "swap_requests"
    __table_args__ = (Index("ix_swap_requests_team_state", "team_id", "state"),
                      Index("ix_swap_requests_to_user_state", "to_user_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # None: the team
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | accepted | declined
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    override_id: Mapped[int | None] = mapped_column(ForeignKey("overrides.id", ondelete="SET NULL"))

    def state_at(self, now: datetime) -> str:
        """The state as people see it: an open request whose time has started has expired."""
        return "expired" if self.state == "open" and self.start_at <= now else self.state


class CoverageCheck(Base):
    """When the coverage watch last looked at a rotation, and at which revision (schedules/coverage_watch.py)."""

    __tablename__ = "coverage_checks"

    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    checked_at: Mapped[datetime]


class CoverageWarning(Base):
    """A gap the team's admins were texted about: each is sent once (unique per rotation and start)."""

    __tablename__ = "coverage_warnings"
    __table_args__ = (UniqueConstraint("rotation_id", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(ForeignKey("rotations.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime] = mapped_column(index=True)
    warned_at: Mapped[datetime]
