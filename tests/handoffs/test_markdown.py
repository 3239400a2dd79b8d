"""Handoff Markdown in PRODUCT.md's shape (pure)."""
from datetime import datetime, timedelta, timezone

import pytest

from oncall.handoffs.markdown import format_age, note_lines, render

UTC = timezone.utc
CHANGE = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # 09:00 in New York
EMPTY = {"active_issues": [], "recently_resolved": [], "watch_items": [], "closed_watch_items": [], "hints": []}


@pytest.mark.parametrize("age, text", [
    (timedelta(seconds=30), "<1m"),
    (timedelta(minutes=1), "1m"),
    (timedelta(minutes=59, seconds=59), "59m"),
    (timedelta(hours=1), "1h"),
    (timedelta(hours=3, minutes=12), "3h 12m"),
    (timedelta(days=1), "1d"),
    (timedelta(days=2, hours=4, minutes=30), "2d 4h"),
    (timedelta(seconds=-5), "<1m"),
])
def test_format_age(age, text):
    assert format_age(age) == text


def test_empty_handoff_is_the_seed_shape():
    assert render(shift_change_at=CHANGE, time_zone="America/New_York", sections=EMPTY, notes="", as_of=CHANGE) == (
        "# On-Call Handoff: 2026-03-04\n"
        "## Active Issues\n- None\n"
        "## Recently Resolved\n- None\n"
        "## Watch Items\n- None\n"
        "## Notes\n- None\n"
    )


@pytest.mark.parametrize("zone, date", [
    ("America/New_York", "2026-03-04"),
    ("Asia/Tokyo", "2026-03-04"),          # 23:00 local
    ("Pacific/Kiritimati", "2026-03-05"),  # UTC+14: already the next day
    ("Pacific/Pago_Pago", "2026-03-04"),
])
def test_heading_uses_the_rotation_date(zone, date):
    text = render(shift_change_at=CHANGE, time_zone=zone, sections=EMPTY, notes="", as_of=CHANGE)
    assert text.splitlines()[0] == f"# On-Call Handoff: {date}"


def test_full_handoff():
    sections = {
        "active_issues": [
            {"incident_id": 4, "code": "4", "severity": "SEV2", "title": "Checkout errors [5%]", "status": "acknowledged",
             "created_at": "2026-03-04T10:48:00Z", "acknowledged_by": "Bob Brown",
             "url": "https://oncall.example.com/incidents/4"},
            {"incident_id": 5, "code": "5", "severity": "SEV3", "title": "Slow\nsearch", "status": "triggered",
             "created_at": "2026-03-04T13:55:00Z", "acknowledged_by": None,
             "url": "https://oncall.example.com/incidents/5"},
        ],
        "recently_resolved": [
            {"incident_id": 2, "code": "2", "severity": "SEV2", "title": "checkout outage",
             "resolved_at": "2026-03-03T19:00:00Z", "url": "https://oncall.example.com/incidents/2"},
        ],
        "watch_items": [{"id": 1, "text": "New checkout deployment scheduled for tomorrow", "due_on": "2026-03-05",
                         "added_by": "Alice"},
                        {"id": 2, "text": "Disk on db-3", "due_on": None, "added_by": None}],
        "closed_watch_items": [{"id": 3, "text": "Certificate renewal", "closed_by": "Carol Chen",
                                "closed_at": "2026-03-03T12:00:00Z"}],
        "hints": ["Bob is on PTO until Friday, escalate to Carol instead"],
    }
    text = render(shift_change_at=CHANGE, time_zone="America/New_York", sections=sections,
                  notes="Deploy freeze until Thursday.\n\n- keep an eye on the queue\n", as_of=CHANGE)
    assert text == (
        "# On-Call Handoff: 2026-03-04\n"
        "## Active Issues\n"
        "- SEV2 [Checkout errors \\[5%\\]](https://oncall.example.com/incidents/4) (acknowledged by Bob Brown, open 3h 12m)\n"
        "- SEV3 [Slow search](https://oncall.example.com/incidents/5) (triggered, open 5m)\n"
        "## Recently Resolved\n"
        "- SEV2 [checkout outage](https://oncall.example.com/incidents/2) (resolved Tue Mar 3 14:00 EST)\n"
        "## Watch Items\n"
        "- New checkout deployment scheduled for tomorrow (due 2026-03-05)\n"
        "- Disk on db-3\n"
        "- Closed since last handoff:\n"
        "  - Certificate renewal (closed by Carol Chen)\n"
        "## Notes\n"
        "- Bob is on PTO until Friday, escalate to Carol instead\n"
        "- Deploy freeze until Thursday.\n"
        "- keep an eye on the queue\n"
    )


def test_only_closed_watch_items_still_list_them():
    sections = EMPTY | {"closed_watch_items": [{"id": 3, "text": "Old", "closed_by": None, "closed_at": "2026-03-03T12:00:00Z"}]}
    text = render(shift_change_at=CHANGE, time_zone="UTC", sections=sections, notes="", as_of=CHANGE)
    assert "## Watch Items\n- Closed since last handoff:\n  - Old\n## Notes" in text


@pytest.mark.parametrize("hints, notes, lines", [
    ([], "", []),
    ([], "   \n\n", []),
    (["a"], "", ["- a"]),
    ([], "* starred\n+ plus\n-   dashed\nplain", ["- starred", "- plus", "- dashed", "- plain"]),
    (["hint"], "note", ["- hint", "- note"]),
])
def test_note_lines(hints, notes, lines):
    assert note_lines(hints, notes) == lines


def test_raw_html_in_people_text_is_escaped():
    """Titles come from alerts and notes from people: a Markdown viewer must show their tags, not run them."""
    sections = EMPTY | {
        "active_issues": [{"incident_id": 1, "code": "1", "severity": "SEV1", "title": "<img src=x onerror=alert(1)>",
                           "status": "acknowledged", "created_at": "2026-03-04T13:00:00Z",
                           "acknowledged_by": "<b>Mallory</b>", "url": "https://oncall.example.com/incidents/1"}],
        "recently_resolved": [{"incident_id": 2, "code": "2", "severity": "SEV2", "title": "<script>x</script>",
                               "resolved_at": "2026-03-04T12:00:00Z", "url": "https://oncall.example.com/incidents/2"}],
        "watch_items": [{"id": 1, "text": "<iframe src=//evil>", "due_on": None, "added_by": None}],
        "closed_watch_items": [{"id": 2, "text": "<u>old</u>", "closed_by": "<i>Eve</i>",
                                "closed_at": "2026-03-04T12:00:00Z"}],
        "hints": ["<svg onload=alert(2)> is on PTO"],
    }
    text = render(shift_change_at=CHANGE, time_zone="UTC", sections=sections, notes="<a href=x>hi</a> & co",
                  as_of=CHANGE)
    assert "<" not in text and ">" not in text
    assert "- SEV1 [&lt;img src=x onerror=alert(1)&gt;](https://oncall.example.com/incidents/1) " \
           "(acknowledged by &lt;b&gt;Mallory&lt;/b&gt;, open 1h)" in text
    assert "- &lt;iframe src=//evil&gt;\n" in text
    assert "- &lt;a href=x&gt;hi&lt;/a&gt; &amp; co\n" in text


@pytest.mark.parametrize("text, line", [
    ("a < b", "- a &lt; b"),
    ("\\<b>x", "- \\\\&lt;b&gt;x"),          # a backslash of the author's stays a backslash
    ("C:\\temp <i>", "- C:\\\\temp &lt;i&gt;"),
    ("a > b & c", "- a &gt; b &amp; c"),
    ("&lt;script&gt;", "- &amp;lt;script&amp;gt;"),  # an entity typed as text shows as typed
    ("[x](javascript:alert(1))", "- \\[x\\](javascript:alert(1))"),
    ("`code` {: onclick=x}", "- \\`code\\` \\{: onclick=x\\}"),
])
def test_tag_escapes_survive_backslashes(text, line):
    assert note_lines([], text) == [line]
    sections = EMPTY | {"watch_items": [{"id": 1, "text": text, "due_on": None, "added_by": None}]}
    assert f"## Watch Items\n{line}\n## Notes" in render(shift_change_at=CHANGE, time_zone="UTC", sections=sections,
                                                           notes="", as_of=CHANGE)
