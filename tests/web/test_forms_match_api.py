"""Every web form refuses what the API refuses: for each form, inputs the API answers with a 4xx are
answered by the web with a 4xx page showing a message, and neither changes anything.

Each case is sent both ways, so the table cannot drift from the API: a case the API accepted would fail
here. test_every_form_is_covered makes a new form join the table."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from oncall.clock import utcnow
from oncall.escalation.models import EscalationPolicy
from oncall.escalation.policy import MAX_DELAY_MINUTES, MAX_REPEAT
from oncall.handoffs.models import Handoff, WatchItem
from oncall.incidents import service as incident_service
from oncall.incidents.models import Incident, Integration, TimelineEvent
from oncall.paging.models import Notification
from oncall.people.models import ApiToken, Team, TeamMember, User
from oncall.people.tokens import create_api_token
from oncall.schedules.models import Override, Rotation, RotationParticipant, RotationVersion, SwapRequest, TimeOff
from tests.conftest import ApiClient
from tests.handoffs.test_handoffs_api import expected_change

# Web POST endpoints that take no input but their URL (and the CSRF token), and the sign-in form, which has no
# API counterpart (its limits are the sign-in throttle's).
NO_INPUT = {
    "web.sign_out", "web.delete_override", "web.create_calendar_feed", "web.create_other_calendar_feed",
    "web.delete_time_off", "web.acknowledge_incident", "web.resolve_incident", "web.escalate_incident",
    "web.answer_swap",
    "handoffs_web.acknowledge",
    "handoffs_web.close_watch_item", "web.send_phone_code", "web.test_page", "web.revoke_api_token",
    "web.revoke_calendar_link", "web.remove_member", "web.revoke_integration", "web.test_integration",
    "web.archive_rotation", "web.close_action_item", "web.end_maintenance_window",
}
# Passwords are the web's own (the API authenticates by token): tests/web/test_passwords.py covers these.
NOT_AN_API_FORM = {"web.sign_in", "web.change_password", "web.person_sign_in", "web.sign_in_link"}
# Forms whose valid input cannot be written down here (a code only the SMS knows): their refusals are
# checked both ways in the named module.
TESTED_ELSEWHERE = {"web.verify_phone": "tests/web/test_profile.py", "web.member_role": "tests/web/test_team_pages.py",
                    # Rows of action items have no one-to-one API shape to write down here.
                    "web.save_postmortem": "tests/web/test_lifecycle_pages.py",
                    # Local date-times in the reader's zone against the API's instants, on a controlled clock.
                    "web.create_maintenance_window": "tests/web/test_maintenance_pages.py"}


def snapshot(session) -> tuple:
    """What any of these forms could change."""
    session.expire_all()
    counts = tuple(session.scalar(select(func.count()).select_from(model)) for model in (
        Override, TimeOff, RotationVersion, RotationParticipant, WatchItem, Handoff, TeamMember, User, TimelineEvent,
        Notification, SwapRequest, Incident, ApiToken, Integration))
    rotations = tuple(session.execute(select(Rotation.id, Rotation.name, Rotation.revision).order_by(Rotation.id)))
    incidents = tuple(session.execute(select(Incident.id, Incident.severity, Incident.status).order_by(Incident.id)))
    users = tuple(session.execute(select(User.id, User.name, User.time_zone, User.phone, User.phone_verified)
                                  .order_by(User.id)))
    teams = tuple(session.execute(select(Team.id, Team.name, Team.slug, Team.time_zone, Team.business_days,
                                         Team.business_start, Team.business_end).order_by(Team.id)))
    members = tuple(session.execute(select(TeamMember.team_id, TeamMember.user_id, TeamMember.role)
                                    .order_by(TeamMember.team_id, TeamMember.user_id)))
    policies = tuple((p.team_id, p.severity, p.repeat, repr(p.steps))
                     for p in session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.id)))
    return counts, rotations, incidents, users, teams, members, policies


def local(at: datetime, zone: str = "UTC") -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def rfc3339(wall: str, zone: str = "UTC") -> str:
    """The instant the API is sent for a wall-clock value typed into the form (any year, even 1)."""
    return datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone)).isoformat()


@dataclass
class Form:
    """One web form and the API request it stands for."""

    endpoint: str
    actor: str  # scenario attribute: who fills the form
    url: Callable  # scenario -> web path
    api: Callable  # scenario -> (method, API path)
    web_base: Callable  # scenario -> a valid form
    api_base: Callable  # scenario -> the valid API body it stands for
    # Before the web accepts its valid form: values that make it change something (e.g. a new name).
    changes: dict = field(default_factory=dict)
    accepted: int = 303  # the web's status for the valid form (201: a page showing a secret once)


def _soon(s) -> datetime:
    return (s.now + timedelta(days=2)).replace(second=0, microsecond=0)


FORMS = {
    "override": Form(
        "web.add_override", "bob",
        lambda s: f"/rotations/{s.rotation_id}/overrides",
        lambda s: ("post", f"/api/v1/rotations/{s.rotation_id}/overrides"),
        lambda s: {"user_id": str(s.carol.id), "start": local(_soon(s)), "end": local(_soon(s) + timedelta(hours=4)),
                   "reason": "swap"},
        lambda s: {"user_id": s.carol.id, "start": _soon(s).isoformat(),
                   "end": (_soon(s) + timedelta(hours=4)).isoformat(), "reason": "swap"},
    ),
    "time_off": Form(
        "web.time_off", "carol",
        lambda s: "/time-off",
        lambda s: ("post", f"/api/v1/users/{s.carol.id}/time-off"),
        lambda s: {"start": local(_soon(s)), "end": local(_soon(s) + timedelta(days=3)), "reason": "PTO"},
        lambda s: {"start": _soon(s).isoformat(), "end": (_soon(s) + timedelta(days=3)).isoformat(), "reason": "PTO"},
    ),
    "rotation_settings": Form(
        "web.rotation_settings", "alice",
        lambda s: f"/rotations/{s.rotation_id}/settings",
        lambda s: ("patch", f"/api/v1/rotations/{s.rotation_id}"),
        lambda s: {"name": "Web primary", "handoff_time": expected_change(s).strftime("%H:%M"),
                   "participants": "\n".join(u.email for u in (s.alice, s.bob, s.carol)), "effective_at": ""},
        lambda s: {"name": "Web primary", "handoff_time": expected_change(s).strftime("%H:%M"),
                   "participant_ids": [s.alice.id, s.bob.id, s.carol.id]},
        changes={"name": "Web primary (renamed)"},
    ),
    "handoff": Form(
        "handoffs_web.save", "bob",
        lambda s: f"/rotations/{s.rotation_id}/handoff",
        lambda s: ("post", f"/api/v1/rotations/{s.rotation_id}/handoffs"),
        lambda s: {"shift_change_at": expected_change(s).isoformat(), "notes": "all quiet", "action": "save",
                   "new_text": ["", "", ""], "new_due": ["", "", ""]},
        lambda s: {"shift_change_at": expected_change(s).isoformat(), "notes": "all quiet", "submit": False},
    ),
    "profile": Form(
        "web.update_profile", "carol",
        lambda s: "/profile",
        lambda s: ("patch", f"/api/v1/users/{s.carol.id}"),
        lambda s: {"name": s.carol.name, "time_zone": "UTC", "phone": s.carol.phone},
        lambda s: {"name": s.carol.name, "time_zone": "UTC", "phone": s.carol.phone},
        changes={"name": "Carol Renamed"},
    ),
    "api_token": Form(
        "web.create_api_token", "bob",
        lambda s: "/tokens",
        lambda s: ("post", "/api/v1/tokens"),
        lambda s: {"name": "ci", "expires_at": local(s.now + timedelta(days=30))},
        lambda s: {"name": "ci", "expires_at": (s.now + timedelta(days=30)).replace(second=0, microsecond=0).isoformat()},
        accepted=201,
    ),
    "create_team": Form(
        "web.create_team", "root",
        lambda s: "/teams",
        lambda s: ("post", "/api/v1/teams"),
        lambda s: {"name": "Ops", "slug": "ops", "time_zone": "Europe/Berlin"},
        lambda s: {"name": "Ops", "slug": "ops", "time_zone": "Europe/Berlin"},
    ),
    "team_settings": Form(
        "web.team_settings", "alice",
        lambda s: f"/teams/{s.team_id}/settings",
        lambda s: ("patch", f"/api/v1/teams/{s.team_id}"),
        lambda s: {"name": "Web", "time_zone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri"],
                   "start": "09:00", "end": "17:00"},
        lambda s: {"name": "Web", "time_zone": "UTC",
                   "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}},
        changes={"name": "Web renamed"},
    ),
    "add_member": Form(
        "web.add_member", "alice",
        lambda s: f"/teams/{s.team_id}/members",
        lambda s: ("put", f"/api/v1/teams/{s.team_id}/members"),
        lambda s: {"email": s.outsider.email},
        lambda s: {"user_ids": [s.alice.id, s.bob.id, s.carol.id, s.outsider.id]},
    ),
    "invite": Form(
        "web.invite", "root",
        lambda s: f"/teams/{s.team_id}/invite",
        lambda s: ("post", "/api/v1/users"),
        lambda s: {"name": "Dan", "email": "dan@example.com", "phone": "+14155550199", "time_zone": "UTC"},
        lambda s: {"name": "Dan", "email": "dan@example.com", "phone": "+14155550199", "time_zone": "UTC"},
        accepted=201,
    ),
    "new_rotation": Form(
        "web.new_rotation", "alice",
        lambda s: f"/teams/{s.team_id}/rotations/new",
        lambda s: ("post", "/api/v1/rotations"),
        lambda s: {"name": "Secondary", "time_zone": "UTC", "handoff_time": "10:00", "shift_count": "1",
                   "shift_unit": "weeks", "start_date": "2030-01-07", f"position_{s.bob.id}": "1",
                   f"position_{s.carol.id}": "2"},
        lambda s: {"team_id": s.team_id, "name": "Secondary", "time_zone": "UTC", "handoff_time": "10:00",
                   "shift_length": {"unit": "weeks", "count": 1}, "start_date": "2030-01-07",
                   "participant_ids": [s.bob.id, s.carol.id]},
    ),
    "escalation_policy": Form(
        "web.edit_escalation_policy", "alice",
        lambda s: f"/teams/{s.team_id}/escalation/SEV1",
        lambda s: ("put", f"/api/v1/teams/{s.team_id}/escalation-policies/SEV1"),
        lambda s: {"step-0-delay": "0", "step-0-target": [f"rotation:{s.rotation_id}"],
                   "step-0-channel": ["sms", "voice"], "step-1-delay": "10", "step-1-target": ["team"],
                   "step-1-channel": ["sms"], "repeat": "1"},
        lambda s: {"repeat": 1, "steps": [
            {"delay_minutes": 0, "targets": [{"type": "rotation", "id": s.rotation_id}], "channels": ["sms", "voice"]},
            {"delay_minutes": 10, "targets": [{"type": "team"}], "channels": ["sms"]}]},
    ),
    "integration": Form(
        "web.create_integration", "alice",
        lambda s: f"/teams/{s.team_id}/integrations",
        lambda s: ("post", f"/api/v1/teams/{s.team_id}/integrations"),
        lambda s: {"type": "alertmanager", "name": "prod"},
        lambda s: {"type": "alertmanager", "name": "prod"},
        accepted=201,
    ),
    "member_time_off": Form(
        "web.member_time_off", "alice",
        lambda s: f"/teams/{s.team_id}/time-off",
        lambda s: ("post", f"/api/v1/users/{s.bob.id}/time-off"),
        lambda s: {"user_id": str(s.bob.id), "start": local(_soon(s)), "end": local(_soon(s) + timedelta(days=3)),
                   "reason": "PTO"},
        lambda s: {"start": _soon(s).isoformat(), "end": (_soon(s) + timedelta(days=3)).isoformat(), "reason": "PTO"},
    ),
    "watch_item": Form(
        "handoffs_web.add_watch_item", "carol",
        lambda s: f"/teams/{s.team_id}/watch-items",
        lambda s: ("post", f"/api/v1/teams/{s.team_id}/watch-items"),
        lambda s: {"text": "Deploy on Friday", "due_on": "2030-01-04"},
        lambda s: {"text": "Deploy on Friday", "due_on": "2030-01-04"},
    ),
    "take_shift": Form(
        "web.take_shift", "bob",
        lambda s: f"/rotations/{s.rotation_id}/take",
        lambda s: ("post", f"/api/v1/rotations/{s.rotation_id}/overrides"),
        lambda s: {"start": _soon(s).isoformat(), "end": (_soon(s) + timedelta(hours=4)).isoformat(), "reason": "mine"},
        lambda s: {"user_id": s.bob.id, "start": _soon(s).isoformat(),
                   "end": (_soon(s) + timedelta(hours=4)).isoformat(), "reason": "mine"},
    ),
    "ask_swap": Form(
        "web.ask_swap", "alice",  # a team admin may ask for any time
        lambda s: f"/rotations/{s.rotation_id}/swap-requests",
        lambda s: ("post", f"/api/v1/rotations/{s.rotation_id}/swap-requests"),
        lambda s: {"start": _soon(s).isoformat(), "end": (_soon(s) + timedelta(hours=4)).isoformat(),
                   "to_user_id": str(s.carol.id), "reason": "wedding"},
        lambda s: {"start": _soon(s).isoformat(), "end": (_soon(s) + timedelta(hours=4)).isoformat(),
                   "to_user_id": s.carol.id, "reason": "wedding"},
    ),
    "declare_incident": Form(
        "web.declare_incident", "outsider",  # anyone may ask a team for help
        lambda s: "/incidents/new",
        lambda s: ("post", "/api/v1/incidents"),
        lambda s: {"team_id": str(s.team_id), "severity": "SEV2", "title": "Checkout down", "description": "",
                   "dashboard": "https://grafana.example.com/d/1", "runbook": "", "chat": "#pay"},
        lambda s: {"team_id": s.team_id, "severity": "SEV2", "title": "Checkout down",
                   "links": {"dashboard": "https://grafana.example.com/d/1", "chat": "#pay"}},
    ),
    "incident_note": Form(
        "web.add_incident_note", "carol",
        lambda s: f"/incidents/{s.incident_id}/notes",
        lambda s: ("post", f"/api/v1/incidents/{s.incident_id}/notes"),
        lambda s: {"text": "Rolled back"},
        lambda s: {"text": "Rolled back"},
    ),
    "incident_reassign": Form(
        "web.reassign_incident", "bob",
        lambda s: f"/incidents/{s.incident_id}/reassign",
        lambda s: ("post", f"/api/v1/incidents/{s.incident_id}/reassign"),
        lambda s: {"user_id": str(s.carol.id)},
        lambda s: {"user_id": s.carol.id},
    ),
    "incident_roles": Form(
        "web.set_incident_roles", "bob",
        lambda s: f"/incidents/{s.incident_id}/roles",
        lambda s: ("put", f"/api/v1/incidents/{s.incident_id}/roles"),
        lambda s: {"commander": str(s.carol.id), "tech_lead": str(s.bob.id), "comms_lead": ""},
        lambda s: {"commander": s.carol.id, "tech_lead": s.bob.id, "comms_lead": None},
    ),
    "incident_update": Form(
        "web.add_incident_update", "carol",
        lambda s: f"/incidents/{s.incident_id}/updates",
        lambda s: ("post", f"/api/v1/incidents/{s.incident_id}/updates"),
        lambda s: {"status": "identified", "message": "A bad deploy"},
        lambda s: {"status": "identified", "message": "A bad deploy"},
    ),
    "incident_severity": Form(
        "web.change_incident_severity", "bob",
        lambda s: f"/incidents/{s.incident_id}/severity",
        lambda s: ("patch", f"/api/v1/incidents/{s.incident_id}"),
        lambda s: {"severity": "SEV1"},
        lambda s: {"severity": "SEV1"},
    ),
}


@pytest.fixture(autouse=True)
def _an_incident(scenario, session):
    """The incident forms act on (SEV3, so SEV1 is a change)."""
    incident, _ = incident_service.create_incident(session, team_id=scenario.team_id, severity="SEV3",
                                                   title="Search slow", now=utcnow())
    session.commit()
    scenario.incident_id = incident.id


@dataclass
class Case:
    form: str
    name: str
    web: Callable  # (scenario, valid form) -> the form to send
    api: Callable  # (scenario, valid body) -> the body to send
    zone: str = "UTC"  # the actor's time zone for this case
    setup: Callable | None = None  # (session, scenario): data the case needs, made before the snapshot


def _same(key: str, value) -> tuple[Callable, Callable]:
    return (lambda s, f: f | {key: value}), (lambda s, b: b | {key: value})


def _window(start: str, end: str) -> tuple[Callable, Callable]:
    return (lambda s, f: f | {"start": start, "end": end}), (lambda s, b: b | {"start": rfc3339(start), "end": rfc3339(end)})


def _crowd(session, scenario) -> None:
    scenario.crowd = [User(name=f"Crowd {i}", email=f"crowd{i}@example.com", time_zone="UTC") for i in range(101)]
    session.add_all(scenario.crowd)
    session.commit()


def _cases() -> list[Case]:
    cases = []
    for form in ("override", "time_off", "member_time_off"):
        cases += [
            Case(form, "end before start", *_window("2030-03-02T10:00", "2030-03-02T09:00")),
            Case(form, "longer than 400 days", *_window("2030-01-01T00:00", "2031-02-06T00:00")),
            Case(form, "year 999", *_window("0999-12-31T00:00", "1000-01-02T00:00")),
            Case(form, "past year 9000", *_window("9000-01-01T00:00", "9000-01-02T00:00")),
            Case(form, "year 9999", *_window("9999-12-30T00:00", "9999-12-31T23:59")),
            Case(form, "reason too long", *_same("reason", "x" * 2001)),
            Case(form, "no start", lambda s, f: {k: v for k, v in f.items() if k != "start"},
                 lambda s, b: {k: v for k, v in b.items() if k != "start"}),
            # Wall times whose instant falls before year 1 or after 9999 once the zone is applied.
            Case(form, "year 1 east of UTC", *_window("0001-01-01T00:00", "0001-01-02T00:00"), zone="Pacific/Kiritimati"),
            Case(form, "year 9999 west of UTC", *_window("9999-12-31T20:00", "9999-12-31T23:00"),
                 zone="America/New_York"),
        ]
    cases += [
        Case("override", "unknown person", lambda s, f: f | {"user_id": "999999"}, lambda s, b: b | {"user_id": 999999}),
        Case("override", "id beyond 32 bits", lambda s, f: f | {"user_id": str(2**31)}, lambda s, b: b | {"user_id": 2**31}),
        Case("override", "id not a number", *_same("user_id", "carol")),
        Case("rotation_settings", "blank name", *_same("name", "")),
        Case("rotation_settings", "name too long", *_same("name", "n" * 201)),
        Case("rotation_settings", "handoff time 24:00", *_same("handoff_time", "24:00")),
        Case("rotation_settings", "handoff time 9am", *_same("handoff_time", "9am")),
        Case("rotation_settings", "no participants", lambda s, f: f | {"participants": ""},
             lambda s, b: b | {"participant_ids": []}),
        Case("rotation_settings", "101 participants",
             lambda s, f: f | {"participants": "\n".join(u.email for u in s.crowd)},
             lambda s, b: b | {"participant_ids": [u.id for u in s.crowd]}, setup=_crowd),
        Case("rotation_settings", "a participant twice",
             lambda s, f: f | {"participants": f"{s.alice.email}\n{s.bob.email}\n{s.alice.email}"},
             lambda s, b: b | {"participant_ids": [s.alice.id, s.bob.id, s.alice.id]}),
        Case("rotation_settings", "a change in the past",
             lambda s, f: f | {"handoff_time": "03:17", "effective_at": local(s.now - timedelta(days=2))},
             lambda s, b: b | {"handoff_time": "03:17", "effective_at": (s.now - timedelta(days=2)).isoformat()}),
        Case("rotation_settings", "a change in year 999",
             lambda s, f: f | {"handoff_time": "03:17", "effective_at": "0999-01-01T00:00"},
             lambda s, b: b | {"handoff_time": "03:17", "effective_at": rfc3339("0999-01-01T00:00")}),
        Case("handoff", "notes too long", *_same("notes", "n" * 20001)),
        Case("handoff", "21 new watch items",
             lambda s, f: f | {"new_text": [f"item {i}" for i in range(21)], "new_due": []},
             lambda s, b: b | {"watch_items": [{"text": f"item {i}"} for i in range(21)]}),
        Case("handoff", "a watch item too long",
             lambda s, f: f | {"new_text": ["w" * 501, "", ""]}, lambda s, b: b | {"watch_items": [{"text": "w" * 501}]}),
        Case("handoff", "a due date without text",
             lambda s, f: f | {"new_due": ["2030-01-01", "", ""]},
             lambda s, b: b | {"watch_items": [{"text": "", "due_on": "2030-01-01"}]}),
        Case("handoff", "a due date that is no date",
             lambda s, f: f | {"new_text": ["x", "", ""], "new_due": ["2030-02-30", "", ""]},
             lambda s, b: b | {"watch_items": [{"text": "x", "due_on": "2030-02-30"}]}),
        Case("handoff", "201 watch items to close",
             lambda s, f: f | {"close": [str(i) for i in range(1, 202)]},
             lambda s, b: b | {"close_watch_items": list(range(1, 202))}),
        Case("handoff", "a watch item id that is no id",
             lambda s, f: f | {"close": ["abc"]}, lambda s, b: b | {"close_watch_items": ["abc"]}),
        Case("handoff", "a shift change without offset", *_same("shift_change_at", "2030-01-01T09:00:00")),
        Case("handoff", "a shift change in year 999",
             *_same("shift_change_at", "0999-01-01T09:00:00+00:00")),
        Case("profile", "blank name", *_same("name", "")),
        Case("profile", "name too long", *_same("name", "n" * 201)),
        Case("profile", "unknown time zone", *_same("time_zone", "Mars/Olympus_Mons")),
        Case("profile", "phone not E.164", *_same("phone", "555-0101")),
        Case("profile", "phone with letters", *_same("phone", "+1415CALLME")),
        Case("api_token", "name too long", *_same("name", "n" * 201)),
        Case("api_token", "expires in the past",
             lambda s, f: f | {"expires_at": local(s.now - timedelta(days=1))},
             lambda s, b: b | {"expires_at": (s.now - timedelta(days=1)).isoformat()}),
        Case("api_token", "expires in year 999", lambda s, f: f | {"expires_at": "0999-01-01T00:00"},
             lambda s, b: b | {"expires_at": rfc3339("0999-01-01T00:00")}),
        Case("api_token", "expires past year 9000", lambda s, f: f | {"expires_at": "9001-01-01T00:00"},
             lambda s, b: b | {"expires_at": rfc3339("9001-01-01T00:00")}),
        Case("create_team", "blank name", *_same("name", "")),
        Case("create_team", "slug with spaces", *_same("slug", "Not A Slug")),
        Case("create_team", "slug taken", lambda s, f: f | {"slug": f"web-{s.alice.id}"},
             lambda s, b: b | {"slug": f"web-{s.alice.id}"}),
        Case("create_team", "unknown zone", *_same("time_zone", "Mars/Base")),
        Case("team_settings", "blank name", *_same("name", "")),
        Case("team_settings", "unknown zone", *_same("time_zone", "Europe/Atlantis")),
        Case("team_settings", "ends before it starts", lambda s, f: f | {"end": "08:00"},
             lambda s, b: b | {"business_hours": b["business_hours"] | {"end": "08:00"}}),
        Case("team_settings", "a day that is no weekday", lambda s, f: f | {"days": ["mon", "funday"]},
             lambda s, b: b | {"business_hours": b["business_hours"] | {"days": ["mon", "funday"]}}),
        Case("team_settings", "start 25:00", lambda s, f: f | {"start": "25:00"},
             lambda s, b: b | {"business_hours": b["business_hours"] | {"start": "25:00"}}),
        Case("add_member", "nobody with that email", lambda s, f: f | {"email": "nobody@example.com"},
             lambda s, b: b | {"user_ids": b["user_ids"] + [999999]}),
        Case("invite", "blank name", *_same("name", "")),
        Case("invite", "not an email", *_same("email", "dan-at-example")),
        Case("invite", "email taken", lambda s, f: f | {"email": s.bob.email}, lambda s, b: b | {"email": s.bob.email}),
        Case("invite", "phone not E.164", *_same("phone", "0415 555 0199")),
        Case("invite", "unknown zone", *_same("time_zone", "Moon/Tranquility")),
        Case("new_rotation", "blank name", *_same("name", "")),
        Case("new_rotation", "unknown zone", *_same("time_zone", "Mars/Base")),
        Case("new_rotation", "handoff 24:00", *_same("handoff_time", "24:00")),
        Case("new_rotation", "no participants",
             lambda s, f: {k: v for k, v in f.items() if not k.startswith("position_")},
             lambda s, b: b | {"participant_ids": []}),
        Case("new_rotation", "zero-length shifts", lambda s, f: f | {"shift_count": "0"},
             lambda s, b: b | {"shift_length": {"unit": "weeks", "count": 0}}),
        Case("new_rotation", "53 weeks", lambda s, f: f | {"shift_count": "53"},
             lambda s, b: b | {"shift_length": {"unit": "weeks", "count": 53}}),
        Case("new_rotation", "months", lambda s, f: f | {"shift_unit": "months"},
             lambda s, b: b | {"shift_length": {"unit": "months", "count": 1}}),
        Case("new_rotation", "start in year 999", *_same("start_date", "0999-01-01")),
        Case("new_rotation", "a date that is no date", *_same("start_date", "2030-02-30")),
        Case("rotation_settings", "zero-length shifts", lambda s, f: f | {"shift_count": "0", "shift_unit": "days"},
             lambda s, b: b | {"shift_length": {"unit": "days", "count": 0}}),
        Case("rotation_settings", "unknown zone", *_same("time_zone", "Mars/Base")),
        Case("escalation_policy", "no steps",
             lambda s, f: f | {"step-0-delay": "", "step-0-target": [], "step-1-delay": "", "step-1-target": []},
             lambda s, b: b | {"steps": []}),
        Case("escalation_policy", "a negative delay", lambda s, f: f | {"step-1-delay": "-1"},
             lambda s, b: b | {"steps": [b["steps"][0], b["steps"][1] | {"delay_minutes": -1}]}),
        Case("escalation_policy", "a delay too long", lambda s, f: f | {"step-1-delay": str(MAX_DELAY_MINUTES + 1)},
             lambda s, b: b | {"steps": [b["steps"][0], b["steps"][1] | {"delay_minutes": MAX_DELAY_MINUTES + 1}]}),
        Case("escalation_policy", "a step with no target", lambda s, f: f | {"step-1-target": []},
             lambda s, b: b | {"steps": [b["steps"][0], b["steps"][1] | {"targets": []}]}),
        Case("escalation_policy", "a step with no channel", lambda s, f: f | {"step-1-channel": []},
             lambda s, b: b | {"steps": [b["steps"][0], b["steps"][1] | {"channels": []}]}),
        Case("escalation_policy", "by fax", lambda s, f: f | {"step-1-channel": ["fax"]},
             lambda s, b: b | {"steps": [b["steps"][0], b["steps"][1] | {"channels": ["fax"]}]}),
        Case("escalation_policy", "a pager target", lambda s, f: f | {"step-1-target": ["pager:1"]},
             lambda s, b: b | {"steps": [b["steps"][0], b["steps"][1] | {"targets": [{"type": "pager", "id": 1}]}]}),
        Case("escalation_policy", "an unknown rotation", lambda s, f: f | {"step-0-target": ["rotation:999999"]},
             lambda s, b: b | {"steps": [b["steps"][0] | {"targets": [{"type": "rotation", "id": 999999}]},
                                         b["steps"][1]]}),
        Case("escalation_policy", "someone outside the team",
             lambda s, f: f | {"step-1-target": [f"user:{s.outsider.id}"]},
             lambda s, b: b | {"steps": [b["steps"][0], b["steps"][1] | {"targets": [{"type": "user", "id": s.outsider.id}]}]}),
        Case("escalation_policy", "repeat too often", *_same("repeat", MAX_REPEAT + 1)),
        Case("escalation_policy", "repeat below zero", *_same("repeat", -1)),
        Case("integration", "name too long", *_same("name", "n" * 201)),
        Case("integration", "an unknown kind", *_same("type", "pagerduty")),
        Case("watch_item", "blank text", *_same("text", "   ")),
        Case("watch_item", "text too long", *_same("text", "t" * 501)),
        Case("watch_item", "due date that is no date", *_same("due_on", "2030-13-01")),
        Case("take_shift", "end before start", lambda s, f: f | {"end": (_soon(s) - timedelta(hours=1)).isoformat()},
             lambda s, b: b | {"end": (_soon(s) - timedelta(hours=1)).isoformat()}),
        Case("take_shift", "no offset", *_same("start", "2030-01-01T09:00:00")),
        Case("take_shift", "reason too long", *_same("reason", "x" * 2001)),
        Case("ask_swap", "end before start", lambda s, f: f | {"end": (_soon(s) - timedelta(hours=1)).isoformat()},
             lambda s, b: b | {"end": (_soon(s) - timedelta(hours=1)).isoformat()}),
        Case("ask_swap", "in the past", lambda s, f: f | {"start": (s.now - timedelta(days=1)).isoformat()},
             lambda s, b: b | {"start": (s.now - timedelta(days=1)).isoformat()}),
        Case("ask_swap", "someone outside the team", lambda s, f: f | {"to_user_id": str(s.outsider.id)},
             lambda s, b: b | {"to_user_id": s.outsider.id}),
        Case("ask_swap", "not a number", *_same("to_user_id", "carol")),
        Case("ask_swap", "no start", lambda s, f: {k: v for k, v in f.items() if k != "start"},
             lambda s, b: {k: v for k, v in b.items() if k != "start"}),
        Case("declare_incident", "blank title", *_same("title", "   ")),
        Case("declare_incident", "title too long", *_same("title", "t" * 501)),
        Case("declare_incident", "SEV5", *_same("severity", "SEV5")),
        Case("declare_incident", "unknown team", lambda s, f: f | {"team_id": "999999"},
             lambda s, b: b | {"team_id": 999999}),
        Case("declare_incident", "no team", lambda s, f: f | {"team_id": ""}, lambda s, b: b | {"team_id": None}),
        Case("declare_incident", "a dashboard that is no URL", lambda s, f: f | {"dashboard": "javascript:alert(1)"},
             lambda s, b: b | {"links": {"dashboard": "javascript:alert(1)"}}),
        Case("declare_incident", "chat too long", lambda s, f: f | {"chat": "#" + "c" * 200},
             lambda s, b: b | {"links": {"chat": "#" + "c" * 200}}),
        Case("incident_note", "blank", *_same("text", "")),
        Case("incident_note", "too long", *_same("text", "n" * 5001)),
        Case("incident_reassign", "not a number", *_same("user_id", "carol")),
        Case("incident_roles", "not a number", *_same("commander", "carol")),
        Case("incident_roles", "not a member", lambda s, f: f | {"tech_lead": str(s.outsider.id)},
             lambda s, b: b | {"tech_lead": s.outsider.id}),
        Case("incident_update", "unknown status", *_same("status", "fixed")),
        Case("incident_update", "blank message", *_same("message", "  ")),
        Case("incident_update", "message too long", *_same("message", "m" * 5001)),
        Case("incident_reassign", "unknown person", lambda s, f: f | {"user_id": "999999"},
             lambda s, b: b | {"user_id": 999999}),
        Case("incident_reassign", "id beyond 32 bits", lambda s, f: f | {"user_id": str(2**31)},
             lambda s, b: b | {"user_id": 2**31}),
        Case("incident_reassign", "someone outside the team", lambda s, f: f | {"user_id": str(s.outsider.id)},
             lambda s, b: b | {"user_id": s.outsider.id}),
        Case("incident_severity", "SEV5", *_same("severity", "SEV5")),
        Case("incident_severity", "blank", lambda s, f: f | {"severity": ""}, lambda s, b: b | {"severity": ""}),
    ]
    return cases


CASES = _cases()


@pytest.fixture()
def scenario(scenario, make_person):
    """The web scenario and a site admin, for the forms only they may send."""
    scenario.root = make_person("Root Admin", admin=True)
    return scenario


@pytest.fixture()
def signed_in(scenario, browser, session):
    def make(case_or_form, zone: str = "UTC"):
        actor = getattr(scenario, FORMS[case_or_form].actor)
        if actor.time_zone != zone:
            actor.time_zone = zone
            session.commit()
        return actor, browser(actor)

    return make


def _api(client, session, user) -> ApiClient:
    token = create_api_token(session, user=user)
    session.commit()
    return ApiClient(client, token)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.form}: {c.name}")
def test_the_web_refuses_what_the_api_refuses(case, scenario, signed_in, client, session):
    form = FORMS[case.form]
    actor, b = signed_in(case.form, case.zone)
    api = _api(client, session, actor)
    if case.setup:
        case.setup(session, scenario)
    before = snapshot(session)

    method, path = form.api(scenario)
    api_response = getattr(api, method)(path, json=case.api(scenario, form.api_base(scenario)))
    assert 400 <= api_response.status_code < 500, f"the API accepted it: {api_response.json}"
    assert snapshot(session) == before

    web_response = b.post(form.url(scenario), case.web(scenario, form.web_base(scenario)))
    html = web_response.get_data(as_text=True)
    assert 400 <= web_response.status_code < 500, html[:500]
    assert 'class="error-box" role="alert">' in html and 'class="error">' in html, "no message shown"
    assert snapshot(session) == before


@pytest.mark.parametrize("name", list(FORMS))
def test_the_valid_form_is_accepted(name, scenario, signed_in, session):
    """The cases above start from these, so each refusal is down to the one value the case changed."""
    form = FORMS[name]
    _actor, b = signed_in(name)
    before = snapshot(session)
    response = b.post(form.url(scenario), form.web_base(scenario) | form.changes)
    assert response.status_code == form.accepted, response.get_data(as_text=True)[:500]
    assert snapshot(session) != before


@pytest.mark.parametrize("name", list(FORMS))
def test_the_valid_api_request_is_accepted(name, scenario, client, session):
    form = FORMS[name]
    method, path = form.api(scenario)
    response = getattr(_api(client, session, getattr(scenario, form.actor)), method)(path, json=form.api_base(scenario))
    assert response.status_code in (200, 201), response.json


def test_every_form_is_covered(app):
    forms = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods
             and not r.rule.startswith(("/api/", "/twilio/", "/calendars/", "/heartbeats/"))}
    covered = {f.endpoint for f in FORMS.values()}
    assert forms - NO_INPUT - NOT_AN_API_FORM - set(TESTED_ELSEWHERE) == covered
    assert {c.form for c in CASES} == set(FORMS)
