"""A postmortem's prefilled parts and its Markdown, in the seed's template (pure).

The seed's template, in order: "# Incident Postmortem: <title> <date>", then Summary, Impact, Timeline
("- HH:MM UTC - what happened"), Root Cause, What Went Well, What Went Poorly, Action Items (a table
"| Action | Owner | Due Date |") and Lessons Learned."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

from oncall.handoffs.markdown import escape, format_age

UTC = timezone.utc
# (heading, field) in the seed's order; the title line comes first and Impact starts with the duration.
HEADINGS = (
    ("Summary", "summary"),
    ("Impact", "impact"),
    ("Timeline", "timeline"),
    ("Root Cause", "root_cause"),
    ("What Went Well", "went_well"),
    ("What Went Poorly", "went_poorly"),
    ("Action Items", "action_items"),
    ("Lessons Learned", "lessons"),
)
# What the prefilled timeline tells: the incident's own course, not every delivery receipt.
TIMELINE_KINDS = ("created", "step", "acknowledged", "status_update", "escalated", "reassigned", "severity_changed",
                  "roles", "resolved")
TO_BE_WRITTEN = "_To be written._"


@dataclass(frozen=True, slots=True)
class EventFact:
    at: datetime
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class ItemFact:
    text: str
    owner: str | None
    due_on: date | None
    done: bool


def timeline_text(events: Iterable[EventFact]) -> str:
    """The incident's own events as the seed's "- HH:MM UTC - what happened" lines, oldest first. An event on
    another day than the first names its date, so a long incident's timeline stays unambiguous."""
    chosen = sorted((e for e in events if e.kind in TIMELINE_KINDS), key=lambda e: e.at)
    if not chosen:
        return ""
    first_day = chosen[0].at.astimezone(UTC).date()
    lines = []
    for e in chosen:
        at = e.at.astimezone(UTC)
        stamp = f"{at:%H:%M} UTC" if at.date() == first_day else f"{at:%Y-%m-%d %H:%M} UTC"
        lines.append(f"- {stamp} - {' '.join(e.message.split())}")
    return "\n".join(lines)


def duration_text(started_at: datetime, resolved_at: datetime | None) -> str:
    if resolved_at is None:
        return "ongoing"
    return format_age(resolved_at - started_at)


_LIST_ITEM = re.compile(r"^\s*([-*+])\s+(.*)$")
# A line starting with one of these could become a heading, a rule, a table row or a setext underline, and
# so break the template's sections: it is kept as text by a leading backslash.
_BLOCK_STARTS = tuple("#=-+*_|~:")


def block(text: str) -> list[str]:
    """People's multi-line text as Markdown lines: list items stay list items, other lines stay plain text
    (escaped as handoffs/markdown.py does: no raw HTML, no links), blank lines separate paragraphs."""
    out: list[str] = []
    for raw in (text or "").splitlines():
        if not raw.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        item = _LIST_ITEM.match(raw)
        if item:
            out.append(f"- {escape(item.group(2))}")
            continue
        line = escape(raw)
        out.append("\\" + line if line.startswith(_BLOCK_STARTS) else line)
    while out and out[-1] == "":
        out.pop()
    return out


def _cell(text: str) -> str:
    return escape(text).replace("|", "\\|")


def action_table(items: Sequence[ItemFact]) -> list[str]:
    rows = ["| Action | Owner | Due Date |", "|--------|-------|----------|"]
    for item in items:
        text = _cell(item.text) + (" (done)" if item.done else "")
        owner = f"@{_cell(item.owner)}" if item.owner else "-"
        rows.append(f"| {text} | {owner} | {item.due_on.isoformat() if item.due_on else '-'} |")
    return rows


def render(*, title: str, on: date, duration: str, sections: dict, items: Sequence[ItemFact]) -> str:
    """The postmortem as Markdown: exactly the seed's sections, in its order."""
    out = [f"# Incident Postmortem: {escape(title)} {on.isoformat()}"]
    for heading, field in HEADINGS:
        out += ["", f"## {heading}"]
        if field == "action_items":
            out += action_table(items)
        elif field == "impact":
            impact = block(sections.get("impact", ""))
            if impact and not impact[0].startswith("- "):
                impact.insert(0, "")  # a paragraph, not a continuation of the duration's list item
            out += [f"- Duration: {duration}"] + impact
        else:
            out += block(sections.get(field, "")) or [TO_BE_WRITTEN]
    return "\n".join(out) + "\n"
