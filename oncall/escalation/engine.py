"""The escalation loop: claims incidents whose next step is due, asks policy.next_action what to do, and
applies it (pages a step by writing outbox rows, holds SEV4 for business hours, ends the policy).

All state is in the incidents table (next_step, round, next_step_at), so a killed worker loses nothing and
any number of workers can run: due incidents are claimed with FOR NO KEY UPDATE SKIP LOCKED, a small batch
per transaction, and a batch that fails is redone one incident per transaction so that one bad incident
cannot block the others. Pages are written here, in the same transaction, and sent by paging/outbox.py.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from oncall.clock import database_now
from oncall.db import upsert_insert
from oncall.escalation import policy as rules
from oncall.escalation.policy import Exhaust, Fire, Hold, Idle, Snapshot, State, Step, Wait
from oncall.incidents import events
from oncall.incidents.events import channel_name, join_names
from oncall.incidents.models import TRIGGERED, Incident
from oncall.paging.models import PENDING, SMS, VOICE, Notification
from oncall.people.models import TeamMember, User
from oncall.schedules import service as schedules
from oncall.schedules.models import Rotation, TimeOff

log = logging.getLogger(__name__)

# After an unexpected error an incident is looked at again this much later, not on every tick.
RETRY_AFTER_ERROR = timedelta(seconds=30)
BATCH = 25  # incidents per transaction: fewer commits under a storm, row locks held for milliseconds


def tick(sessions: Callable[[], Session] | Session, *, now: datetime | None = None, limit: int = 1000,
         batch: int = BATCH) -> int:
    """Advance every incident whose next step is due at `now`; returns how many were advanced.

    Given a sessionmaker (the worker), incidents are claimed and advanced `batch` at a time, one transaction
    per batch; if anything in a batch fails, its incidents are redone one transaction each, so one bad
    incident cannot hold back the others. Given a Session, everything happens in it and the caller commits.
    `now` None (the worker): each batch reads the database's clock, one clock for every worker and host."""
    if isinstance(sessions, Session):
        now = now or database_now(sessions)
        count = 0
        while count < limit and (claimed := claim_due(sessions, now=now, limit=1)):
            advance(sessions, claimed[0], now=now)
            sessions.flush()
            count += 1
        return count

    clock = (lambda _session: now) if now is not None else database_now
    if not _anything_due(sessions, clock):
        return 0
    count, failed = 0, set()
    while count < limit:
        ids: list[int] | None = None
        at = now
        try:
            with sessions.begin() as session:
                at = clock(session)
                claimed = claim_due(session, now=at, limit=min(batch, limit - count), exclude=failed)
                if not claimed:
                    return count
                ids = [incident.id for incident in claimed]
                targets: dict = {}  # an alert storm pages the same people for many incidents: resolve them once
                for incident in claimed:
                    advance(session, incident, now=at, targets=targets)
        except Exception:
            if ids is None:  # the database itself is unavailable: the next tick tries again
                log.warning("escalation tick could not claim incidents", exc_info=True)
                return count
            log.warning("a batch of %s incidents failed; advancing them one by one", len(ids), exc_info=True)
            count += _one_by_one(sessions, ids, clock=clock, failed=failed)
            continue
        count += len(ids)
    return count


def _anything_due(sessions, clock) -> bool:
    """Whether any incident is due, read without SQLite's write lock: an idle worker ticking every second
    must not queue the web's writes behind it."""
    with sessions() as session:
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        at = clock(session)
        return bool(session.scalar(select(exists().where(Incident.status == TRIGGERED, Incident.next_step_at <= at))))


def _one_by_one(sessions, ids: list[int], *, clock, failed: set[int]) -> int:
    done = 0
    for incident_id in ids:
        now = None
        try:
            with sessions.begin() as session:
                now = clock(session)
                claimed = claim_due(session, now=now, limit=1, only=incident_id)
                if claimed:
                    advance(session, claimed[0], now=now)
                    done += 1
        except OperationalError:
            # A lock conflict (SQLite: another connection wrote first) or a lost connection, not a bad incident:
            # skipped for this tick, the next one retries.
            log.warning("escalating incident %s hit a database conflict; retrying next tick", incident_id,
                        exc_info=True)
            failed.add(incident_id)
        except Exception:
            log.exception("escalating incident %s failed; retrying in %s", incident_id, RETRY_AFTER_ERROR)
            failed.add(incident_id)
            if now is not None:
                _postpone(sessions, incident_id, now)
    return done


def _postpone(sessions, incident_id: int, now: datetime) -> None:
    try:
        with sessions.begin() as session:
            incident = session.get(Incident, incident_id, with_for_update={"key_share": True})
            # Only if still due: a failure may come from losing a race to a worker that did advance it.
            if incident is not None and incident.next_step_at is not None and incident.next_step_at <= now:
                incident.next_step_at = now + RETRY_AFTER_ERROR
    except Exception:  # the failure is already logged; the next tick will try again anyway
        log.debug("could not postpone incident %s", incident_id, exc_info=True)


def claim_due(session: Session, *, now: datetime, limit: int, exclude: set[int] = frozenset(),
              only: int | None = None) -> list[Incident]:
    """Lock the most overdue incidents no other worker holds. NO KEY UPDATE, so inserting timeline events and
    pages that reference them (which takes KEY SHARE) is not blocked meanwhile."""
    query = (
        select(Incident)
        .where(Incident.status == TRIGGERED, Incident.next_step_at <= now)
        .order_by(Incident.next_step_at, Incident.id)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
        .execution_options(populate_existing=True)
    )
    if exclude:
        query = query.where(Incident.id.not_in(exclude))
    if only is not None:
        query = query.where(Incident.id == only)
    return list(session.scalars(query))


def state_of(incident: Incident) -> State:
    return State(incident.status, incident.next_step, incident.round, incident.next_step_at)


def save_state(incident: Incident, state: State) -> None:
    incident.next_step, incident.round, incident.next_step_at = state.next_step, state.round, state.due_at


def advance(session: Session, incident: Incident, *, now: datetime, hold: bool = True,
            targets: dict | None = None) -> None:
    """Apply everything due at `now` to one incident the caller has locked (or just created).

    hold=False ignores SEV4's business hours: a person asked for this escalation explicitly."""
    snapshot = Snapshot.from_json(incident.policy)
    if not hold:
        snapshot = replace(snapshot, business_hours=None)
    with session.no_autoflush:  # what it reads is not what it writes: its timeline events go in one flush
        state = _apply(session, incident, snapshot, state_of(incident), now=now, targets=targets)
    save_state(incident, state)


def _apply(session: Session, incident: Incident, snapshot: Snapshot, state: State, *, now: datetime,
           targets: dict | None) -> State:
    # Each step of each pass fires at most once per call; uncovered steps may chain through all of them.
    for _ in range(len(snapshot.policy.steps) * (snapshot.policy.repeat + 2) + 2):
        decision = rules.next_action(snapshot, state, now)
        if isinstance(decision, Idle | Wait):
            break
        if isinstance(decision, Hold):
            local = decision.until.astimezone(_zone(snapshot))
            events.record(session, incident, kind="held", now=now, detail={
                "message": f"SEV4 pages wait for business hours: step {state.next_step + 1} will page at "
                           f"{local:%a %Y-%m-%d %H:%M} ({snapshot.business_hours.time_zone}).",
                "until": decision.until.isoformat(), "step": state.next_step, "round": state.round})
            state = replace(state, due_at=decision.until)
            break
        if isinstance(decision, Exhaust):
            passes = snapshot.policy.repeat + 1
            events.record(session, incident, kind="exhausted", now=now, detail={
                "message": f"The escalation policy has run its course ({passes} pass{'es' if passes > 1 else ''} "
                           f"over {len(snapshot.policy.steps)} step{'s' if len(snapshot.policy.steps) > 1 else ''}) "
                           "and nobody has acknowledged.", "passes": passes})
            incident.exhausted_at = now
            state = replace(state, due_at=None)
            break
        assert isinstance(decision, Fire)
        reached = fire_step(session, incident, snapshot, decision.step, decision.round, now=now, targets=targets)
        state = rules.after_fire(snapshot, state, fired_at=now, reached_anyone=reached)
    return state


def _zone(snapshot: Snapshot) -> ZoneInfo:
    return ZoneInfo(snapshot.business_hours.time_zone)


# --- firing a step -----------------------------------------------------------------------------------------

@dataclass
class Resolved:
    """Who a step's targets mean right now, and why (for the timeline)."""

    users: dict[int, User] = field(default_factory=dict)  # in paging order
    targets: list[dict] = field(default_factory=list)  # per target: type, id, name, user_ids, note


def resolve_targets(session: Session, *, team_id: int, step: Step, now: datetime) -> Resolved:
    result = Resolved()
    rotation_ids = [t.id for t in step.targets if t.type == rules.ROTATION]
    # A rotation deleted (or moved) since the policy was copied is simply uncovered.
    existing = list(session.scalars(select(Rotation.id).where(Rotation.id.in_(rotation_ids), Rotation.team_id == team_id,
                                                              Rotation.archived_at.is_(None)))) if rotation_ids else []
    on_call = {entry.rotation_id: (entry.name, shift)
               for entry, shift in schedules.on_call_for(session, rotation_ids=existing, at=now)}

    wanted: list[int] = []  # user ids in paging order, possibly repeated
    per_target: list[tuple[dict, list[int]]] = []
    for target in step.targets:
        entry = {"type": target.type, "id": target.id}
        ids: list[int] = []
        if target.type == rules.ROTATION:
            if target.id not in on_call:
                entry["note"] = f"rotation {target.id} is archived or no longer exists"
            else:
                name, shift = on_call[target.id]
                entry["name"] = name
                if shift.user_id is None:
                    entry["note"] = f"nobody is on call for {name}"
                else:
                    ids = [shift.user_id]
                    entry["source"] = shift.source
                    if shift.covering_for is not None:
                        entry["covering_for"] = shift.covering_for
        elif target.type == rules.USER:
            ids = [target.id]
        else:
            ids = list(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)
                                       .order_by(TeamMember.user_id)))
            if not ids:
                entry["note"] = "the team has no members"
        per_target.append((entry, ids))
        wanted.extend(ids)

    ids = list(dict.fromkeys(wanted))
    named = set(ids) | {entry["covering_for"] for entry, _ in per_target if "covering_for" in entry}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(named)))} if named else {}
    # Rotations already hand PTO to a substitute; people named directly or as "the team" are skipped instead.
    away = set(session.scalars(select(TimeOff.user_id).where(TimeOff.user_id.in_(ids), TimeOff.start_at <= now,
                                                             TimeOff.end_at > now))) if ids else set()
    for entry, target_ids in per_target:
        kept = []
        for uid in target_ids:
            user = users.get(uid)
            if user is None:
                entry.setdefault("skipped", []).append({"user_id": uid, "reason": "no longer exists"})
            elif entry["type"] != rules.ROTATION and uid in away:
                entry.setdefault("skipped", []).append({"user_id": uid, "reason": f"{user.name} is on time off"})
            else:
                kept.append(uid)
                result.users.setdefault(uid, user)
        if target_ids and not kept and "note" not in entry:
            entry["note"] = "everyone is on time off" if entry["type"] != rules.ROTATION else "nobody available"
        entry["user_ids"] = kept
        if entry.get("covering_for") in users:
            entry["note"] = f"{users[kept[0]].name if kept else 'someone'} covers for " \
                            f"{users[entry['covering_for']].name}, who is on time off"
        result.targets.append(entry)
    return result


def fire_step(session: Session, incident: Incident, snapshot: Snapshot, index: int, round_: int, *,
              now: datetime, targets: dict | None = None) -> bool:
    """Write the outbox rows of step `index` of pass `round_`. Returns whether anyone could be paged.

    `targets` may cache resolved targets by (team, step) across incidents advanced at the same `now`."""
    step = snapshot.policy.steps[index]
    key = (incident.team_id, step.targets)
    resolved = targets.get(key) if targets is not None else None
    if resolved is None:
        resolved = resolve_targets(session, team_id=incident.team_id, step=step, now=now)
        if targets is not None:
            targets[key] = resolved
    stored_round = round_ + snapshot.round_offset
    where = f"step {index + 1} of {len(snapshot.policy.steps)}"
    if snapshot.policy.repeat:
        where += f", pass {round_ + 1} of {snapshot.policy.repeat + 1}"
    pages: list[dict] = []
    rows: list[dict] = []  # the outbox rows of `pages`
    for user in resolved.users.values():
        if not user.pageable_phone:
            missing = "no phone number" if not user.phone else "no verified phone number"
            events.record(session, incident, kind="unreachable", now=now, user_id=user.id, detail={
                "message": f"{user.name} has {missing} and cannot be paged ({where}).",
                "step": index, "round": round_})
            continue
        channels = list(step.channels)
        if SMS in channels and user.sms_opted_out:
            channels = [c for c in channels if c != SMS] + ([VOICE] if VOICE not in channels else [])
            events.record(session, incident, kind="opt_out", now=now, user_id=user.id, detail={
                "message": f"{user.name} has opted out of SMS (texted STOP): paging by voice instead.",
                "step": index, "round": round_})
        for channel in channels:
            pages.append({"user_id": user.id, "channel": channel})
            rows.append({"incident_id": incident.id, "step": index, "round": stored_round, "user_id": user.id,
                         "channel": channel, "state": PENDING, "next_attempt_at": now, "created_at": now,
                         "to": user.phone})

    if pages:
        # One statement for the step's pages. A page this step already wrote (a retried transaction, a manual
        # escalate racing a tick) is left alone by the unique constraint, not written twice.
        session.execute(upsert_insert(session, Notification).on_conflict_do_nothing(), rows)
        by_user: dict[int, list[str]] = {}
        for page in pages:
            by_user.setdefault(page["user_id"], []).append(channel_name(page["channel"]))
        who = join_names([f"{resolved.users[uid].name} by {' and '.join(chs)}" for uid, chs in by_user.items()])
        notes = [t["note"] for t in resolved.targets if t.get("note")]
        message = f"Escalation {where}: paging {who}." + (f" ({'; '.join(notes)})" if notes else "")
        events.record(session, incident, kind="step", now=now, detail={
            "message": message, "step": index, "round": round_, "targets": resolved.targets, "pages": pages})
        return True

    reasons = [t.get("note") for t in resolved.targets if t.get("note")] or ["nobody could be paged"]
    events.record(session, incident, kind="uncovered", now=now, detail={
        "message": f"Escalation {where} reaches nobody ({'; '.join(reasons)}): moving on at once.",
        "step": index, "round": round_, "targets": resolved.targets})
    return False
