"""A handoff as Markdown, in PRODUCT.md's shape (pure)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

NONE = "- None"
_LIST_MARK = re.compile(r"^\s*[-*+]\s+")


def format_age(age: timedelta) -> str:
    """Compact durations for a glance: '<1m', '45m', '3h 12m', '2d 4h'."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "<1m"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def parse_instant(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


_BEFORE_TAG = re.compile(r"(\\*)<")


def _no_html(text: str) -> str:
    # CommonMark 6.6/6.5: "<" opens raw HTML (and autolinks) that viewers render; backslash-escaped
    # (2.4) it is a literal "<", so alert titles and notes show their tags instead of running them.
    # Backslashes right before it are doubled too, or "\\<" would escape the escape.
    return _BEFORE_TAG.sub(lambda m: m.group(1) * 2 + "\\<", text)


def _one_line(text: str) -> str:
    return _no_html(" ".join(str(text).split()))


def _link_text(text: str) -> str:
    # Brackets would end the link text early and "<" would open raw HTML; a backslash keeps each literal.
    text = " ".join(str(text).split())
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]").replace("<", "\\<")


def _local(value: str | datetime, tz: ZoneInfo) -> str:
    at = parse_instant(value).astimezone(tz)
    return f"{at:%a %b} {at.day} {at:%H:%M %Z}"


def active_line(item: dict, as_of: datetime) -> str:
    state = item["status"]
    if state == "acknowledged" and item.get("acknowledged_by"):
        state = f"acknowledged by {_one_line(item['acknowledged_by'])}"
    age = format_age(as_of - parse_instant(item["created_at"]))
    return f"- {item['severity']} [{_link_text(item['title'])}]({item['url']}) ({state}, open {age})"


def resolved_line(item: dict, tz: ZoneInfo) -> str:
    return (f"- {item['severity']} [{_link_text(item['title'])}]({item['url']}) "
            f"(resolved {_local(item['resolved_at'], tz)})")


def watch_line(item: dict) -> str:
    due = f" (due {item['due_on']})" if item.get("due_on") else ""
    return f"- {_one_line(item['text'])}{due}"


def note_lines(hints: list[str], notes: str) -> list[str]:
    """Automatic hints first, then the author's notes, one bullet per non-empty line."""
    lines = [f"- {_one_line(h)}" for h in hints]
    for raw in (notes or "").splitlines():
        text = _LIST_MARK.sub("", raw).strip()
        if text:
            lines.append(f"- {_no_html(text)}")
    return lines


def render(*, shift_change_at: datetime, time_zone: str, sections: dict, notes: str, as_of: datetime) -> str:
    """The handoff's Markdown. Dates and times are the rotation's local ones; ages are as of `as_of`
    (the submission, or now for a draft)."""
    tz = ZoneInfo(time_zone)
    out = [f"# On-Call Handoff: {shift_change_at.astimezone(tz).date().isoformat()}", "## Active Issues"]
    out += [active_line(i, as_of) for i in sections.get("active_issues", [])] or [NONE]
    out.append("## Recently Resolved")
    out += [resolved_line(i, tz) for i in sections.get("recently_resolved", [])] or [NONE]
    out.append("## Watch Items")
    watch = [watch_line(w) for w in sections.get("watch_items", [])]
    closed = sections.get("closed_watch_items", [])
    if closed:
        watch.append("- Closed since last handoff:")
        for w in closed:
            by = f" (closed by {_one_line(w['closed_by'])})" if w.get("closed_by") else ""
            watch.append(f"  - {_one_line(w['text'])}{by}")
    out += watch or [NONE]
    out.append("## Notes")
    out += note_lines(sections.get("hints", []), notes) or [NONE]
    return "\n".join(out) + "\n"
