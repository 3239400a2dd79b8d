"""Users, teams, membership and API tokens."""
from datetime import datetime, time

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oncall.clock import utcnow
from oncall.db import Base

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    # Only a verified number is paged (people/phones.py says how a number becomes verified).
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Set when the phone texts STOP: carriers then refuse our SMS, so pages go by voice instead.
    sms_opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on sign-out: web sessions are signed cookies, so this is what makes a copied cookie worthless.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list["TeamMember"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def pageable_phone(self) -> str | None:
        """The number pages, reminders and test pages go to: the phone, once verified."""
        return self.phone if self.phone and self.phone_verified else None


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    # Business hours drive when SEV4 pages may go out: local wall clock on the listed weekdays.
    business_days: Mapped[str] = mapped_column(String(40), default="mon,tue,wed,thu,fri")
    business_start: Mapped[time] = mapped_column(default=time(9, 0))
    business_end: Mapped[time] = mapped_column(default=time(17, 0))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["TeamMember"]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="TeamMember.user_id"
    )

    @property
    def member_ids(self) -> list[int]:
        return [m.user_id for m in self.members]

    @property
    def business_hours(self) -> dict:
        return {
            "days": self.business_days.split(",") if self.business_days else [],
            "start": self.business_start,
            "end": self.business_end,
        }


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")  # member | admin

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # Only a SHA-256 of the token is kept: tokens are 256-bit random, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]  # None: until revoked
    # To the minute (people/tokens.py), so that API calls do not each write.
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class PhoneVerification(Base):
    """A code sent by SMS to prove a person receives messages at `phone` (people/phones.py)."""

    __tablename__ = "phone_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    # SHA-256 of user id, phone and code: the code itself is only in the SMS.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None]
