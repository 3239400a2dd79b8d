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
    return list(session.scalars(select(Rotation.id).where(Rotation.team_id == team_id, Rotation.archived_at.is_(None))
                                .order_by(Rotation.id)))


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
    found = session.execute(select(Rotation.id, Rotation.team_id, Rotation.archived_at)
                            .where(Rotation.id.in_(rotation_ids))).all() if rotation_ids else []
    rotations = {r.id: r.team_id for r in found}
    archived = {r.id for r in found if r.archived_at is not None}
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
                elif target.id in archived:
                    message = f"Rotation {target.id} is archived."
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


def who_steps_page(session: Session, *, team_id: int, steps, now: datetime) -> list[dict]:
    """For each step (policy Steps), whom it would page at `now`: the people in paging order with whether a
    verified number reaches them, and notes for targets that reach nobody (the engine's own resolution)."""
    from oncall.escalation.engine import resolve_targets

    out = []
    for step in steps:
        resolved = resolve_targets(session, team_id=team_id, step=step, now=now)
        out.append({"people": [{"user_id": u.id, "name": u.name, "reachable": bool(u.pageable_phone)}
                               for u in resolved.users.values()],
                    "notes": [t["note"] for t in resolved.targets if t.get("note")]})
    return out


def policy_page(session: Session, *, team_id: int, now: datetime) -> list[dict]:
    """Each severity's policy with, beside each step, whom it would page now."""
    return [{"severity": p.severity, "policy": p,
             "now": who_steps_page(session, team_id=team_id, steps=p.policy.steps, now=now)}
            for p in team_policies(session, team_id=team_id)]


def incident_outlook(session: Session, incident, *, now: datetime) -> dict:
    """The policy an incident follows (its copy) and, while it is open, its next step: when, and whom that step
    would page if it fired now."""
    followed = Snapshot.from_json(incident.policy).policy
    steps = list(followed.steps)
    outlook = {"policy": followed, "steps": steps, "next": None}
    if incident.status == "triggered" and incident.next_step_at is not None and incident.next_step < len(steps):
        outlook["next"] = {"index": incident.next_step, "round": incident.round, "at": incident.next_step_at,
                           **who_steps_page(session, team_id=incident.team_id, steps=[steps[incident.next_step]],
                                            now=now)[0]}
    return outlook


def target_labels(session: Session, *, team_id: int, steps) -> dict[tuple[str, int], str]:
    """A name for each target of these steps: 'Primary (rotation)', 'Alice', 'the whole team'."""
    rotation_ids = {t.id for s in steps for t in s.targets if t.type == rules.ROTATION}
    user_ids = {t.id for s in steps for t in s.targets if t.type == rules.USER}
    rotations = dict(session.execute(select(Rotation.id, Rotation.name).where(Rotation.id.in_(rotation_ids))).all()) \
        if rotation_ids else {}
    users = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    labels = {}
    for step in steps:
        for t in step.targets:
            if t.type == rules.ROTATION:
                labels[(t.type, t.id)] = f"on call for {rotations.get(t.id, f'rotation {t.id} (deleted)')}"
            elif t.type == rules.USER:
                labels[(t.type, t.id)] = users.get(t.id, f"user {t.id} (deleted)")
            else:
                labels[(t.type, t.id)] = "the whole team"
    return labels
