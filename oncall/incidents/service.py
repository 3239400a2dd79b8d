"""Open, deduplicate, acknowledge, resolve and escalate incidents; integration tokens. Never commits.

Opening an incident copies the team's policy onto it and fires its step 0 in the same transaction, so the
first pages are in the outbox the moment the incident exists (paging/outbox.py sends them)."""
import hashlib
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import case, exists, func, literal, or_, select, union_all, update
from sqlalchemy.orm import Session

from oncall.db import upsert_insert
from oncall.errors import Conflict, Invalid, NotFound
from oncall.escalation import engine, policy as rules
from oncall.escalation import service as escalation
from oncall.incidents import events, triage
from oncall.incidents.models import ACKNOWLEDGED, RESOLVED, TRIGGERED, VIAS, Incident, Integration
from oncall.maintenance import service as maintenance
from oncall.paging.models import CANCELLED, PENDING, SMS, VOICE, Notification
from oncall.people.models import Team, TeamMember, User
from oncall.people.tokens import LAST_USED_RESOLUTION
from oncall.postmortems import followups, service as postmortems

MAX_CODE_DIGITS = 9  # texts.parse_reply reads at most nine digits
INTEGRATION_TOKEN_PREFIX = "oncall_int_"
INTEGRATION_TYPES = ("alertmanager",)


# --- reading -----------------------------------------------------------------------------------------------

def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return incident


def find_open_by_code(session: Session, code: int) -> Incident | None:
    return session.scalar(select(Incident).where(Incident.code == code, Incident.status != RESOLVED))


def open_incidents_paged_to(session: Session, user_id: int) -> list[Incident]:
    """Open incidents with at least one page to this person (what an SMS "AA" or "RR" acts on)."""
    paged = exists().where(Notification.incident_id == Incident.id, Notification.user_id == user_id)
    return list(session.scalars(select(Incident).where(Incident.status != RESOLVED, paged).order_by(Incident.id)))


def list_incidents(session: Session, *, team_id: int | None = None, status: str | None = None,
                   severity: str | None = None, since: datetime | None = None, limit: int = 100,
                   before_id: int | None = None, suppressed: bool | None = None) -> list[Incident]:
    """Newest first. `status` may also be "open" (triggered or acknowledged); `suppressed` True: only those a
    maintenance window suppressed, False: none of them."""
    query = _suppressed(select(Incident), suppressed)
    if team_id is not None:
        query = query.where(Incident.team_id == team_id)
    if status == "open":
        query = query.where(Incident.status != RESOLVED)
    elif status is not None:
        query = query.where(Incident.status == status)
    if severity is not None:
        query = query.where(Incident.severity == severity)
    if since is not None:
        query = query.where(Incident.created_at >= since)
    if before_id is not None:
        query = query.where(Incident.id < before_id)
    return list(session.scalars(query.order_by(Incident.id.desc()).limit(limit)))


def _suppressed(query, suppressed: bool | None):
    if suppressed is None:
        return query
    return query.where(Incident.suppressed_at.is_not(None) if suppressed else Incident.suppressed_at.is_(None))


def search_incidents(session: Session, *, team_id: int | None = None, status: str | None = "open",
                     severity: str | None = None, text: str | None = None, page: int = 1,
                     per_page: int = 50, team_ids: set[int] | None = None,
                     suppressed: bool | None = None) -> tuple[list[Incident], bool]:
    """The responder's list: status (triggered, acknowledged, resolved), then severity, then oldest first
    (incidents.triage's order, in SQL), filtered, titles containing `text` (any case). Returns one page and
    whether another follows. `team_ids`: only these teams' (a reader who is no site admin sees their own);
    `suppressed` as in list_incidents."""
    query = _suppressed(select(Incident), suppressed)
    if team_ids is not None:
        query = query.where(Incident.team_id.in_(team_ids))
    if team_id is not None:
        query = query.where(Incident.team_id == team_id)
    if status == "open":
        query = query.where(Incident.status != RESOLVED)
    elif status is not None:
        query = query.where(Incident.status == status)
    if severity is not None:
        query = query.where(Incident.severity == severity)
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(Incident.title).like(pattern, escape="\\"))
    status_rank = case(triage.STATUS_RANK, value=Incident.status, else_=9)
    severity_rank = case(triage.SEVERITY_RANK, value=Incident.severity, else_=9)
    rows = list(session.scalars(query.order_by(status_rank, severity_rank, Incident.created_at, Incident.id)
                                .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def notifications_of(session: Session, incident_id: int) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.incident_id == incident_id)
                                .order_by(Notification.id)))


# --- opening -----------------------------------------------------------------------------------------------

# Candidate codes per number of digits that _new_code checks in its one query: all of one length are taken
# together with a chance of at most 1e-5 (codes are at least ten times as many as incidents).
CODE_CANDIDATES = 5


def _new_code(session: Session) -> int:
    # Random among at least ten times as many codes as there are incidents, so a mistyped digit rarely names
    # another incident; the unique constraint settles the rare race between two openings.
    # One statement: the highest id (which sets the length) and which of a few random codes of every length
    # are taken, so opening an incident under a storm costs one round trip here, not two or more.
    lengths = range(4, MAX_CODE_DIGITS + 1)
    candidates = {d: [10 ** (d - 1) + secrets.randbelow(9 * 10 ** (d - 1)) for _ in range(CODE_CANDIDATES)]
                  for d in lengths}
    rows = session.execute(union_all(
        select(func.max(Incident.id), literal(True)),
        select(Incident.code, literal(False)).where(Incident.code.in_([c for cs in candidates.values() for c in cs])),
    )).all()
    highest = next((value for value, is_highest in rows if is_highest), None) or 0
    taken = {value for value, is_highest in rows if not is_highest}
    digits = min(MAX_CODE_DIGITS, max(4, len(str(highest * 10))))
    for length in range(digits, MAX_CODE_DIGITS + 1):
        free = [c for c in candidates[length] if c not in taken]
        if free:
            return free[0]
    raise Conflict("no free incident code")  # pragma: no cover - needs ~10^8 incidents


def _open_with_key(session: Session, team_id: int, dedup_key: str) -> Incident | None:
    return session.scalar(
        select(Incident).where(Incident.team_id == team_id, Incident.dedup_key == dedup_key,
                               Incident.status != RESOLVED)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    )


def retrigger(session: Session, incident: Incident, *, now: datetime, via: str, user_id: int | None,
              detail: dict | None = None) -> Incident:
    """A trigger with the key of this open incident: noted on its timeline, nobody is paged again."""
    incident.trigger_count += 1
    incident.last_triggered_at = now
    events.record(session, incident, kind="retriggered", now=now, user_id=user_id, via=via, detail={
        "message": f"Triggered again ({incident.trigger_count} times in all, key {incident.dedup_key!r}); "
                   "already open, so nobody is paged again.", "trigger_count": incident.trigger_count,
        **(detail or {})})
    session.flush()
    return incident


def create_incident(session: Session, *, team_id: int, severity: str, title: str, now: datetime,
                    description: str | None = None, links: dict | None = None, dedup_key: str | None = None,
                    created_by_id: int | None = None, via: str = "api", integration_id: int | None = None,
                    alert: dict | None = None, key_seen_free: bool = False) -> tuple[Incident, bool]:
    """Open an incident, or return the open one with the same dedup key. Returns (incident, created).

    key_seen_free: the caller has just found no open incident with this key (apply_alerts), so the first look
    is skipped; an incident opened meanwhile still wins through the unique index, and is then looked up."""
    if severity not in rules.SEVERITIES:
        raise Invalid(f"unknown severity {severity!r}", fields={"severity": [f"One of {', '.join(rules.SEVERITIES)}."]})
    team = session.get(Team, team_id)
    if team is None:
        raise Invalid(f"team {team_id} does not exist", fields={"team_id": ["Unknown team."]})
    links = links or {}
    # Looked up before anything is written, so the INSERTs of this opening still go out together.
    window = maintenance.active_window(session, team_id, now) if maintenance.held_by_machine(via, integration_id) \
        else None
    snapshot = state = None
    for attempt in range(5):
        if (dedup_key is not None and (attempt or not key_seen_free)
                and (existing := _open_with_key(session, team_id, dedup_key)) is not None):
            return retrigger(session, existing, now=now, via=via, user_id=created_by_id), False
        if snapshot is None:
            snapshot = escalation.snapshot_for(session, team=team, severity=severity)
            state = rules.start(snapshot, now)
        # ON CONFLICT DO NOTHING rather than a savepoint around the INSERT: if another opening took this dedup
        # key (or this code) first, no row comes back and the loop looks again. One statement, not three.
        incident = session.scalars(upsert_insert(session, Incident).values(
            code=_new_code(session), team_id=team_id, severity=severity, title=title, description=description,
            dashboard_url=links.get("dashboard"), runbook_url=links.get("runbook"), chat_channel=links.get("chat"),
            dedup_key=dedup_key, status=TRIGGERED, source=via, integration_id=integration_id, alert=alert,
            trigger_count=1, last_triggered_at=now, created_at=now, created_by_id=created_by_id,
            policy=snapshot.to_json(), next_step=state.next_step, round=state.round,
            next_step_at=None if window is not None else state.due_at, held=window is not None,
            suppressed_at=now if window is not None else None,
            maintenance_window_id=window.id if window is not None else None,
        ).on_conflict_do_nothing().returning(Incident)).one_or_none()
        if incident is not None:
            break
    else:
        raise Conflict("could not open the incident; try again")
    events.record(session, incident, kind="created", now=now, user_id=created_by_id, via=via, detail={
        "message": f"{severity} opened for {team.name}: {title}",
        "severity": severity, "policy_source": snapshot.source, "dedup_key": dedup_key})
    if window is not None:
        maintenance.hold(session, incident, window, now)
    else:
        engine.advance(session, incident, now=now)
    session.flush()
    return incident, True


# --- acting ------------------------------------------------------------------------------------------------

def _check_via(via: str) -> None:
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}, got {via!r}")


def lock(session: Session, incident: Incident) -> Incident:
    """Re-read under a row lock: the engine or another request may have changed it since it was loaded."""
    return session.scalar(select(Incident).where(Incident.id == incident.id)
                          .with_for_update(key_share=True).execution_options(populate_existing=True))


def _cancel_pending(session: Session, incident: Incident) -> None:
    # Pages not yet handed to the provider would only disturb someone about a settled incident.
    session.execute(update(Notification).where(Notification.incident_id == incident.id,
                                               Notification.state == PENDING).values(state=CANCELLED))


def _who(session: Session, user_id: int | None, via: str) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    name = user.name if user is not None else {"alertmanager": "Alertmanager"}.get(via, "the system")
    return f"{name} (via {via})"


def acknowledge(session: Session, incident: Incident, *, user_id: int | None, via: str, now: datetime) -> Incident:
    """Stop the escalation. Acknowledging again is a no-op; a resolved incident cannot be acknowledged."""
    _check_via(via)
    incident = lock(session, incident)
    if incident.status == RESOLVED:
        raise Conflict(f"incident {incident.id} is already resolved")
    if incident.status == ACKNOWLEDGED:
        return incident
    incident.status = ACKNOWLEDGED
    incident.acknowledged_at, incident.acknowledged_by_id, incident.acknowledged_via = now, user_id, via
    incident.next_step_at = None
    _cancel_pending(session, incident)
    events.record(session, incident, kind="acknowledged", now=now, user_id=user_id, via=via,
                  detail={"message": f"Acknowledged by {_who(session, user_id, via)}; escalation stopped."})
    session.flush()
    return incident


def resolve(session: Session, incident: Incident, *, user_id: int | None, via: str, now: datetime) -> Incident:
    """Close the incident. Resolving again is a no-op. A SEV1 or SEV2 gets its postmortem draft at once."""
    _check_via(via)
    incident = lock(session, incident)
    if incident.status == RESOLVED:
        return incident
    incident.status = RESOLVED
    incident.resolved_at, incident.resolved_by_id, incident.resolved_via = now, user_id, via
    incident.next_step_at = None
    _cancel_pending(session, incident)
    events.record(session, incident, kind="resolved", now=now, user_id=user_id, via=via,
                  detail={"message": f"Resolved by {_who(session, user_id, via)}."})
    session.flush()
    if incident.severity in followups.POSTMORTEM_SEVERITIES:
        postmortems.start_draft(session, incident, now=now)
    return incident


def escalate(session: Session, incident: Incident, *, user_id: int | None, via: str, now: datetime) -> Incident:
    """Page the next step now. An acknowledged incident is triggered again (its owner asks for help)."""
    _check_via(via)
    incident = lock(session, incident)
    if incident.status == RESOLVED:
        raise Conflict(f"incident {incident.id} is resolved; it cannot be escalated")
    snapshot = rules.Snapshot.from_json(incident.policy)
    state = rules.escalate_now(snapshot, engine.state_of(incident), now)
    was = incident.status
    incident.status = TRIGGERED
    incident.acknowledged_at = incident.acknowledged_by_id = incident.acknowledged_via = None
    incident.exhausted_at = None
    engine.save_state(incident, state)
    events.record(session, incident, kind="escalated", now=now, user_id=user_id, via=via, detail={
        "message": f"Escalated by {_who(session, user_id, via)}" + (" (no longer acknowledged)" if was == ACKNOWLEDGED
                                                                   else "") + ": paging the next step now.",
        "step": state.next_step, "round": state.round})
    # An explicit request: SEV4's business-hours hold does not apply to it.
    engine.advance(session, incident, now=now, hold=False)
    session.flush()
    return incident


# The person an incident is handed to gets this long to acknowledge before its policy goes on.
REASSIGN_GRACE = timedelta(minutes=5)
# Pages to a person an incident was handed to are outbox rows outside the policy's steps (handoff re-pages
# use -1); their pass is the second they were asked for, so handing it to the same person twice pages twice.
REASSIGN_STEP = -2


def reassign(session: Session, incident: Incident, *, to_user_id: int, user_id: int | None, via: str,
             now: datetime) -> Incident:
    """Hand the incident to a member of its team and page them now (by SMS and voice, or voice alone after
    STOP). It is theirs once they acknowledge: until then it is unacknowledged, and the policy goes on from
    its next step after REASSIGN_GRACE."""
    _check_via(via)
    incident = lock(session, incident)
    if incident.status == RESOLVED:
        raise Conflict(f"incident {incident.id} is resolved; it cannot be reassigned")
    member = session.scalar(select(TeamMember).where(TeamMember.team_id == incident.team_id,
                                                     TeamMember.user_id == to_user_id))
    person = session.get(User, to_user_id) if member is not None else None
    if person is None:
        raise Invalid(f"user {to_user_id} is not a member of the incident's team",
                      fields={"user_id": ["Choose a member of the incident's team."]})
    if not person.phone:
        raise Invalid(f"{person.name} has no phone number and cannot be paged",
                      fields={"user_id": [f"{person.name} has no phone number."]})
    snapshot = rules.Snapshot.from_json(incident.policy)
    was = incident.status
    incident.status = TRIGGERED
    incident.acknowledged_at = incident.acknowledged_by_id = incident.acknowledged_via = None
    incident.exhausted_at = None
    engine.save_state(incident, rules.after_reassign(snapshot, engine.state_of(incident), now, REASSIGN_GRACE))
    channels = [VOICE] if person.sms_opted_out else [SMS, VOICE]
    for channel in channels:
        session.add(Notification(incident_id=incident.id, step=REASSIGN_STEP, round=int(now.timestamp()),
                                 user_id=person.id, channel=channel, state=PENDING, next_attempt_at=now,
                                 created_at=now, to=person.phone))
    how = " and ".join(events.channel_name(c) for c in channels)
    events.record(session, incident, kind="reassigned", now=now, user_id=user_id, via=via, detail={
        "message": f"Handed to {person.name} by {_who(session, user_id, via)}" + (" (no longer acknowledged)"
                   if was == ACKNOWLEDGED else "") + f": paging {person.name} by {how}.",
        "to_user_id": person.id, "channels": channels})
    session.flush()
    return incident


def change_severity(session: Session, incident: Incident, *, severity: str, user_id: int | None, via: str,
                    now: datetime) -> Incident:
    """Give the incident another severity: it follows that severity's policy (as the team has it now) from its
    first step, unacknowledged again. The same severity again changes nothing."""
    _check_via(via)
    if severity not in rules.SEVERITIES:
        raise Invalid(f"unknown severity {severity!r}", fields={"severity": [f"One of {', '.join(rules.SEVERITIES)}."]})
    incident = lock(session, incident)
    if incident.status == RESOLVED:
        raise Conflict(f"incident {incident.id} is resolved; its severity cannot change")
    if incident.severity == severity:
        return incident
    before = incident.severity
    team = session.get(Team, incident.team_id)
    # Passes of the new policy are stored after every earlier one (see Snapshot.round_offset).
    used = session.scalar(select(func.max(Notification.round)).where(Notification.incident_id == incident.id,
                                                                      Notification.step >= 0))
    snapshot = replace(escalation.snapshot_for(session, team=team, severity=severity),
                       round_offset=0 if used is None else used + 1)
    state = rules.start(snapshot, now)
    incident.severity = severity
    incident.policy = snapshot.to_json()
    incident.status = TRIGGERED
    incident.acknowledged_at = incident.acknowledged_by_id = incident.acknowledged_via = None
    incident.exhausted_at = None
    engine.save_state(incident, state)
    events.record(session, incident, kind="severity_changed", now=now, user_id=user_id, via=via, detail={
        "message": f"Severity changed from {before} to {severity} by {_who(session, user_id, via)}: following "
                   f"the {severity} policy from its first step.", "from": before, "to": severity,
        "policy_source": snapshot.source})
    engine.advance(session, incident, now=now)
    session.flush()
    return incident


def add_timeline_event(session: Session, incident: Incident, *, kind: str, now: datetime, user_id: int | None = None,
                       via: str | None = None, detail: dict | str | None = None):
    event = events.record(session, incident, kind=kind, now=now, user_id=user_id, via=via, detail=detail)
    session.flush()
    return event


def add_note(session: Session, incident: Incident, *, text: str, user_id: int | None, via: str, now: datetime):
    _check_via(via)
    return add_timeline_event(session, incident, kind="note", now=now, user_id=user_id, via=via,
                              detail={"message": text})


# --- integrations ------------------------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_integration(session: Session, *, team_id: int, type: str, name: str | None = None,
                       created_by_id: int | None = None, now: datetime) -> tuple[Integration, str]:
    """Returns the integration and its token, which is not stored and cannot be shown again."""
    if session.get(Team, team_id) is None:
        raise NotFound(f"team {team_id} does not exist")
    token = INTEGRATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    integration = Integration(team_id=team_id, type=type, name=name, token_hash=_hash(token), created_at=now,
                              created_by_id=created_by_id)
    session.add(integration)
    session.flush()
    return integration, token


def list_integrations(session: Session, *, team_id: int) -> list[Integration]:
    if session.get(Team, team_id) is None:
        raise NotFound(f"team {team_id} does not exist")
    return list(session.scalars(select(Integration).where(Integration.team_id == team_id).order_by(Integration.id)))


def delete_integration(session: Session, *, team_id: int, integration_id: int) -> None:
    integration = session.get(Integration, integration_id)
    if integration is None or integration.team_id != team_id:
        raise NotFound(f"integration {integration_id} does not exist for team {team_id}")
    session.delete(integration)
    session.flush()


def integration_for_token(session: Session, token: str, *, type: str) -> Integration | None:
    return session.scalar(select(Integration).where(Integration.token_hash == _hash(token), Integration.type == type))


def note_integration_use(session: Session, integration: Integration, *, now: datetime) -> None:
    """Stamp last_used_at, to the minute like API tokens (people read it to find integrations that stopped
    sending): under an alert storm every webhook of a team would otherwise update the same row, one after
    another behind its lock. The WHERE repeats the check, so webhooks racing past it write once."""
    if integration.last_used_at is not None and now - integration.last_used_at < LAST_USED_RESOLUTION:
        return
    session.execute(update(Integration).where(
        Integration.id == integration.id,
        or_(Integration.last_used_at.is_(None), Integration.last_used_at <= now - LAST_USED_RESOLUTION),
    ).values(last_used_at=now))


# --- Alertmanager ------------------------------------------------------------------------------------------

def _latest_with_key(session: Session, team_id: int, dedup_key: str) -> Incident | None:
    return session.scalar(select(Incident).where(Incident.team_id == team_id, Incident.dedup_key == dedup_key)
                          .order_by(Incident.id.desc()).limit(1))


def apply_alerts(session: Session, *, integration: Integration, alerts: list, now: datetime) -> list[dict]:
    """Open, join or resolve the team's incidents for each alert (alertmanager.AlertEvent) of a notification.

    Alertmanager repeats a firing alert on every group change and repeat_interval: the same alert (same
    fingerprint and startsAt) never pages again, even once its incident was resolved by hand; a new startsAt
    under the same fingerprint means it fired anew. So does a firing alert after Alertmanager itself resolved
    it: an alert whose endsAt passed (Prometheus restarted, or could not reach it) is merged back with its
    old startsAt once Prometheus sends it again."""
    note_integration_use(session, integration, now=now)
    results = []
    for alert in alerts:
        outcome = {"fingerprint": alert.fingerprint, "status": "firing" if alert.firing else "resolved"}
        latest = _latest_with_key(session, integration.team_id, alert.fingerprint)
        same_firing = (latest is not None and (latest.alert or {}).get("starts_at") == alert.alert["starts_at"]
                       and not (latest.status == RESOLVED and latest.resolved_via == "alertmanager"))
        if not alert.firing:
            if latest is not None and latest.is_open:
                resolve(session, latest, user_id=None, via="alertmanager", now=now)
                outcome |= {"incident_id": latest.id, "action": "resolved"}
            else:
                outcome |= {"incident_id": latest.id if latest else None, "action": "ignored"}
        elif same_firing:
            outcome |= {"incident_id": latest.id, "action": "unchanged"}
        elif latest is not None and latest.is_open:
            retrigger(session, latest, now=now, via="alertmanager", user_id=None,
                      detail={"starts_at": alert.alert["starts_at"]})
            latest.alert = alert.alert
            outcome |= {"incident_id": latest.id, "action": "retriggered"}
        else:
            incident, created = create_incident(
                session, team_id=integration.team_id, severity=alert.severity, title=alert.title, now=now,
                description=alert.description, links=alert.links, dedup_key=alert.fingerprint, via="alertmanager",
                integration_id=integration.id, alert=alert.alert, key_seen_free=True)  # `latest` is closed or None
            outcome |= {"incident_id": incident.id, "action": "created" if created else "retriggered"}
        results.append(outcome)
    session.flush()
    return results
