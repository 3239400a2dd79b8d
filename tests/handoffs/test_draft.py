"""Which shift change a draft is for, and the automatic sections (pure)."""
from datetime import date, datetime, timedelta, timezone

import pytest

from oncall.handoffs.draft import IncidentFact, WatchFact, build_sections, choose_shift_change, window_start

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 09:00 New York
WEEK = timedelta(weeks=1)
CHANGES = [T0, T0 + WEEK, T0 + 2 * WEEK]


@pytest.mark.parametrize("now, taken, expected", [
    (T0 - timedelta(days=1), [], T0),                                    # upcoming change
    (T0 - timedelta(days=1), [T0], T0 + WEEK),                           # upcoming one already handed off
    (T0 + timedelta(minutes=59), [], T0),                                # just after: still late-writable
    (T0 + timedelta(hours=1), [], T0),                                   # exactly the late window
    (T0 + timedelta(hours=1, seconds=1), [], T0 + WEEK),                 # too late: next change
    (T0 + timedelta(minutes=5), [T0], T0 + WEEK),
    (T0 - timedelta(days=1), [T0, T0 + WEEK], T0 + 2 * WEEK),
    (T0 - timedelta(days=1), [T0, T0 + WEEK, T0 + 2 * WEEK], None),      # nothing left in the list
    (T0 + 3 * WEEK, [], None),
])
def test_choose_shift_change(now, taken, expected):
    assert choose_shift_change(CHANGES, taken, now) == expected


def test_choose_shift_change_ignores_input_order():
    assert choose_shift_change(list(reversed(CHANGES)), [], T0 - timedelta(days=1)) == T0


@pytest.mark.parametrize("previous, began, expected", [
    (None, T0, T0),
    (T0 + timedelta(hours=3), T0, T0 + timedelta(hours=3)),
    (T0 - timedelta(minutes=10), T0, T0 - timedelta(minutes=10)),  # submitted before its change
])
def test_window_start(previous, began, expected):
    assert window_start(previous, began) == expected


def inc(id, severity="SEV2", status="triggered", created=T0, resolved=None, by=None):
    return IncidentFact(id=id, severity=severity, title=f"Incident {id}", status=status, created_at=created,
                        url=f"https://oncall.example.com/incidents/{id}", code=str(id), acknowledged_by=by,
                        resolved_at=resolved)


SINCE = T0
AS_OF = T0 + timedelta(days=6)


@pytest.mark.parametrize("incidents, active, resolved", [
    ([], [], []),
    ([inc(1)], [1], []),
    ([inc(1, status="acknowledged", by="Bob")], [1], []),
    # most severe first, then oldest
    ([inc(1, "SEV3"), inc(2, "SEV1", created=T0 + timedelta(hours=2)), inc(3, "SEV1")], [3, 2, 1], []),
    # resolved inside the window and at its closed end; at its open start the previous handoff had it
    ([inc(1, status="resolved", resolved=SINCE + timedelta(seconds=1)), inc(2, status="resolved", resolved=AS_OF),
      inc(3, status="resolved", resolved=SINCE), inc(4, status="resolved", resolved=AS_OF + timedelta(seconds=1))],
     [], [1, 2]),
    ([inc(1, status="resolved", resolved=T0 + timedelta(days=2)), inc(2, status="resolved", resolved=T0 + timedelta(days=1))],
     [], [2, 1]),
])
def test_incident_sections(incidents, active, resolved):
    sections = build_sections(incidents=incidents, watch_items=[], since=SINCE, as_of=AS_OF)
    assert [i["incident_id"] for i in sections["active_issues"]] == active
    assert [i["incident_id"] for i in sections["recently_resolved"]] == resolved


def test_active_issue_fields_are_json_ready():
    [item] = build_sections(incidents=[inc(7, status="acknowledged", by="Bob")], watch_items=[], since=SINCE,
                            as_of=AS_OF)["active_issues"]
    assert item == {"incident_id": 7, "code": "7", "severity": "SEV2", "title": "Incident 7", "status": "acknowledged",
                    "created_at": "2026-03-02T14:00:00Z", "acknowledged_by": "Bob",
                    "url": "https://oncall.example.com/incidents/7"}


def watch(id, due=None, created=T0, closed=None, by=None):
    return WatchFact(id=id, text=f"Watch {id}", created_at=created, due_on=due, added_by="Alice", closed_at=closed,
                     closed_by=by)


@pytest.mark.parametrize("items, open_ids, closed_ids", [
    ([], [], []),
    ([watch(1), watch(2)], [1, 2], []),
    # soonest due first, undated last
    ([watch(1), watch(2, due=date(2026, 3, 9)), watch(3, due=date(2026, 3, 5))], [3, 2, 1], []),
    # closed in the window: listed once as closed; closed before it: gone
    ([watch(1, closed=T0 + timedelta(days=1), by="Bob"), watch(2, closed=T0 - timedelta(hours=1))], [], [1]),
    ([watch(1), watch(2, closed=AS_OF)], [1], [2]),
    ([watch(1, closed=SINCE)], [], []),  # closed as the previous handoff was submitted: it listed it
])
def test_watch_sections(items, open_ids, closed_ids):
    sections = build_sections(incidents=[], watch_items=items, since=SINCE, as_of=AS_OF)
    assert [w["id"] for w in sections["watch_items"]] == open_ids
    assert [w["id"] for w in sections["closed_watch_items"]] == closed_ids


def test_hints_are_carried():
    sections = build_sections(incidents=[], watch_items=[], since=SINCE, as_of=AS_OF, hints=["Bob is on PTO"])
    assert sections["hints"] == ["Bob is on PTO"]
