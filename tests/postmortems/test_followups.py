"""When a postmortem is late, and the follow-ups a handoff lists (pure)."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from oncall.postmortems import followups

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
WEEK = ("mon", "tue", "wed", "thu", "fri")


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


@pytest.mark.parametrize("resolved, due", [
    (ny(2026, 3, 2, 10, 0), ny(2026, 3, 9, 10, 0)),  # Monday -> next Monday, same time
    (ny(2026, 3, 6, 16, 30), ny(2026, 3, 13, 16, 30)),  # Friday -> next Friday
    (ny(2026, 3, 4, 23, 0), ny(2026, 3, 11, 23, 0)),  # Wednesday night
    (ny(2026, 3, 7, 11, 0), ny(2026, 3, 14, 0, 0)),  # Saturday: the end of the fifth business day (Fri 13th)
    (ny(2026, 3, 8, 11, 0), ny(2026, 3, 14, 0, 0)),  # Sunday, DST starts in New York that night
    (ny(2026, 3, 6, 10, 0), ny(2026, 3, 13, 10, 0)),  # across the DST change: 10:00 local stays 10:00
])
def test_postmortem_due_after_five_business_days(resolved, due):
    assert followups.postmortem_due_at(resolved.astimezone(UTC), days=WEEK, tz=NY) == due


def test_without_business_days_every_day_counts():
    assert followups.postmortem_due_at(ny(2026, 3, 7, 11, 0), days=(), tz=NY) == ny(2026, 3, 12, 11, 0)


def test_watch_entries_lists_late_postmortems_then_overdue_items():
    now = ny(2026, 3, 16, 12, 0).astimezone(UTC)
    missing = [
        followups.MissingPostmortem(2, "SEV2", "Slow search", ny(2026, 3, 9, 9, 0), "https://x/incidents/2/postmortem"),
        followups.MissingPostmortem(1, "SEV1", "Checkout down", ny(2026, 3, 2, 9, 0), "https://x/incidents/1/postmortem"),
        followups.MissingPostmortem(3, "SEV1", "Too recent", ny(2026, 3, 13, 9, 0), "https://x/incidents/3/postmortem"),
    ]
    items = [
        followups.OpenItem(7, 1, "Add an alert", "Alice", date(2026, 3, 15), "https://x/incidents/1/postmortem"),
        followups.OpenItem(8, 1, "Due today", None, date(2026, 3, 16), "https://x/incidents/1/postmortem"),
        followups.OpenItem(9, 2, "Runbook", None, date(2026, 3, 1), "https://x/incidents/2/postmortem"),
    ]
    entries = followups.watch_entries(missing=missing, items=items, now=now, today=date(2026, 3, 16), days=WEEK, tz=NY)
    assert [(e["kind"], e["incident_id"]) for e in entries] == [
        ("postmortem", 1), ("postmortem", 2), ("action_item", 2), ("action_item", 1)]
    assert entries[0]["text"] == "Postmortem due: SEV1 Checkout down (resolved 2026-03-02)"
    assert entries[3]["text"] == "Action item overdue: Add an alert (Alice)" and entries[3]["due_on"] == "2026-03-15"
    assert all(e["url"].startswith("https://x/incidents/") for e in entries)
