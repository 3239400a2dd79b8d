"""Imports every domain's models so Base.metadata knows all tables (Alembic, tests)."""
from oncall.people.models import ApiToken, Team, TeamMember, User  # noqa: F401
from oncall.schedules.models import (  # noqa: F401
    Override, Rotation, RotationParticipant, RotationVersion, SwapRequest, TimeOff,
)
from oncall.feeds.models import CalendarFeed, FeedEventStamp  # noqa: F401
from oncall.escalation.models import EscalationPolicy  # noqa: F401
from oncall.incidents.models import (  # noqa: F401
    Incident, IncidentRoles, Integration, StatusUpdate, TimelineEvent, UpdateReminder,
)
from oncall.maintenance.models import MaintenanceWindow  # noqa: F401
from oncall.monitors.models import HeartbeatMonitor  # noqa: F401
from oncall.postmortems.models import ActionItem, Postmortem  # noqa: F401
from oncall.paging.models import Notification, SmsWindow  # noqa: F401
from oncall.handoffs.models import Handoff, HandoffReminder, WatchItem  # noqa: F401
from oncall.web.models import LoginFailure  # noqa: F401
from oncall.operations.models import WorkerHeartbeat  # noqa: F401
