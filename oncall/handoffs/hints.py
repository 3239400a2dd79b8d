"""Automatic notes for the coming shift: PTO and who covers, overrides, gaps, held SEV4 pages (pure)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from oncall.escalation.policy import BusinessHours, next_business_start
from oncall.handoffs.draft import IncidentFact
from oncall.schedules import timeline


def moment(at: datetime, ref: datetime, tz: ZoneInfo) -> str:
    """An instant as people say it, relative to `ref`: 'today 18:00', 'tomorrow 06:00', 'Wed 18:00',
    'Mar 14 18:00'."""
    local, base = at.astimezone(tz), ref.astimezone(tz)
    days = (local.date() - base.date()).days
    clock = f"{local:%H:%M}"
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if 1 < days < 7:
        return f"{local:%a} {clock}"
    return f"{local:%b} {local.day} {clock}"


def day(at: datetime, ref: datetime, tz: ZoneInfo) -> str:
    """Like moment(), but an end at local midnight is just the day it opens: 'until Friday'."""
    local, base = at.astimezone(tz), ref.astimezone(tz)
    if local.time() != time(0, 0):
        return moment(at, ref, tz)
    days = (local.date() - base.date()).days
    if days == 1:
        return "tomorrow"
    if 1 < days < 7:
        return f"{local:%A}"
    return f"{local:%B} {local.day}"


def _away_until(entries: Sequence[timeline.TimeOff], user_id: int, at: datetime) -> datetime:
    """End of the user's absence containing `at`; touching or overlapping entries are one absence."""
    spans = sorted((t.start_at, t.end_at) for t in entries if t.user_id == user_id)
    end = at
    for s, e in spans:
        if s <= end and e > end:
            end = e
    return end


def schedule_hints(schedule: timeline.Schedule, start_at: datetime, end_at: datetime, *, names: Mapping[int, str],
                   tz: ZoneInfo, override_reasons: Mapping[int, str | None] | None = None) -> list[str]:
    """Sentences about who is away and who covers, overrides and gaps in [start_at, end_at)."""
    override_reasons = override_reasons or {}

    def name(user_id: int | None) -> str:
        return names.get(user_id, f"user {user_id}") if user_id is not None else "nobody"

    hints: list[str] = []
    for piece in timeline.shifts_between(schedule, start_at, end_at):
        starts = "" if piece.start_at <= start_at else f" from {moment(piece.start_at, start_at, tz)}"
        if piece.source == timeline.TIME_OFF:
            back = _away_until(schedule.time_off, piece.covering_for, piece.start_at)
            hint = (f"{name(piece.covering_for)} is on PTO{starts} until {day(back, start_at, tz)}, "
                    f"escalate to {name(piece.user_id)} instead")
        elif piece.source == timeline.OVERRIDE:
            replaced = timeline.base_shift_at(schedule, piece.start_at).user_id
            if replaced == piece.user_id:
                continue
            reason = override_reasons.get(piece.override_id)
            hint = (f"{name(piece.user_id)} covers for {name(replaced)} from {moment(piece.start_at, start_at, tz)} "
                    f"to {moment(piece.end_at, start_at, tz)} (override{': ' + ' '.join(reason.split()) if reason else ''})")
        elif piece.source == timeline.UNCOVERED:
            hint = (f"Nobody is on call from {moment(piece.start_at, start_at, tz)} to "
                    f"{moment(piece.end_at, start_at, tz)}; pages go to the next escalation step")
        else:
            continue
        if not hints or hints[-1] != hint:
            hints.append(hint)
    return hints


def held_sev4_hints(incidents: Sequence[IncidentFact], at: datetime, *, days: Sequence[str], start: time, end: time,
                    tz: ZoneInfo) -> list[str]:
    """Unacknowledged SEV4 incidents whose pages wait for business hours at `at` (PRODUCT.md: SEV4 pages
    are held until the team's next business-hours start; the escalation policy's own clock decides when)."""
    waiting = [i for i in incidents if i.severity == "SEV4" and i.status == "triggered"]
    if not waiting:
        return []
    opens = next_business_start(BusinessHours(tz.key, tuple(days), start, end), at)
    if opens == at:
        return []
    when = moment(opens, at, tz) if opens is not None else "when business hours are set for the team"
    if len(waiting) == 1:
        title = " ".join(waiting[0].title.split())
        return [f"SEV4 \"{title}\" is waiting for business hours; it pages {when}"]
    return [f"{len(waiting)} SEV4 pages are waiting for business hours; they go out {when}"]
