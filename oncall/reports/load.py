"""Who carried the pager: hours on call, at night and at weekends, and pages, per person (pure).

Night is 22:00-07:00 and the weekend is Saturday and Sunday, both on the person's own wall clock: a person in
Asia/Kolkata on a UTC rotation has their nights in Kolkata. Local boundaries follow the zone's rules (a night
that contains a DST change is an hour shorter or longer, as the person lives it).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from oncall.schedules.timeline import resolve_local

UTC = timezone.utc
NIGHT_STARTS, NIGHT_ENDS = time(22, 0), time(7, 0)
WEEKEND = (5, 6)  # Saturday, Sunday (date.weekday())


@dataclass(slots=True)
class PersonLoad:
    user_id: int
    oncall: timedelta = field(default_factory=timedelta)
    night: timedelta = field(default_factory=timedelta)
    weekend: timedelta = field(default_factory=timedelta)
    weekend_night: timedelta = field(default_factory=timedelta)  # in both: charts stack the three apart
    pages: int = 0
    night_pages: int = 0

    def to_json(self) -> dict:
        hours = 3600
        return {"user_id": self.user_id, "oncall_hours": round(self.oncall.total_seconds() / hours, 2),
                "night_hours": round(self.night.total_seconds() / hours, 2),
                "weekend_hours": round(self.weekend.total_seconds() / hours, 2),
                "pages": self.pages, "night_pages": self.night_pages}


def _days(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Every local date the stretch touches, and the day before (a night starts the evening before)."""
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> timedelta:
    return max(timedelta(0), min(a1, b1) - max(a0, b0))


def night_and_weekend(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[timedelta, timedelta]:
    """How much of [start, end) falls in the person's nights (22:00-07:00) and weekends (Sat 00:00-Mon 00:00)."""
    night, weekend, _both = split(start, end, zone)
    return night, weekend


def split(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[timedelta, timedelta, timedelta]:
    """Night, weekend, and the part that is both (a Saturday's small hours), of [start, end) in `zone`."""
    night = weekend = both = timedelta(0)
    for day in _days(start, end, zone):
        evening = resolve_local(day, NIGHT_STARTS, zone)
        morning = resolve_local(day + timedelta(days=1), NIGHT_ENDS, zone)
        night += _overlap(start, end, evening, morning)
        if day.weekday() in WEEKEND:
            midnight, next_midnight = resolve_local(day, time(0), zone), resolve_local(day + timedelta(days=1), time(0), zone)
            weekend += _overlap(start, end, midnight, next_midnight)
            both += _overlap(start, end, midnight, min(next_midnight, resolve_local(day, NIGHT_ENDS, zone)))
            both += _overlap(start, end, max(midnight, evening), next_midnight)
    return night, weekend, both


def is_night(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone).time()
    return local >= NIGHT_STARTS or local < NIGHT_ENDS


def load_report(shifts: Iterable[tuple[int, datetime, datetime]], pages: Iterable[tuple[int, datetime]],
                zones: dict[int, str], start: datetime, end: datetime) -> list[PersonLoad]:
    """Per person: `shifts` are (user_id, start, end) of final shifts (anyone's, overlapping or not across
    rotations: two rotations at once count twice, as two pagers are carried), clipped to [start, end);
    `pages` are (user_id, sent_at) of pages they received. Sorted by hours on call, most first."""
    people: dict[int, PersonLoad] = {}

    def of(user_id: int) -> PersonLoad:
        return people.setdefault(user_id, PersonLoad(user_id))

    for user_id, lo, hi in shifts:
        lo, hi = max(lo, start), min(hi, end)
        if lo >= hi:
            continue
        person = of(user_id)
        person.oncall += hi - lo
        night, weekend, both = split(lo, hi, ZoneInfo(zones.get(user_id, "UTC")))
        person.night += night
        person.weekend += weekend
        person.weekend_night += both
    for user_id, at in pages:
        if not start <= at < end:
            continue
        person = of(user_id)
        person.pages += 1
        person.night_pages += is_night(at, ZoneInfo(zones.get(user_id, "UTC")))
    return sorted(people.values(), key=lambda p: (-p.oncall, p.user_id))
