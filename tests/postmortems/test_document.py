"""The postmortem's prefilled timeline and its Markdown, against the seed's template (pure)."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from oncall.postmortems import document
from oncall.postmortems.document import EventFact, ItemFact

UTC = timezone.utc
T = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)

# The seed's postmortem template (the incident-response framework PRODUCT.md summarises).
SEED = """# Incident Postmortem: [Title] [Date]

## Summary
[Brief description of what happened]

## Impact
- Duration: X hours
- Users affected: Y
- Revenue impact: $Z

## Timeline
- 14:00 UTC - Alert fired for high error rate
- 14:05 UTC - On-call engineer acknowledged
- 14:15 UTC - Root cause identified
- 14:30 UTC - Fix deployed
- 14:45 UTC - Monitoring confirmed resolution

## Root Cause
[Technical explanation]

## What Went Well
- Fast detection
- Clear communication

## What Went Poorly
- Delayed rollback
- Missing runbook

## Action Items
| Action | Owner | Due Date |
|--------|-------|----------|
| Add monitoring for X | @alice | 2024-01-15 |
| Update runbook | @bob | 2024-01-10 |

## Lessons Learned
[Key takeaways]
"""


def sections(markdown: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """(the title line, [(heading, its non-blank lines)]) of a Markdown document."""
    lines = markdown.splitlines()
    title, out = lines[0], []
    for line in lines[1:]:
        if line.startswith("## "):
            out.append((line[3:], []))
        elif line.strip():
            assert out, f"text before the first section: {line!r}"
            out[-1][1].append(line)
    return title, out


def events() -> list[EventFact]:
    m = timedelta(minutes=1)
    return [
        EventFact(T, "created", "SEV1 opened for Payments: Checkout down"),
        EventFact(T, "step", "Escalation step 1: paging Alice by SMS and voice call."),
        EventFact(T + m, "notification", "SMS to Alice sent."),  # delivery detail: not in the postmortem
        EventFact(T + 5 * m, "acknowledged", "Acknowledged by Alice (via sms); escalation stopped."),
        EventFact(T + 15 * m, "status_update", "Status update (Identified): bad deploy"),
        EventFact(T + 20 * m, "note", "Looking at the deploy"),
        EventFact(T + 45 * m, "resolved", "Resolved by Alice (via web)."),
    ]


def test_timeline_in_the_seeds_style_from_the_incidents_own_events():
    assert document.timeline_text(events()).splitlines() == [
        "- 14:00 UTC - SEV1 opened for Payments: Checkout down",
        "- 14:00 UTC - Escalation step 1: paging Alice by SMS and voice call.",
        "- 14:05 UTC - Acknowledged by Alice (via sms); escalation stopped.",
        "- 14:15 UTC - Status update (Identified): bad deploy",
        "- 14:45 UTC - Resolved by Alice (via web).",
    ]


def test_timeline_names_the_date_of_events_on_a_later_day():
    late = [EventFact(datetime(2026, 3, 4, 23, 50, tzinfo=UTC), "created", "opened"),
            EventFact(datetime(2026, 3, 5, 0, 10, tzinfo=UTC), "resolved", "done")]
    assert document.timeline_text(late).splitlines() == ["- 23:50 UTC - opened", "- 2026-03-05 00:10 UTC - done"]


def test_timeline_of_nothing_is_empty():
    assert document.timeline_text([]) == ""


def render(**sections_) -> str:
    base = {"summary": "Checkout returned 500s.", "impact": "- Users affected: about 2000",
            "timeline": document.timeline_text(events()), "root_cause": "A bad deploy.",
            "went_well": "- Fast detection", "went_poorly": "- Slow rollback", "lessons": "Canary deploys."}
    return document.render(title="Checkout down", on=date(2026, 3, 4), duration="45m", sections=base | sections_,
                           items=[ItemFact("Add monitoring for X", "Alice", date(2026, 3, 15), False),
                                  ItemFact("Update runbook", None, None, True)])


def test_markdown_has_exactly_the_seeds_sections_in_order():
    seed_title, seed = sections(SEED)
    title, ours = sections(render())
    assert [h for h, _ in ours] == [h for h, _ in seed]
    assert re.fullmatch(r"# Incident Postmortem: .+ \d{4}-\d{2}-\d{2}", title) and seed_title.startswith(
        "# Incident Postmortem: ")
    assert title == "# Incident Postmortem: Checkout down 2026-03-04"
    ours, seed = dict(ours), dict(seed)
    assert ours["Summary"] == ["Checkout returned 500s."]
    assert ours["Impact"] == ["- Duration: 45m", "- Users affected: about 2000"]
    assert seed["Impact"][0].startswith("- Duration: ")
    # The timeline lines have the seed's "- HH:MM UTC - what happened" shape.
    shape = re.compile(r"- \d{2}:\d{2} UTC - .+")
    assert all(shape.fullmatch(line) for line in seed["Timeline"])
    assert all(shape.fullmatch(line) for line in ours["Timeline"]) and len(ours["Timeline"]) == 5
    assert ours["Root Cause"] == ["A bad deploy."]
    assert ours["What Went Well"] == ["- Fast detection"] and ours["What Went Poorly"] == ["- Slow rollback"]
    assert ours["Action Items"][:2] == seed["Action Items"][:2]  # the same table header
    assert ours["Action Items"][2:] == ["| Add monitoring for X | @Alice | 2026-03-15 |",
                                        "| Update runbook (done) | - | - |"]
    assert ours["Lessons Learned"] == ["Canary deploys."]


def test_blank_sections_say_so_and_keep_their_place():
    _, ours = sections(document.render(title="T", on=date(2026, 3, 4), duration="ongoing", sections={}, items=[]))
    ours = dict(ours)
    assert ours["Summary"] == [document.TO_BE_WRITTEN] and ours["Impact"] == ["- Duration: ongoing"]
    assert ours["Action Items"] == ["| Action | Owner | Due Date |", "|--------|-------|----------|"]


@pytest.mark.parametrize("text", [
    "## Root Cause\nfake section", "# A heading", "Setext\n===", "Setext\n---", "| a | b |",
    "<script>alert(1)</script>", "[click](javascript:alert(1))", "![x](https://evil.example/x.png)",
])
def test_peoples_text_cannot_add_sections_html_or_links(text):
    markdown = render(summary=text, went_well=text, lessons=text)
    _, ours = sections(markdown)
    assert [h for h, _ in ours] == [h for h, _ in sections(SEED)[1]]
    assert "<script" not in markdown
    assert not re.search(r"(?<!\\)\]\(", markdown)  # no "](" that is not escaped: no link, no image


def test_action_item_cells_cannot_break_the_table():
    table = dict(sections(document.render(title="T", on=date(2026, 3, 4), duration="1h", sections={}, items=[
        ItemFact("a | b", "Eve | Mallory", None, False)]))[1])["Action Items"]
    assert table[2] == "| a \\| b | @Eve \\| Mallory | - |"


def test_title_is_escaped():
    assert render().startswith("# Incident Postmortem: Checkout down 2026-03-04\n")
    assert document.render(title="<b>x</b> [y](z)", on=date(2026, 3, 4), duration="1h", sections={}, items=[]) \
        .startswith("# Incident Postmortem: &lt;b&gt;x&lt;/b&gt; \\[y\\](z) 2026-03-04\n")
