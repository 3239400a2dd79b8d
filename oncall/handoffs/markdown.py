"""A handoff as Markdown, in PRODUCT.md's shape (pure)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit
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


# What people typed (alert titles, names, notes) must stay text in whatever renders this Markdown: a wiki, a
# chat tool, a CommonMark or a Python-Markdown viewer. So:
# - "&", "<" and ">" become entity references, which every renderer shows as the character (CommonMark 6.2,
#   Python-Markdown, and Slack's mrkdwn, which asks for exactly these three). No raw HTML or autolink can
#   start, and, unlike a backslash escape of "<", this does not depend on CommonMark's rules.
# - "[" and "]" are backslash-escaped, so no link, image or link reference definition can be formed from text
#   (and so no javascript:, data: or vbscript: destination); "{" and "}" too, so attribute-list extensions
#   (Python-Markdown's attr_list, markdown-it-attrs) cannot add an onclick; "`" so a code span cannot show
#   these escapes raw; "\" so an author's backslash cannot cancel one.
_BACKSLASHED = re.compile(r"([\\`\[\]{}])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ENTITY = re.compile("[&<>]")


def escape(text: str) -> str:
    """People's text as literal Markdown text, on one line."""
    text = " ".join(str(text).split())
    return _ENTITY.sub(lambda m: _ENTITIES[m.group()], _BACKSLASHED.sub(r"\\\1", text))


# Only our own incident pages are linked, and only over http(s); characters that could end or bend a link
# destination are percent-encoded.
_SAFE_IN_DESTINATION = ":/?#@!$&*+,;=%~-._"


_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def link(title: str, url: str | None) -> str:
    """A Markdown link, or the title alone when the URL is not a plain http(s) one."""
    text = escape(title)
    if isinstance(url, str):
        # urlsplit ignores leading spaces and C0 controls (as browsers do); the destination written must be the
        # URL it checked, or " https://elsewhere" would become a relative link to "%20https://elsewhere".
        url = url.strip(_C0_AND_SPACE)
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:  # e.g. a malformed IPv6 host
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return text
    return f"[{text}]({quote(url, safe=_SAFE_IN_DESTINATION)})"


def _local(value: str | datetime, tz: ZoneInfo) -> str:
    at = parse_instant(value).astimezone(tz)
    return f"{at:%a %b} {at.day} {at:%H:%M %Z}"


def active_line(item: dict, as_of: datetime) -> str:
    state = item["status"]
    if state == "acknowledged" and item.get("acknowledged_by"):
        state = f"acknowledged by {escape(item['acknowledged_by'])}"
    age = format_age(as_of - parse_instant(item["created_at"]))
    return f"- {item['severity']} {link(item['title'], item.get('url'))} ({state}, open {age})"


def resolved_line(item: dict, tz: ZoneInfo) -> str:
    return f"- {item['severity']} {link(item['title'], item.get('url'))} (resolved {_local(item['resolved_at'], tz)})"


def watch_line(item: dict) -> str:
    due = f" (due {item['due_on']})" if item.get("due_on") else ""
    return f"- {escape(item['text'])}{due}"


def follow_up_line(item: dict) -> str:
    """A late postmortem or an overdue action item, linked to the postmortem."""
    due = f" (due {item['due_on']})" if item.get("due_on") else ""
    return f"- {link(item['text'], item.get('url'))}{due}"


def note_lines(hints: list[str], notes: str) -> list[str]:
    """Automatic hints first, then the author's notes, one bullet per non-empty line."""
    lines = [f"- {escape(h)}" for h in hints]
    for raw in (notes or "").splitlines():
        text = _LIST_MARK.sub("", raw).strip()
        if text:
            lines.append(f"- {escape(text)}")
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
    watch += [follow_up_line(f) for f in sections.get("follow_ups", [])]
    closed = sections.get("closed_watch_items", [])
    if closed:
        watch.append("- Closed since last handoff:")
        for w in closed:
            by = f" (closed by {escape(w['closed_by'])})" if w.get("closed_by") else ""
            watch.append(f"  - {escape(w['text'])}{by}")
    out += watch or [NONE]
    out.append("## Notes")
    out += note_lines(sections.get("hints", []), notes) or [NONE]
    return "\n".join(out) + "\n"
