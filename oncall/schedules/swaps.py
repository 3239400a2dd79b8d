"""Shift swaps: the person on call (or a team admin) asks a teammate, or the whole team, to take part of a
rotation; accepting creates the override. Everyone involved hears by SMS through the paging outbox. Never
commits."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from oncall.errors import Conflict, Forbidden, Invalid, NotFound
from oncall.paging import outbox
from oncall.people.models import TeamMember, User
from oncall.schedules import service as schedules, timeline
from oncall.schedules.models import SwapRequest

OPEN, ACCEPTED, DECLINED, EXPIRED = "open", "accepted", "declined", "expired"
STATES = (OPEN, ACCEPTED, DECLINED, EXPIRED)


def _when(start_at: datetime, end_at: datetime, zone: str) -> str:
    tz = ZoneInfo(zone)
    a, b = start_at.astimezone(tz), end_at.astimezone(tz)
    return f"{a:%a %b} {a.day} {a:%H:%M} - {b:%a %b} {b.day} {b:%H:%M} {b:%Z}"


def _members(session: Session, team_id: int) -> set[int]:
    return set(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)))


def get_swap(session: Session, swap_id: int, *, lock: bool = False) -> SwapRequest:
    query = select(SwapRequest).where(SwapRequest.id == swap_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    swap = session.scalar(query)
    if swap is None:
        raise NotFound(f"swap request {swap_id} does not exist")
    return swap


def create(session: Session, *, rotation_id: int, requester: User, start_at: datetime, end_at: datetime,
           to_user_id: int | None = None, reason: str | None = None, now: datetime, public_url: str) -> SwapRequest:
    """Ask for [start_at, end_at) to be taken. Only whoever is on call for all of it, or a team admin, may ask;
    it must lie ahead; the person asked must be another member of the team (None asks the whole team)."""
    rotation = schedules.get_rotation(session, rotation_id)
    members = _members(session, rotation.team_id)
    if end_at <= start_at:
        raise Invalid("end must be after start", fields={"end": ["Must be after start."]})
    if start_at <= now:
        raise Invalid("a swap must start in the future", fields={"start": ["Must be in the future."]})
    schedule = schedules.load_schedules(session, [rotation], start_at, end_at)[rotation.id]
    holders = {s.user_id for s in timeline.shifts_between(schedule, start_at, end_at)}
    team_admin = requester.is_admin or any(m.team_id == rotation.team_id and m.role == "admin"
                                           for m in requester.memberships)
    if holders != {requester.id} and not team_admin:
        raise Forbidden("only the person on call for all of that time, or a team admin, may ask for a swap")
    if to_user_id is not None and (to_user_id not in members or to_user_id == requester.id):
        raise Invalid(f"user {to_user_id} is not another member of the team",
                      fields={"to_user_id": ["Choose another member of the rotation's team."]})
    swap = SwapRequest(rotation_id=rotation.id, team_id=rotation.team_id, requester_id=requester.id,
                       to_user_id=to_user_id, start_at=start_at, end_at=end_at, reason=reason, state=OPEN,
                       created_at=now)
    session.add(swap)
    session.flush()
    asked = [to_user_id] if to_user_id is not None else sorted(members - {requester.id})
    for person in session.scalars(select(User).where(User.id.in_(asked))):
        body = (f"{requester.name} asks {'you' if to_user_id else 'the team'} to take {rotation.name} "
                f"{_when(start_at, end_at, person.time_zone)}" + (f" ({reason})" if reason else "") +
                f". Accept or decline: {public_url}/")
        outbox.queue_message(session, user=person, body=body, now=now)
    session.flush()
    return swap


def _decide(session: Session, swap_id: int, user: User, now: datetime) -> SwapRequest:
    swap = get_swap(session, swap_id, lock=True)
    asked = swap.to_user_id == user.id if swap.to_user_id is not None else (
        user.id != swap.requester_id and user.id in _members(session, swap.team_id))
    if not asked:
        raise Forbidden("only the person asked (anyone else in the team, when the team was asked) may answer")
    state = swap.state_at(now)
    if state != OPEN:
        raise Conflict(f"this swap request is already {state}", fields={"state": [f"Already {state}."]})
    return swap


def _tell_requester(session: Session, swap: SwapRequest, text: str, now: datetime) -> None:
    requester = session.get(User, swap.requester_id)
    if requester is not None:
        outbox.queue_message(session, user=requester, body=text, now=now)


def accept(session: Session, *, swap_id: int, user: User, now: datetime) -> SwapRequest:
    """Take the asked time: an override puts `user` on call for it, and the requester is told. The swap row
    is locked first, so of two answers racing exactly one wins; the other gets a 409."""
    swap = _decide(session, swap_id, user, now)
    rotation = schedules.get_rotation(session, swap.rotation_id)
    requester_name = session.scalar(select(User.name).where(User.id == swap.requester_id))
    _make_room(session, swap, now)
    override = schedules.add_override(session, rotation_id=swap.rotation_id, user_id=user.id, start_at=swap.start_at,
                                      end_at=swap.end_at, reason=f"swap with {requester_name}",
                                      created_by_id=user.id, now=now)
    swap.state, swap.decided_at, swap.decided_by_id, swap.override_id = ACCEPTED, now, user.id, override.id
    requester = session.get(User, swap.requester_id)
    _tell_requester(session, swap, f"{user.name} accepted: they take {rotation.name} "
                                   f"{_when(swap.start_at, swap.end_at, requester.time_zone)}.", now)
    session.flush()
    return swap


def _make_room(session: Session, swap: SwapRequest, now: datetime) -> None:
    """The requester may be on call for the asked time through an override of their own (an earlier swap, a
    cover): the part of it inside the swap passes to whoever accepts, the rest stays theirs. An override of
    anyone else there means the schedule changed since the request: 409."""
    overlapping = [o for o in schedules.list_overrides(session, swap.rotation_id, swap.start_at, swap.end_at)]
    others = [o for o in overlapping if o.user_id != swap.requester_id]
    if others:
        raise Conflict(f"override {others[0].id} now covers part of this time; the request no longer matches the "
                       "schedule", fields={"start": [f"Overlaps override {others[0].id}."]})
    for mine in overlapping:
        before = (mine.start_at, swap.start_at) if mine.start_at < swap.start_at else None
        after = (swap.end_at, mine.end_at) if mine.end_at > swap.end_at else None
        if before is None and after is None:
            schedules.delete_override(session, mine, now=now)
            continue
        first, second = before or after, after if before else None
        schedules.update_override(session, mine, {"start_at": first[0], "end_at": first[1]}, now=now)
        if second is not None:
            schedules.add_override(session, rotation_id=swap.rotation_id, user_id=mine.user_id, start_at=second[0],
                                   end_at=second[1], reason=mine.reason, created_by_id=mine.created_by_id, now=now)


def decline(session: Session, *, swap_id: int, user: User, now: datetime) -> SwapRequest:
    swap = _decide(session, swap_id, user, now)
    rotation = schedules.get_rotation(session, swap.rotation_id)
    swap.state, swap.decided_at, swap.decided_by_id = DECLINED, now, user.id
    requester = session.get(User, swap.requester_id)
    _tell_requester(session, swap, f"{user.name} declined to take {rotation.name} "
                                   f"{_when(swap.start_at, swap.end_at, requester.time_zone)}.", now)
    session.flush()
    return swap


def list_for_team(session: Session, *, team_id: int, state: str | None, now: datetime) -> list[SwapRequest]:
    """The team's requests, soonest first; `state` open/expired are told apart by the clock."""
    query = select(SwapRequest).where(SwapRequest.team_id == team_id)
    if state == OPEN:
        query = query.where(SwapRequest.state == OPEN, SwapRequest.start_at > now)
    elif state == EXPIRED:
        query = query.where(SwapRequest.state == OPEN, SwapRequest.start_at <= now)
    elif state is not None:
        query = query.where(SwapRequest.state == state)
    return list(session.scalars(query.order_by(SwapRequest.start_at, SwapRequest.id).limit(500)))


def open_for(session: Session, *, user: User, team_ids: set[int], now: datetime) -> list[SwapRequest]:
    """Open requests the user may answer (asked by name, or their team asked) or is waiting on: one query."""
    if not team_ids:
        return []
    return list(session.scalars(
        select(SwapRequest).where(SwapRequest.state == OPEN, SwapRequest.start_at > now,
                                  SwapRequest.team_id.in_(team_ids),
                                  or_(SwapRequest.to_user_id == user.id, SwapRequest.requester_id == user.id,
                                      SwapRequest.to_user_id.is_(None)))
        .order_by(SwapRequest.start_at, SwapRequest.id)))
