"""Load and store teams' escalation policies, with defaults computed from their rotations. Never commits."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.errors import Invalid, NotFound
from oncall.escalation import policy as rules
from oncall.escalation.models import EscalationPolicy
from oncall.escalation.policy import BusinessHours, Policy, Snapshot, Step, Target
from oncall.people.models import Team, TeamMember, User
from oncall.schedules.models import Rotation


@dataclass(frozen=True)
class TeamPolicy:
    team_id: int
    severity: str
    policy: Policy
    source: str  # "team" | "default"
    updated_at: datetime | None

    @property
    def repeat(self) -> int:
        return self.policy.repeat

    @property
    def steps(self) -> list[dict]:
        return [s.to_json() for s in self.policy.steps]


def parse_severity(value: str) -> str:
    severity = (value or "").upper()
    if severity not in rules.SEVERITIES:
        raise NotFound(f"unknown severity {value!r}; use one of {', '.join(rules.SEVERITIES)}")
    return severity


def _team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} does not exist")
    return team


def _rotation_ids(session: Session, team_id: int) -> list[int]:
    return list(session.scalars(select(Rotation.id).where(Rotation.team_id == team_id).order_by(Rotation.id)))


def team_policies(session: Session, *, team_id: int) -> list[TeamPolicy]:
    _team(session, team_id)
    rows = {p.severity: p for p in session.scalars(select(EscalationPolicy).where(EscalationPolicy.team_id == team_id))}
    rotations = None
    result = []
    for severity in rules.SEVERITIES:
        row = rows.get(severity)
        if row is not None:
            result.append(TeamPolicy(team_id, severity, Policy.from_json({"repeat": row.repeat, "steps": row.steps}),
                                     "team", row.updated_at))
            continue
        if rotations is None:
            rotations = _rotation_ids(session, team_id)
        result.append(TeamPolicy(team_id, severity, rules.default_policy(severity, team_id=team_id,
                                                                            rotation_ids=rotations), "default", None))
    return result


def team_policy(session: Session, *, team_id: int, severity: str) -> TeamPolicy:
    _team(session, team_id)
    row = session.scalar(select(EscalationPolicy).where(EscalationPolicy.team_id == team_id,
                                                        EscalationPolicy.severity == severity))
    if row is not None:
        return TeamPolicy(team_id, severity, Policy.from_json({"repeat": row.repeat, "steps": row.steps}), "team",
                          row.updated_at)
    # Defaults are computed at read time, so a team created before its rotations still gets sensible ones.
    default = rules.default_policy(severity, team_id=team_id, rotation_ids=_rotation_ids(session, team_id))
    return TeamPolicy(team_id, severity, default, "default", None)


def policy_from_input(data: dict, *, team_id: int) -> Policy:
    return Policy(
        steps=tuple(
            Step(s["delay_minutes"],
                 tuple(Target(t["type"], t["id"] if t.get("id") is not None else team_id) for t in s["targets"]),
                 tuple(s["channels"]))
            for s in data["steps"]
        ),
        repeat=data.get("repeat", 0),
    )


def _target_errors(session: Session, policy: Policy, team_id: int) -> dict:
    """Targets that do not exist or belong to another team, keyed like marshmallow's nested messages."""
    rotation_ids = {t.id for s in policy.steps for t in s.targets if t.type == rules.ROTATION}
    user_ids = {t.id for s in policy.steps for t in s.targets if t.type == rules.USER}
    rotations = dict(session.execute(select(Rotation.id, Rotation.team_id).where(Rotation.id.in_(rotation_ids))).all()) \
        if rotation_ids else {}
    users = set(session.scalars(select(User.id).where(User.id.in_(user_ids)))) if user_ids else set()
    members = set(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id,
                                                                    TeamMember.user_id.in_(user_ids)))) \
        if user_ids else set()
    errors: dict = {}
    for i, step in enumerate(policy.steps):
        for j, target in enumerate(step.targets):
            message = None
            if target.type == rules.ROTATION:
                if target.id not in rotations:
                    message = f"Rotation {target.id} does not exist."
                elif rotations[target.id] != team_id:
                    message = f"Rotation {target.id} belongs to another team."
            elif target.type == rules.USER:
                if target.id not in users:
                    message = f"User {target.id} does not exist."
                elif target.id not in members:
                    message = f"User {target.id} is not a member of this team."
            elif target.id != team_id:
                message = f"A team target can only be this team ({team_id})."
            if message:
                errors.setdefault("steps", {}).setdefault(i, {}).setdefault("targets", {})[j] = {"id": [message]}
    return errors


def set_policy(session: Session, *, team_id: int, severity: str, data: dict, user_id: int | None,
               now: datetime) -> TeamPolicy:
    _team(session, team_id)
    policy = policy_from_input(data, team_id=team_id)
    errors = rules.policy_errors(policy) or _target_errors(session, policy, team_id)
    if errors:
        raise Invalid("the escalation policy is not valid", fields=errors)
    row = session.scalar(select(EscalationPolicy).where(EscalationPolicy.team_id == team_id,
                                                        EscalationPolicy.severity == severity))
    if row is None:
        row = EscalationPolicy(team_id=team_id, severity=severity)
        session.add(row)
    row.repeat, row.steps = policy.repeat, [s.to_json() for s in policy.steps]
    row.updated_at, row.updated_by_id = now, user_id
    session.flush()
    return TeamPolicy(team_id, severity, policy, "team", now)


def snapshot_for(session: Session, *, team: Team, severity: str) -> Snapshot:
    """The policy an incident opening now follows, with business hours when its pages must wait for them."""
    current = team_policy(session, team_id=team.id, severity=severity)
    hours = None
    if severity == "SEV4":
        hours = BusinessHours(team.time_zone, tuple(d for d in team.business_days.split(",") if d),
                              team.business_start, team.business_end)
    return Snapshot(severity, current.policy, hours, current.source)
