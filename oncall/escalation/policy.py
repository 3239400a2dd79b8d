"""Escalation policies as plain data: defaults, validation, business hours, and the next action (pure).

The engine keeps an incident's place in its policy as a State (the next step, the pass, when it is due) and
asks next_action() what to do; after paging a step it asks after_fire() for the next State. Nothing here
reads a clock or a database.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from oncall.schedules.timeline import resolve_local

UTC = timezone.utc

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
# PRODUCT.md: how soon someone must respond. SEV4's target is "next business day", so it has none in minutes.
RESPONSE_TARGETS = {"SEV1": timedelta(0), "SEV2": timedelta(minutes=15), "SEV3": timedelta(hours=1), "SEV4": None}
SMS, VOICE = "sms", "voice"
CHANNELS = (SMS, VOICE)
ROTATION, USER, TEAM = "rotation", "user", "team"
TARGET_TYPES = (ROTATION, USER, TEAM)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TRIGGERED = "triggered"

MAX_STEPS = 20
MAX_TARGETS = 20
MAX_REPEAT = 10
MAX_DELAY_MINUTES = 7 * 24 * 60  # a step a week after the previous one is already past any response target


# --- plain data -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Target:
    type: str  # rotation | user | team
    id: int

    def to_json(self) -> dict:
        return {"type": self.type, "id": self.id}


@dataclass(frozen=True, slots=True)
class Step:
    delay_minutes: int  # after the previous step fired (step 0: after the incident opened)
    targets: tuple[Target, ...]
    channels: tuple[str, ...]

    def to_json(self) -> dict:
        return {"delay_minutes": self.delay_minutes, "targets": [t.to_json() for t in self.targets],
                "channels": list(self.channels)}


@dataclass(frozen=True, slots=True)
class Policy:
    steps: tuple[Step, ...]
    repeat: int = 0  # passes after the first while nobody acknowledges

    def to_json(self) -> dict:
        return {"repeat": self.repeat, "steps": [s.to_json() for s in self.steps]}

    @classmethod
    def from_json(cls, data: Mapping) -> Policy:
        return cls(
            steps=tuple(
                Step(delay_minutes=int(s["delay_minutes"]),
                     targets=tuple(Target(t["type"], int(t["id"])) for t in s["targets"]),
                     channels=tuple(s["channels"]))
                for s in data["steps"]
            ),
            repeat=int(data.get("repeat", 0)),
        )


@dataclass(frozen=True, slots=True)
class BusinessHours:
    time_zone: str  # IANA
    days: tuple[str, ...]  # "mon".."sun"
    start: time  # local wall clock
    end: time

    def to_json(self) -> dict:
        return {"time_zone": self.time_zone, "days": list(self.days),
                "start": self.start.strftime("%H:%M"), "end": self.end.strftime("%H:%M")}

    @classmethod
    def from_json(cls, data: Mapping) -> BusinessHours:
        return cls(data["time_zone"], tuple(data["days"]), time.fromisoformat(data["start"]),
                   time.fromisoformat(data["end"]))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What an incident follows, copied when it opens: the policy, and for SEV4 the hours pages wait for."""

    severity: str
    policy: Policy
    business_hours: BusinessHours | None = None  # set only when pages are held to business hours
    source: str = "default"  # "default" (computed from the team's rotations) or "team" (set by the team)
    # Added to a pass number where pages are stored: a policy taken on after a severity change starts its
    # passes past every earlier one, so its step 0 pages people the earlier policy's step 0 paged already.
    round_offset: int = 0

    def to_json(self) -> dict:
        body = {"severity": self.severity, "source": self.source, **self.policy.to_json(),
                "business_hours": self.business_hours.to_json() if self.business_hours else None}
        if self.round_offset:
            body["round_offset"] = self.round_offset
        return body

    @classmethod
    def from_json(cls, data: Mapping) -> Snapshot:
        hours = data.get("business_hours")
        return cls(data["severity"], Policy.from_json(data), BusinessHours.from_json(hours) if hours else None,
                   data.get("source", "default"), int(data.get("round_offset", 0)))


@dataclass(frozen=True, slots=True)
class State:
    """Where an incident is in its policy: the next step of pass `round` is due at `due_at`.

    next_step == len(steps) means every pass has fired and the policy ends at `due_at`.
    due_at None means nothing is scheduled (acknowledged, resolved, or finished)."""

    status: str
    next_step: int
    round: int
    due_at: datetime | None


# --- decisions --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Idle:
    """Nothing to do: not triggered, or nothing scheduled."""


@dataclass(frozen=True, slots=True)
class Wait:
    until: datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """Due, but its pages may not go out before `until` (SEV4 outside business hours)."""

    until: datetime


@dataclass(frozen=True, slots=True)
class Fire:
    step: int
    round: int


@dataclass(frozen=True, slots=True)
class Exhaust:
    """Every pass has fired and its last delay has passed without an acknowledgement."""


Decision = Idle | Wait | Hold | Fire | Exhaust


def start(snapshot: Snapshot, opened_at: datetime) -> State:
    return State(TRIGGERED, 0, 0, opened_at + timedelta(minutes=snapshot.policy.steps[0].delay_minutes))


def next_action(snapshot: Snapshot, state: State, now: datetime) -> Decision:
    if state.status != TRIGGERED or state.due_at is None:
        return Idle()
    if now < state.due_at:
        return Wait(state.due_at)
    if state.next_step >= len(snapshot.policy.steps):
        return Exhaust()
    if snapshot.business_hours is not None:
        opens_at = next_business_start(snapshot.business_hours, now)
        if opens_at is not None and opens_at > now:
            return Hold(opens_at)
    return Fire(state.next_step, state.round)


def after_fire(snapshot: Snapshot, state: State, *, fired_at: datetime, reached_anyone: bool) -> State:
    """The state once step `state.next_step` has fired at `fired_at`.

    A step that reached nobody (its targets uncovered) does not hold the incident: what follows is due at once.
    Otherwise the next step waits its own delay, and a new pass waits the last step's delay (PRODUCT.md)."""
    steps = snapshot.policy.steps
    i, r = state.next_step, state.round
    if i + 1 < len(steps):
        nxt, gap = (i + 1, r), steps[i + 1].delay_minutes
    elif r < snapshot.policy.repeat:
        nxt, gap = (0, r + 1), steps[-1].delay_minutes
    else:
        nxt, gap = (len(steps), r), steps[-1].delay_minutes
    due_at = fired_at + timedelta(minutes=gap) if reached_anyone else fired_at
    return State(TRIGGERED, nxt[0], nxt[1], due_at)


def escalate_now(snapshot: Snapshot, state: State, now: datetime) -> State:
    """Someone asked for the next step now. Past the end of the policy, its last step pages again."""
    steps = snapshot.policy.steps
    if state.next_step >= len(steps):
        return State(TRIGGERED, len(steps) - 1, state.round + 1, now)
    return State(TRIGGERED, state.next_step, state.round, now)


def after_reassign(snapshot: Snapshot, state: State, now: datetime, grace: timedelta) -> State:
    """Someone handed the incident to a person, who is paged now: the policy goes on from its next step
    once `grace` (or that step's own delay, if longer) has passed without an acknowledgement. Past the end of
    the policy, its last step is what comes next."""
    steps = snapshot.policy.steps
    if state.next_step >= len(steps):
        nxt, round_ = len(steps) - 1, state.round + 1
    else:
        nxt, round_ = state.next_step, state.round
    return State(TRIGGERED, nxt, round_, now + max(grace, timedelta(minutes=steps[nxt].delay_minutes)))


# --- business hours ---------------------------------------------------------------------------------------

def in_business_hours(hours: BusinessHours, at: datetime) -> bool:
    local = at.astimezone(ZoneInfo(hours.time_zone))
    return WEEKDAYS[local.weekday()] in hours.days and hours.start <= local.time().replace(fold=0) < hours.end


def next_business_start(hours: BusinessHours, at: datetime) -> datetime | None:
    """`at` itself if it is within business hours, else the next start of business hours (UTC).

    None when the team has no business days at all. Days follow the team's wall clock, so 09:00 stays
    09:00 local across DST; a start inside a spring-forward gap opens when the gap ends."""
    if not hours.days:
        return None
    if in_business_hours(hours, at):
        return at
    tz = ZoneInfo(hours.time_zone)
    today = at.astimezone(tz).date()
    for offset in range(8):  # a week and a day always contains the next business day's start
        day = today + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] in hours.days:
            opens_at = resolve_local(day, hours.start, tz)
            if opens_at > at:
                return opens_at
    raise AssertionError("a business day must start within eight days")  # pragma: no cover


# --- defaults ---------------------------------------------------------------------------------------------

# Minutes after the incident opens at which each level is paged, and on which channels, derived from the
# response targets: SEV1 (immediately) calls at once and reaches the whole team by 15 minutes; SEV2
# (15 min) moves on each 15 minutes; SEV3 (1 hour) texts first and escalates within the hour; SEV4 (next
# business day) texts only, and its pages wait for business hours anyway.
_DEFAULTS = {
    #        primary, secondary, whole team (None: not paged)   repeat
    "SEV1": ((0, (SMS, VOICE)), (5, (SMS, VOICE)), (15, (SMS, VOICE)), 2),
    "SEV2": ((0, (SMS, VOICE)), (15, (SMS, VOICE)), (30, (SMS, VOICE)), 1),
    "SEV3": ((0, (SMS,)), (30, (SMS, VOICE)), (60, (SMS,)), 0),
    "SEV4": ((0, (SMS,)), (240, (SMS,)), None, 0),
}


def default_policy(severity: str, *, team_id: int, rotation_ids: Sequence[int]) -> Policy:
    """The policy of a team that has not set one: its first rotation is the primary, the second the
    secondary, then the whole team. Missing levels are skipped, keeping the others' offsets."""
    primary, secondary, team, repeat = _DEFAULTS[severity]
    levels: list[tuple[int, tuple[str, ...], Target]] = []
    if rotation_ids:
        levels.append((*primary, Target(ROTATION, rotation_ids[0])))
    if len(rotation_ids) > 1:
        levels.append((*secondary, Target(ROTATION, rotation_ids[1])))
    if team is not None or len(levels) < 2:
        offset, channels = team if team is not None else secondary
        levels.append((offset if levels else 0, channels, Target(TEAM, team_id)))
    steps, previous = [], 0
    for offset, channels, target in levels:
        steps.append(Step(offset - previous, (target,), channels))
        previous = offset
    if steps[-1].delay_minutes == 0:
        repeat = 0  # a lone immediate step would repeat all its passes at the same instant
    return Policy(tuple(steps), repeat)


# --- validation -------------------------------------------------------------------------------------------

def policy_errors(policy: Policy) -> dict:
    """Rule violations that need no database, as marshmallow-shaped messages ({"steps": {1: {...}}})."""
    errors: dict = {}
    steps = policy.steps
    if not steps:
        return {"steps": ["At least one step is needed."]}
    if len(steps) > MAX_STEPS:
        errors["steps"] = [f"At most {MAX_STEPS} steps."]
    step_errors: dict[int, dict] = {}
    seen: dict[tuple, int] = {}
    for i, step in enumerate(steps):
        mine: dict = {}
        if not 0 <= step.delay_minutes <= MAX_DELAY_MINUTES:
            mine["delay_minutes"] = [f"Must be between 0 and {MAX_DELAY_MINUTES}."]
        if not step.targets:
            mine["targets"] = ["At least one target is needed."]
        elif len(set(step.targets)) != len(step.targets):
            mine["targets"] = ["Each target may appear once in a step."]
        elif len(step.targets) > MAX_TARGETS:
            mine["targets"] = [f"At most {MAX_TARGETS} targets."]
        if not step.channels:
            mine["channels"] = ["At least one channel is needed."]
        elif len(set(step.channels)) != len(step.channels) or not set(step.channels) <= set(CHANNELS):
            mine["channels"] = [f"Each of {', '.join(CHANNELS)} at most once."]
        key = (frozenset(step.targets), frozenset(step.channels))
        if "targets" not in mine and "channels" not in mine:
            if key in seen:
                mine.setdefault("targets", []).append(
                    f"Same targets and channels as step {seen[key]}; use repeat to page them again.")
            else:
                seen[key] = i
        if mine:
            step_errors[i] = mine
    if step_errors and "steps" not in errors:
        errors["steps"] = step_errors
    if not 0 <= policy.repeat <= MAX_REPEAT:
        errors["repeat"] = [f"Must be between 0 and {MAX_REPEAT}."]
    elif policy.repeat and steps[-1].delay_minutes == 0:
        errors["repeat"] = ["Passes restart as long after the last step as its delay; with a last delay of 0 "
                            "every pass would page at the same instant."]
    return errors

