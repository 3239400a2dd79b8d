"""Rendering plain shifts to iCalendar bytes (pure): read back by two independent parsers."""
import re
from datetime import datetime, timedelta, timezone

import icalendar
import pytest
import vobject

from oncall.feeds import ical
from oncall.plaintext import one_line
from tests.test_fields import NOT_IN_A_NAME

UTC = timezone.utc
CAL = ical.FeedCalendar(name="On call: Payments, EU; \"night\"", time_zone="Europe/London", scope="team", scope_id=4,
                        public_url="https://oncall.example.com", host="oncall.example.com")
CHANGED = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def shift(start: datetime, hours: int = 24, **kw) -> ical.FeedShift:
    base = dict(rotation_id=7, rotation_name="Payments primary", start_at=start, end_at=start + timedelta(hours=hours),
                user_id=3, user_name="Alice", source="rotation")
    return ical.FeedShift(**(base | kw))


SHIFTS = [
    shift(datetime(2026, 3, 28, 0, 30, tzinfo=UTC)),
    shift(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), hours=23, user_id=5, user_name="Zoë Ñúñez, Jr.; \"Z\"",
          source="override", override_reason="swap; back at 10:00, promise\nsecond line"),
    shift(datetime(2026, 3, 30, 0, 30, tzinfo=UTC), user_id=6, user_name="Carol", source="time_off",
          covering_for_name="Bob"),
    shift(datetime(2026, 3, 31, 0, 30, tzinfo=UTC), user_id=None, user_name=None, source="uncovered"),
    shift(datetime(2026, 4, 1, 0, 30, tzinfo=UTC), rotation_name="A rotation with a very long name that will need"
          " folding because it goes past seventy-five octets — ünïcödé included"),
]


def test_calendar_properties():
    body = ical.render_feed(CAL, SHIFTS)
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == ical.PRODID
    assert str(calendar["X-WR-CALNAME"]) == CAL.name
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/London"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT15M" in body
    assert b"RRULE" not in body and b"TZID" not in body and b"VTIMEZONE" not in body
    assert all(len(line) <= 75 for line in body.split(b"\r\n")), "lines are folded at 75 octets"


def test_one_transparent_utc_event_per_shift_with_stable_identity():
    stamps = {ical.uid_of(CAL, s): ical.EventStamp(i + 1, CHANGED + timedelta(hours=i)) for i, s in enumerate(SHIFTS)}
    body = ical.render_feed(CAL, SHIFTS, stamps=stamps)
    events = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert len(events) == len(SHIFTS)
    for i, (event, s) in enumerate(zip(events, SHIFTS)):
        assert event.decoded("DTSTART") == s.start_at and event.decoded("DTEND") == s.end_at
        assert event["DTSTART"].to_ical().endswith(b"Z") and event["DTEND"].to_ical().endswith(b"Z")
        assert str(event["TRANSP"]) == "TRANSPARENT"
        assert str(event["UID"]) == ical.uid_of(CAL, s)
        modified = (CHANGED + timedelta(hours=i)).replace(microsecond=0)
        assert event.decoded("DTSTAMP") == event.decoded("LAST-MODIFIED") == modified
        assert int(event["SEQUENCE"]) == i + 1
        assert str(event["URL"]) == "https://oncall.example.com/rotations/7"
        assert "https://oncall.example.com/rotations/7" in str(event["DESCRIPTION"])
        assert not event.walk("VALARM")
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_texts_name_the_person_rotation_and_source():
    events = icalendar.Calendar.from_ical(ical.render_feed(CAL, SHIFTS)).walk("VEVENT")
    summaries = [str(e["SUMMARY"]) for e in events]
    assert summaries[0] == "On call: Alice (Payments primary)"
    assert summaries[1] == "On call: Zoë Ñúñez, Jr.; \"Z\" (Payments primary)"
    assert summaries[3] == "Uncovered: nobody on call (Payments primary)"
    descriptions = [str(e["DESCRIPTION"]) for e in events]
    assert descriptions[0].startswith("Alice is on call for Payments primary (regular rotation).")
    assert "by an override: swap; back at 10:00, promise\nsecond line." in descriptions[1]
    assert descriptions[2].startswith("Carol is on call for Payments primary, covering PTO for Bob.")
    assert descriptions[3].startswith("Nobody is on call for Payments primary")


def test_vobject_reads_the_same_events():
    body = ical.render_feed(CAL, SHIFTS, reminder_minutes=30)
    mine = icalendar.Calendar.from_ical(body).walk("VEVENT")
    theirs = vobject.readOne(body.decode()).vevent_list
    assert [(e.uid.value, e.dtstart.value, e.dtend.value, e.summary.value, e.description.value) for e in theirs] == [
        (str(e["UID"]), e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"]), str(e["DESCRIPTION"]))
        for e in mine
    ]
    for e in theirs:
        assert e.dtstart.value.utcoffset() == timedelta(0)


@pytest.mark.parametrize("minutes", [0, 30, 1440])
def test_reminder_adds_one_display_alarm_before_each_shift(minutes):
    events = icalendar.Calendar.from_ical(ical.render_feed(CAL, SHIFTS, reminder_minutes=minutes)).walk("VEVENT")
    for event in events:
        (alarm,) = event.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY"
        assert alarm.decoded("TRIGGER") == -timedelta(minutes=minutes)
        assert str(alarm["DESCRIPTION"]) == str(event["SUMMARY"])


def test_same_input_same_bytes_and_empty_calendar_is_valid():
    assert ical.render_feed(CAL, SHIFTS) == ical.render_feed(CAL, list(SHIFTS))
    empty = icalendar.Calendar.from_ical(ical.render_feed(CAL, []))
    assert empty.walk("VEVENT") == [] and str(empty["X-WR-CALNAME"]) == CAL.name
    assert vobject.readOne(ical.render_feed(CAL, []).decode()).name == "VCALENDAR"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ({}, {"end_at": datetime(2026, 3, 30, tzinfo=UTC)}, True),  # a shortened shift stays the same event
        ({}, {"source": "override"}, True),
        ({}, {"user_id": 9}, False),  # another person is another shift
        ({}, {"start_at": datetime(2026, 3, 28, 1, tzinfo=UTC)}, False),
        ({}, {"rotation_id": 8}, False),
    ],
)
def test_uid_depends_on_rotation_person_and_start_only(a, b, same):
    base = SHIFTS[0]
    first = ical.uid_of(CAL, ical.FeedShift(**({f: getattr(base, f) for f in base.__slots__} | a)))
    second = ical.uid_of(CAL, ical.FeedShift(**({f: getattr(base, f) for f in base.__slots__} | b)))
    assert (first == second) is same
    assert first.endswith("@oncall.example.com")


def test_uid_differs_between_feeds_of_different_scope():
    other = ical.FeedCalendar(**{f: getattr(CAL, f) for f in CAL.__slots__} | {"scope": "user", "scope_id": 3})
    assert ical.uid_of(CAL, SHIFTS[0]) != ical.uid_of(other, SHIFTS[0])


def _with(base: ical.FeedShift, **changes) -> ical.FeedShift:
    return ical.FeedShift(**({f: getattr(base, f) for f in base.__slots__} | changes))


@pytest.mark.parametrize("change", [
    {"end_at": SHIFTS[0].end_at - timedelta(hours=1)},
    {"start_at": SHIFTS[0].start_at + timedelta(hours=1)},
    {"user_name": "Alice B."},
    {"rotation_name": "Payments"},
    {"source": "override"},
    {"source": "override", "override_reason": "swap"},
    {"source": "time_off", "covering_for_name": "Bob"},
    {"rotation_id": 8},
])
def test_the_fingerprint_changes_with_whatever_a_client_shows(change):
    assert ical.fingerprint_of(CAL, _with(SHIFTS[0], **change)) != ical.fingerprint_of(CAL, SHIFTS[0])


def test_the_fingerprint_is_the_same_for_the_same_event_and_differs_by_feed():
    assert ical.fingerprint_of(CAL, _with(SHIFTS[0])) == ical.fingerprint_of(CAL, SHIFTS[0])
    other = ical.FeedCalendar(**{f: getattr(CAL, f) for f in CAL.__slots__} | {"public_url": "https://x.example"})
    assert ical.fingerprint_of(other, SHIFTS[0]) != ical.fingerprint_of(CAL, SHIFTS[0])


@pytest.mark.parametrize("minutes", [None, 15])
def test_fast_serialization_is_byte_for_byte_icalendars_own(minutes):
    calendar = ical.build_calendar(CAL, SHIFTS * 3, reminder_minutes=minutes)
    assert ical.serialize(calendar) == calendar.to_ical()
    assert ical.render_feed(CAL, SHIFTS * 3, reminder_minutes=minutes) == calendar.to_ical()


@pytest.mark.parametrize("char", list(NOT_IN_A_NAME.values()), ids=list(NOT_IN_A_NAME))
def test_any_stored_name_renders_as_one_line(char):
    """Rows stored before names were checked: every name and reason holding each control character or line
    break still renders one property per line, the same events, and no control character (tabs aside)."""
    poison = f"Eve{char}END:VEVENT{char}BEGIN:VEVENT{char}UID:injected"
    calendar = ical.FeedCalendar(**{f: getattr(CAL, f) for f in CAL.__slots__} | {"name": f"On call: {poison}"})
    shifts = [shift(s.start_at, hours=int((s.end_at - s.start_at).total_seconds() // 3600), user_id=s.user_id,
                    source=s.source, user_name=s.user_name and poison, rotation_name=f"Primary {poison}",
                    override_reason=s.override_reason and poison, covering_for_name=s.covering_for_name and poison)
              for s in SHIFTS]
    body = ical.render_feed(calendar, shifts, reminder_minutes=10)
    lines = body.split(b"\r\n")
    assert lines.count(b"BEGIN:VEVENT") == lines.count(b"END:VEVENT") == len(SHIFTS)
    assert not any(re.search(rb"[\x00-\x08\x0a-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]", line) for line in lines)
    events = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [ical.uid_of(calendar, s) for s in shifts]
    assert str(events[0]["SUMMARY"]) == f"On call: {one_line(poison)} (Primary {one_line(poison)})"
    assert str(icalendar.Calendar.from_ical(body)["X-WR-CALNAME"]) == f"On call: {one_line(poison)}"
    assert [e.uid.value for e in vobject.readOne(body.decode()).vevent_list] == [str(e["UID"]) for e in events]
