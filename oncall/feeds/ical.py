"""Final shifts to an RFC 5545 calendar (pure: plain data in, bytes out, built with the icalendar package)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from icalendar import Alarm, Calendar, Event, vDatetime, vDuration, vInt, vText, vUri

from oncall.plaintext import free_text, one_line

UTC = timezone.utc
PRODID = "-//oncall//Calendar feeds 1.0//EN"
# RFC 7986 5.7 and its older Microsoft spelling: how often a client should poll. Answers to polls are
# cheap (304), and an override saved now should reach phones soon.
REFRESH = timedelta(minutes=15)
# LAST-MODIFIED of an event no stamp is known for (render_feed called without stamps).
NEVER_STAMPED = datetime(2024, 1, 1, tzinfo=UTC)

SUMMARY_UNCOVERED = "Uncovered: nobody on call"


@dataclass(frozen=True, slots=True)
class FeedCalendar:
    """What the calendar as a whole says: its name, display zone and where events come from."""

    name: str  # X-WR-CALNAME, e.g. "On call: Payments"
    time_zone: str  # IANA name for X-WR-TIMEZONE (display only: every instant is written in UTC)
    scope: str  # 'rotation' | 'team' | 'user'
    scope_id: int
    public_url: str  # ONCALL_PUBLIC_URL without a trailing slash
    host: str  # the right-hand side of every UID


@dataclass(frozen=True, slots=True)
class FeedShift:
    """One final shift of one rotation, with the names the texts need."""

    rotation_id: int
    rotation_name: str
    start_at: datetime  # aware UTC
    end_at: datetime
    user_id: int | None  # None: uncovered
    user_name: str | None
    source: str  # 'rotation' | 'override' | 'time_off' | 'uncovered'
    covering_for_name: str | None = None  # for 'time_off': whose PTO this covers
    override_reason: str | None = None  # for 'override'


@dataclass(frozen=True, slots=True)
class EventStamp:
    """RFC 5545 3.8.7.4 and 3.8.7.3: an event's SEQUENCE grows, and its LAST-MODIFIED moves, exactly when what a
    client shows of it changes (feeds/stamps.py keeps them per UID)."""

    sequence: int
    modified_at: datetime


UNSTAMPED = EventStamp(0, NEVER_STAMPED)


def uid_of(calendar: FeedCalendar, shift: FeedShift) -> str:
    """RFC 5545 3.8.4.7: a UID must stay stable across refreshes so clients update instead of duplicating.

    Rotation, person and start instant survive every unrelated edit; a shift whose start or person changes
    is a different shift (the old one disappears, a new one appears). The feed's scope is part of it
    because the same shift can sit in a person's own feed and in their team's feed, and some clients
    treat equal UIDs in two subscribed calendars as one event.
    """
    person = shift.user_id if shift.user_id is not None else "none"
    return (f"{shift.start_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-r{shift.rotation_id}-u{person}"
            f".{calendar.scope}-{calendar.scope_id}@{calendar.host}")


def fingerprint_of(calendar: FeedCalendar, shift: FeedShift) -> str:
    """A digest of everything a client shows of the event (times, texts, link), stamps and alarm aside: a new
    fingerprint for a UID is a change, so its SEQUENCE must grow; the same one is no change at all."""
    parts = (uid_of(calendar, shift), shift.start_at.astimezone(UTC).isoformat(),
             shift.end_at.astimezone(UTC).isoformat(), summary_of(shift), description_of(calendar, shift),
             rotation_url(calendar, shift.rotation_id))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _line(name: object) -> str:
    # Names are checked at the edge (oncall.fields.Name), but rows stored before that may hold line breaks and
    # control characters: vText escapes "\n" yet passes other controls through, and RFC 5545 3.3.11 allows
    # none in TEXT. The feed must render whatever is stored, so each name is made one line here.
    return one_line(str(name))


def summary_of(shift: FeedShift) -> str:
    rotation = _line(shift.rotation_name)
    if shift.user_id is None:
        return f"{SUMMARY_UNCOVERED} ({rotation})"
    return f"On call: {_line(shift.user_name)} ({rotation})"


def rotation_url(calendar: FeedCalendar, rotation_id: int) -> str:
    return f"{calendar.public_url}/rotations/{rotation_id}"


def description_of(calendar: FeedCalendar, shift: FeedShift) -> str:
    # Names in it are one line (see _line); an override's reason is free text and keeps its lines.
    who, rotation = _line(shift.user_name), _line(shift.rotation_name)
    if shift.source == "override":
        why = f": {free_text(shift.override_reason)}" if shift.override_reason else ""
        text = f"{who} is on call for {rotation} by an override{why}."
    elif shift.source == "time_off":
        text = f"{who} is on call for {rotation}, covering PTO for {_line(shift.covering_for_name or 'a colleague')}."
    elif shift.source == "uncovered":
        text = f"Nobody is on call for {rotation}: everyone who could cover is on time off."
    else:
        text = f"{who} is on call for {rotation} (regular rotation)."
    return f"{text}\n\nRotation: {rotation_url(calendar, shift.rotation_id)}"


def render_feed(calendar: FeedCalendar, shifts: Iterable[FeedShift], *,
                stamps: Mapping[str, EventStamp] | None = None, reminder_minutes: int | None = None) -> bytes:
    """The whole VCALENDAR as bytes: see build_calendar."""
    return serialize(build_calendar(calendar, shifts, stamps=stamps, reminder_minutes=reminder_minutes))


def build_calendar(calendar: FeedCalendar, shifts: Iterable[FeedShift], *,
                   stamps: Mapping[str, EventStamp] | None = None, reminder_minutes: int | None = None) -> Calendar:
    """One VEVENT per shift, in UTC, transparent, never a recurrence rule.

    Times are written in UTC (...Z) rather than local time with TZID: clients disagree about local
    times in a fall-back hour, never about an instant. Each shift is its own VEVENT because clients
    expand RRULEs across DST differently. `stamps` gives each UID its SEQUENCE and LAST-MODIFIED.
    """
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # Written as given (icalendar does not escape X- or unknown properties): a line break in a stored team or
    # user name would end the line, so the name is made one line first.
    name = _line(calendar.name)
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    cal.add("x-wr-timezone", calendar.time_zone)
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))

    # Property objects are built directly (not through Component.add's type inference), and each value
    # once: most repeat (a person's summary, a rotation's URL, the instant one shift ends and the next
    # begins), and a 400-day team feed has thousands of events.
    props: dict[tuple, object] = {}

    def prop(kind, value):
        key = (kind, value)
        made = props.get(key)
        if made is None:
            made = props[key] = kind(value)
        return made

    transparent = vText("TRANSPARENT")
    display = vText("DISPLAY")
    trigger = None if reminder_minutes is None else vDuration(timedelta(minutes=-reminder_minutes))
    stamps = stamps or {}
    for shift in shifts:
        uid = uid_of(calendar, shift)
        known = stamps.get(uid, UNSTAMPED)
        stamp = prop(vDatetime, known.modified_at.astimezone(UTC).replace(microsecond=0))
        summary = prop(vText, summary_of(shift))
        event = Event()
        event["UID"] = vText(uid)
        # Without METHOD, DTSTAMP is when the event's information last changed (RFC 5545 3.8.7.2).
        event["DTSTAMP"] = stamp
        event["LAST-MODIFIED"] = stamp
        event["SEQUENCE"] = prop(vInt, known.sequence)
        event["DTSTART"] = prop(vDatetime, shift.start_at.astimezone(UTC))
        event["DTEND"] = prop(vDatetime, shift.end_at.astimezone(UTC))
        event["SUMMARY"] = summary
        event["DESCRIPTION"] = prop(vText, description_of(calendar, shift))
        event["URL"] = prop(vUri, rotation_url(calendar, shift.rotation_id))
        # A week on call is not a week of meetings: transparent events leave free/busy alone.
        event["TRANSP"] = transparent
        if trigger is not None:
            alarm = Alarm()
            alarm["ACTION"] = display
            alarm["DESCRIPTION"] = summary
            alarm["TRIGGER"] = trigger
            event.add_component(alarm)
        cal.add_component(event)
    return cal


def serialize(cal: Calendar) -> bytes:
    """Exactly cal.to_ical(), several times faster for feeds: build_calendar shares property objects, so each
    distinct property line is made (and, past 75 octets, folded) once instead of once per event."""
    made: dict[tuple, bytes] = {}
    out = []
    # The list holds every value until the end, so id() cannot be reused by another value meanwhile.
    for name, value in cal.property_items(sorted=True):
        # BEGIN/END values and plain texts are new objects each time but equal by content.
        plain = type(value) is bytes or (type(value) is vText and not value.params)
        key = (name, value) if plain else (name, id(value))
        line = made.get(key)
        if line is None:
            content = cal.content_line(name, value, sorted=True)
            raw = content.encode()
            # RFC 5545 3.1: only lines of 75 octets or more need folding.
            line = made[key] = raw if len(raw) < 75 else content.to_ical()
        out.append(line)
    return b"\r\n".join(out) + b"\r\n"
