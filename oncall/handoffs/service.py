"""Load, compute and write handoffs and watch items. Never commits: the caller owns the transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from oncall.errors import Conflict, Forbidden, Invalid, NotFound
from oncall.handoffs import draft as drafting, hints as hinting, markdown
from oncall.handoffs.models import ACKNOWLEDGED, DRAFT, SUBMITTED, Handoff, WatchItem
from oncall.incidents import events
from oncall.incidents.models import ACKNOWLEDGED as INCIDENT_ACKNOWLEDGED, RESOLVED, Incident
from oncall.people.models import Team, User
from oncall.postmortems import service as postmortems
from oncall.schedules import service as schedules, timeline
from oncall.schedules.models import Override, Rotation

_TICK = timedelta(microseconds=1)
DONE = (SUBMITTED, ACKNOWLEDGED)


# --- watch items -----------------------------------------------------------------------------

def list_watch_items(session: Session, *, team_id: int, state: str = "open") -> list[WatchItem]:
    _team(session, team_id)
    query = select(WatchItem).where(WatchItem.team_id == team_id)
    if state == "open":
        query = query.where(WatchItem.closed_at.is_(None))
    elif state == "closed":
        query = query.where(WatchItem.closed_at.is_not(None))
    return list(session.scalars(query.options(selectinload(WatchItem.added_by), selectinload(WatchItem.closed_by))
                                .order_by(WatchItem.closed_at.desc().nulls_first() if state != "open" else WatchItem.id,
                                          WatchItem.id)))


def get_watch_item(session: Session, *, team_id: int, item_id: int) -> WatchItem:
    item = session.get(WatchItem, item_id)
    if item is None or item.team_id != team_id:
        raise NotFound(f"watch item {item_id} does not exist in team {team_id}")
    return item


def add_watch_item(session: Session, *, team_id: int, text: str, due_on: date | None, added_by_id: int | None,
                   now: datetime, handoff_id: int | None = None) -> WatchItem:
    _team(session, team_id)
    item = WatchItem(team_id=team_id, text=_clean_text(text), due_on=due_on, added_by_id=added_by_id,
                     handoff_id=handoff_id, created_at=now)
    session.add(item)
    session.flush()
    return item


def update_watch_item(session: Session, item: WatchItem, changes: dict, *, user_id: int, now: datetime) -> WatchItem:
    if "text" in changes:
        item.text = _clean_text(changes["text"])
    if "due_on" in changes:
        item.due_on = changes["due_on"]
    if "closed" in changes:
        if changes["closed"] and item.closed_at is None:
            item.closed_at, item.closed_by_id = now, user_id
        elif not changes["closed"] and item.closed_at is not None:
            item.closed_at, item.closed_by_id = None, None
    session.flush()
    return item


def close_watch_item(session: Session, item: WatchItem, *, user_id: int, now: datetime) -> WatchItem:
    return update_watch_item(session, item, {"closed": True}, user_id=user_id, now=now)


def _clean_text(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise Invalid("a watch item needs text", fields={"text": ["Must not be blank."]})
    return text[:500]


def get_team_or_404(session: Session, team_id: int) -> Team:
    return _team(session, team_id)


def _team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} does not exist")
    return team


# --- incidents, as plain facts ------------------------------------------------------------------

def incident_facts(session: Session, *, team_id: int, since: datetime, public_url: str) -> list[drafting.IncidentFact]:
    """Open incidents of the team and those resolved since `since`, as plain data for the pure draft."""
    rows = session.scalars(
        select(Incident).where(Incident.team_id == team_id)
        .where((Incident.status != RESOLVED) | (Incident.resolved_at >= since))
    ).all()
    names = names_of(session, {i.acknowledged_by_id for i in rows})
    return [
        drafting.IncidentFact(
            id=i.id, severity=i.severity, title=i.title, status=i.status, created_at=i.created_at,
            url=f"{public_url}/incidents/{i.id}", code=str(i.code), acknowledged_by=names.get(i.acknowledged_by_id),
            resolved_at=i.resolved_at,
        )
        for i in rows
    ]


def names_of(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def watch_facts(session: Session, *, team_id: int, since: datetime) -> list[drafting.WatchFact]:
    rows = session.scalars(
        select(WatchItem).where(WatchItem.team_id == team_id)
        .where(WatchItem.closed_at.is_(None) | (WatchItem.closed_at >= since))
    ).all()
    names = names_of(session, {w.added_by_id for w in rows} | {w.closed_by_id for w in rows})
    return [drafting.WatchFact(id=w.id, text=w.text, created_at=w.created_at, due_on=w.due_on,
                               added_by=names.get(w.added_by_id), closed_at=w.closed_at,
                               closed_by=names.get(w.closed_by_id)) for w in rows]


# --- drafts -----------------------------------------------------------------------------------

@dataclass
class Draft:
    rotation: Rotation
    team: Team
    shift_change_at: datetime
    next_change_at: datetime  # end of the coming shift
    outgoing_user_id: int | None
    incoming_user_id: int | None
    since: datetime
    sections: dict
    notes: str
    saved: Handoff | None  # a saved, unsubmitted draft for this change

    @property
    def time_zone(self) -> str:
        return self.rotation.current.time_zone


def _taken(session: Session, rotation_id: int, after: datetime) -> list[datetime]:
    return list(session.scalars(select(Handoff.shift_change_at).where(
        Handoff.rotation_id == rotation_id, Handoff.state.in_(DONE), Handoff.shift_change_at >= after)))


def draft_shift_change(session: Session, rotation: Rotation, now: datetime,
                       schedule: timeline.Schedule | None = None, taken: list[datetime] | None = None) -> datetime | None:
    """The shift change a draft for `rotation` is for at `now` (see draft.choose_shift_change). `schedule` may be
    any window's schedule of the rotation (shift changes depend on its versions only); `taken`, the submitted
    changes from now - LATE_WINDOW on, when the caller has read them already."""
    lo = now - drafting.LATE_WINDOW
    if taken is None:
        taken = _taken(session, rotation.id, lo)
    span = schedules.longest_shift(rotation.to_plain())
    hi = min(lo + span * (len(taken) + 2), lo + timeline.MAX_WINDOW)
    if schedule is None:
        schedule = schedules.load_schedules(session, [rotation], lo, hi)[rotation.id]
    return drafting.choose_shift_change(timeline.handoffs_between(schedule, lo, hi), taken, now)


def people_at_change(schedule: timeline.Schedule, at: datetime) -> tuple[int | None, int | None]:
    before = timeline.on_call_at(schedule, at - _TICK) if at - _TICK >= schedule.rotation_start_at else None
    return (before.user_id if before else None), timeline.on_call_at(schedule, at).user_id


def _change_window(schedule: timeline.Schedule, at: datetime, span: timedelta) -> tuple[datetime | None, datetime]:
    """(the shift change before `at`, if any, and the one after it)."""
    earlier = timeline.handoffs_between(schedule, at - span, at)
    later = timeline.handoffs_between(schedule, at + _TICK, at + span)
    return (earlier[-1] if earlier else None), (later[0] if later else at + span)


def _previous_submission(session: Session, rotation_id: int, before: datetime) -> datetime | None:
    return session.scalar(
        select(Handoff.submitted_at).where(Handoff.rotation_id == rotation_id, Handoff.state.in_(DONE),
                                           Handoff.shift_change_at < before)
        .order_by(Handoff.shift_change_at.desc()).limit(1))


def build_draft(session: Session, rotation: Rotation, shift_change_at: datetime, *, now: datetime,
                public_url: str) -> Draft:
    """The prefilled handoff for one shift change of the rotation, as of `now`."""
    team = session.get(Team, rotation.team_id)
    span = schedules.longest_shift(rotation.to_plain())
    schedule = schedules.load_schedules(session, [rotation], shift_change_at - span, shift_change_at + span)[rotation.id]
    outgoing, incoming = people_at_change(schedule, shift_change_at)
    previous_change, next_change = _change_window(schedule, shift_change_at, span)
    began = previous_change if previous_change is not None else min(shift_change_at, rotation.created_at)
    since = drafting.window_start(_previous_submission(session, rotation.id, shift_change_at), began)
    incidents = incident_facts(session, team_id=team.id, since=since, public_url=public_url)
    tz = ZoneInfo(rotation.current.time_zone)
    shift_hints = hinting.schedule_hints(
        schedule, shift_change_at, next_change, names=names_of(session, _people_in(schedule, shift_change_at, next_change)),
        tz=tz, override_reasons=_reasons(session, schedule))
    held = hinting.held_sev4_hints(incidents, max(shift_change_at, now), days=team.business_hours["days"],
                                   start=team.business_start, end=team.business_end, tz=ZoneInfo(team.time_zone))
    follow_ups = postmortems.follow_ups(session, team=team, now=now, public_url=public_url)
    sections = drafting.build_sections(incidents=incidents, watch_items=watch_facts(session, team_id=team.id, since=since),
                                       since=since, as_of=now, hints=shift_hints + held, follow_ups=follow_ups)
    saved = session.scalar(select(Handoff).where(Handoff.rotation_id == rotation.id,
                                                 Handoff.shift_change_at == shift_change_at))
    return Draft(rotation, team, shift_change_at, next_change, outgoing, incoming, since, sections,
                 saved.notes if saved is not None else "", saved)


def _people_in(schedule: timeline.Schedule, start: datetime, end: datetime) -> set[int]:
    people: set[int] = set()
    for piece in timeline.shifts_between(schedule, start, end):
        people.update({piece.user_id, piece.covering_for})
        if piece.source == timeline.OVERRIDE:
            people.add(timeline.base_shift_at(schedule, piece.start_at).user_id)
    return {p for p in people if p is not None}


def _reasons(session: Session, schedule: timeline.Schedule) -> dict[int, str | None]:
    ids = [o.id for o in schedule.overrides if o.id is not None]
    if not ids:
        return {}
    return dict(session.execute(select(Override.id, Override.reason).where(Override.id.in_(ids))).all())


def prepare_draft(session: Session, *, rotation_id: int, now: datetime, public_url: str) -> Draft:
    """The prefilled draft for the rotation's next shift change without a submitted handoff."""
    rotation = schedules.get_rotation(session, rotation_id)
    at = draft_shift_change(session, rotation, now)
    if at is None:
        raise NotFound(f"rotation {rotation_id} has no coming shift change without a handoff")
    return build_draft(session, rotation, at, now=now, public_url=public_url)


def save_handoff(session: Session, *, rotation_id: int, user: User, now: datetime, public_url: str, notes: str = "",
                 new_watch_items: list[dict] | tuple = (), close_watch_item_ids: list[int] | tuple = (),
                 shift_change_at: datetime | None = None, submit: bool = True) -> Handoff:
    """Save the draft's notes or submit the handoff. New watch items become team watch items at once, and
    the ones ticked are closed at once (the handoff then lists them once as closed).

    `shift_change_at` (what the form was opened for) guards against a second submission: if that change
    has been handed off meanwhile this raises Conflict rather than filing the note under the next one."""
    rotation = schedules.get_rotation(session, rotation_id)
    at = draft_shift_change(session, rotation, now)
    if shift_change_at is not None and shift_change_at != at:
        done = session.scalar(select(Handoff.id).where(Handoff.rotation_id == rotation_id, Handoff.state.in_(DONE),
                                                       Handoff.shift_change_at == shift_change_at))
        if done is not None:
            raise Conflict(f"the shift change at {shift_change_at.isoformat()} already has handoff {done}",
                           fields={"shift_change_at": [f"Already handed off (handoff {done})."]})
        raise Invalid("not the shift change a handoff is due for",
                      fields={"shift_change_at": [f"The draft is for {at.isoformat() if at else 'no shift change'}."]})
    if at is None:
        raise NotFound(f"rotation {rotation_id} has no coming shift change without a handoff")
    handoff = session.scalar(select(Handoff).where(Handoff.rotation_id == rotation_id, Handoff.shift_change_at == at)
                             .with_for_update())
    if handoff is not None and handoff.state in DONE:  # another submission won the race
        raise Conflict(f"the shift change at {at.isoformat()} already has handoff {handoff.id}",
                       fields={"shift_change_at": [f"Already handed off (handoff {handoff.id})."]})
    if handoff is None:
        handoff = Handoff(rotation_id=rotation_id, team_id=rotation.team_id, shift_change_at=at, state=DRAFT,
                          notes="", created_at=now, updated_at=now)
        try:
            with session.begin_nested():
                session.add(handoff)
        except IntegrityError as exc:
            raise Conflict("someone else is saving this handoff right now; reload and try again") from exc
    to_close = []
    for item_id in dict.fromkeys(close_watch_item_ids):
        item = session.get(WatchItem, item_id)
        if item is None or item.team_id != rotation.team_id:
            raise Invalid(f"watch item {item_id} is not one of this team's",
                          fields={"close_watch_items": [f"Unknown watch item {item_id}."]})
        to_close.append(item)
    for item in to_close:
        close_watch_item(session, item, user_id=user.id, now=now)
    for item in new_watch_items:
        add_watch_item(session, team_id=rotation.team_id, text=item["text"], due_on=item.get("due_on"),
                       added_by_id=user.id, now=now, handoff_id=handoff.id)
    handoff.notes = notes or ""
    handoff.updated_at = now
    if submit:
        built = build_draft(session, rotation, at, now=now, public_url=public_url)
        handoff.outgoing_user_id, handoff.incoming_user_id = built.outgoing_user_id, built.incoming_user_id
        handoff.sections, handoff.since_at = built.sections, built.since
        handoff.state, handoff.submitted_by_id, handoff.submitted_at = SUBMITTED, user.id, now
    session.flush()
    return handoff


# --- submitted handoffs -----------------------------------------------------------------------

def get_handoff(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"handoff {handoff_id} does not exist")
    return handoff


def list_handoffs(session: Session, *, rotation_id: int, limit: int = 50, before: datetime | None = None) -> list[Handoff]:
    """Submitted handoffs of a rotation, newest shift change first."""
    schedules.get_rotation(session, rotation_id)
    query = select(Handoff).where(Handoff.rotation_id == rotation_id, Handoff.state.in_(DONE))
    if before is not None:
        query = query.where(Handoff.shift_change_at < before)
    return list(session.scalars(query.order_by(Handoff.shift_change_at.desc()).limit(limit)))


def render_markdown(handoff: Handoff, rotation: Rotation, *, now: datetime) -> str:
    sections = handoff.sections or {}
    return markdown.render(shift_change_at=handoff.shift_change_at, time_zone=rotation.current.time_zone,
                           sections=sections, notes=handoff.notes, as_of=handoff.submitted_at or now)


def render_draft_markdown(d: Draft, *, now: datetime) -> str:
    return markdown.render(shift_change_at=d.shift_change_at, time_zone=d.time_zone, sections=d.sections,
                           notes=d.notes, as_of=now)


def may_acknowledge(handoff: Handoff, user: User) -> bool:
    if handoff.incoming_user_id is not None:
        return user.id == handoff.incoming_user_id
    # Nobody was due on call: the team's admins take the note.
    return user.is_admin or any(m.team_id == handoff.team_id and m.role == "admin" for m in user.memberships)


def acknowledge(session: Session, *, handoff_id: int, user: User, now: datetime) -> Handoff:
    """The incoming on-call takes the handoff; incidents the outgoing one had acknowledged pass to them at the
    shift change (now, if it has come; otherwise the worker's pass_incidents_due does it then, as the pager
    itself changes hands by the schedule). Acknowledging twice changes nothing."""
    handoff = session.scalar(select(Handoff).where(Handoff.id == handoff_id).with_for_update())
    if handoff is None:
        raise NotFound(f"handoff {handoff_id} does not exist")
    if handoff.state == DRAFT:
        raise Conflict("this handoff has not been submitted yet", fields={"state": ["Still a draft."]})
    if not may_acknowledge(handoff, user):
        raise Forbidden("only the incoming on-call of this shift change may acknowledge its handoff")
    if handoff.state == ACKNOWLEDGED:
        return handoff
    handoff.state, handoff.acknowledged_by_id, handoff.acknowledged_at = ACKNOWLEDGED, user.id, now
    handoff.updated_at = now
    if handoff.shift_change_at <= now:
        transfer_incidents(session, handoff=handoff, now=now)
        handoff.incidents_passed_at = now
    session.flush()
    return handoff


def pass_incidents_due(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    """Handoffs acknowledged before their shift change pass the outgoing on-call's incidents once it has come.
    Each handoff once, whichever worker gets it (row locks, skipping ones another worker holds). Returns the
    handoff ids done."""
    due = session.scalars(
        select(Handoff).where(Handoff.state == ACKNOWLEDGED, Handoff.incidents_passed_at.is_(None),
                              Handoff.shift_change_at <= now)
        .order_by(Handoff.shift_change_at).limit(limit).with_for_update(skip_locked=True)).all()
    for handoff in due:
        transfer_incidents(session, handoff=handoff, now=now)
        handoff.incidents_passed_at = now
    session.flush()
    return [h.id for h in due]


def transfer_incidents(session: Session, *, handoff: Handoff, now: datetime) -> list[int]:
    """Open incidents the outgoing on-call had acknowledged pass to the incoming one, so nothing stays with
    someone who has gone off shift; each incident's timeline says so. Returns the ids moved."""
    outgoing, incoming = handoff.outgoing_user_id, handoff.incoming_user_id
    if outgoing is None or incoming is None or outgoing == incoming:
        return []
    rows = session.scalars(
        select(Incident).where(Incident.team_id == handoff.team_id, Incident.status == INCIDENT_ACKNOWLEDGED,
                               Incident.acknowledged_by_id == outgoing)
        .order_by(Incident.id).with_for_update()
    ).all()
    names = names_of(session, {outgoing, incoming})
    rotation_name = session.scalar(select(Rotation.name).where(Rotation.id == handoff.rotation_id))
    for incident in rows:
        incident.acknowledged_by_id = incoming
        events.record(session, incident, kind="note", now=now, user_id=incoming, via="handoff", detail={
            "message": f"Passed from {names.get(outgoing)} to {names.get(incoming)}, who acknowledged the "
                       f"{rotation_name} handoff.",
            "reason": "handoff", "handoff_id": handoff.id, "from_user_id": outgoing, "to_user_id": incoming})
    session.flush()
    return [i.id for i in rows]


def dashboard_status(session: Session, rotations: list[Rotation], plans: dict[int, timeline.Schedule], *,
                     user: User, now: datetime) -> dict[int, dict]:
    """For each rotation, what the reader can do about handoffs: the shift change its draft is for (overdue once
    that change has passed), whether the draft is theirs to write, and the newest submitted handoff still
    waiting for acknowledgement. Three queries whatever the number of rotations."""
    if not rotations:
        return {}
    ids = [r.id for r in rotations]
    pending: dict[int, Handoff] = {}
    for h in session.scalars(select(Handoff).where(Handoff.rotation_id.in_(ids), Handoff.state == SUBMITTED)
                             .order_by(Handoff.shift_change_at)):
        pending[h.rotation_id] = h
    saved = {(rid, at) for rid, at in session.execute(select(Handoff.rotation_id, Handoff.shift_change_at).where(
        Handoff.rotation_id.in_(ids), Handoff.state == DRAFT))}
    taken: dict[int, list[datetime]] = {rid: [] for rid in ids}
    for rid, at in session.execute(select(Handoff.rotation_id, Handoff.shift_change_at).where(
            Handoff.rotation_id.in_(ids), Handoff.state.in_(DONE), Handoff.shift_change_at >= now - drafting.LATE_WINDOW)):
        taken[rid].append(at)
    out: dict[int, dict] = {}
    for rotation in rotations:
        schedule = plans[rotation.id]
        at = draft_shift_change(session, rotation, now, schedule=schedule, taken=taken[rotation.id])
        outgoing = people_at_change(schedule, at)[0] if at is not None else None
        h = pending.get(rotation.id)
        out[rotation.id] = {
            "draft_for": at,
            "draft_overdue": at is not None and at <= now,
            "draft_is_mine": outgoing is not None and outgoing == user.id,
            "draft_saved": (rotation.id, at) in saved,
            "pending": h,
            "pending_is_mine": h is not None and may_acknowledge(h, user),
        }
    return out
