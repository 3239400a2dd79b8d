"""Imports every domain's models so Base.metadata knows all tables (Alembic, tests)."""
from oncall.people.models import ApiToken, Team, TeamMember, User  # noqa: F401
from oncall.schedules.models import Override, Rotation, RotationParticipant, RotationVersion, TimeOff  # noqa: F401
