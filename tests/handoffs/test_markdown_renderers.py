"""The handoff's Markdown rendered by real renderers (markdown-it-py as CommonMark, and GFM-like with its
attribute, footnote and definition-list plugins, Python-Markdown with its extensions): whatever people typed, no output carries a script,
an event handler, or a javascript:, data: or vbscript: URL, and the only links are the incident pages' http(s) URLs."""
import re
from datetime import datetime, timezone
from html import unescape
from html.parser import HTMLParser

import markdown as python_markdown
from hypothesis import HealthCheck, example, given, settings, strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from oncall.handoffs.markdown import render

UTC = timezone.utc
CHANGE = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)
WEB_URL = re.compile(r"^https?://[^\s\"'<>]+$")

RENDERERS = {
    "commonmark": MarkdownIt("commonmark").render,
    "markdown-it gfm-like + attrs": MarkdownIt("gfm-like", {"linkify": False}).use(attrs_plugin).use(
        footnote_plugin).use(deflist_plugin).enable("table").render,
    "python-markdown": python_markdown.Markdown().convert,
    "python-markdown extra": python_markdown.Markdown(extensions=["extra", "attr_list", "md_in_html"]).convert,
}
# What renderers turn plain Markdown (headings, lists, links, escapes) into; anything else came from input.
ALLOWED_TAGS = {"h1", "h2", "ul", "li", "a", "p", "em", "strong", "code", "br", "hr", "pre"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")

HOSTILE = [
    "<script>alert(1)</script>", "</script>", "<script", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>", "<javascript:alert(1)>", "<data:text/html,x>", "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))", "[x](  javascript:alert(1) )", "[x](<javascript:alert(1)>)", "![i](data:image/svg+xml,x)",
    "[x]: javascript:alert(1)", "[x][1]", "[1]: vbscript:msgbox", "[x]", "[^1]: <script>", "&#106;avascript:alert(1)",
    "&#x6A;avascript&colon;alert(1)", "java\nscript:", "java\tscript:", "{: onclick=\"alert(1)\" }", "{onclick=alert(1)}",
    "{#id .cls onmouseover=alert(1)}", "\\", "\\\\", "\\<", "\\[", "`", "``", "<!-- x -->", "<![CDATA[x]]>", "<?php x ?>",
    "<div markdown=\"1\">", "</div>", "<style>", "<iframe src=//evil>", "<object data=x>", "<base href=javascript:>",
    "https://evil.example/x", "www.evil.example", "mailto:x@evil.example", "\r", "\n", "\r\n", "\u2028", "\x0b", "\x0c",
    "[", "]", "(", ")", "<", ">", "&", "\"", "'", "=", ":", "!", "*", "_", "#", "-", "+", "|", "~", "%0a", " ", "x",
]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=5)), max_size=8).map("".join)
hostile_url = st.one_of(
    st.builds(lambda n: f"https://oncall.example.com/incidents/{n}", st.integers(1, 10**6)),
    st.sampled_from(["javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "data:text/html,<script>",
                     "vbscript:msgbox", "https://oncall.example.com/incidents/1) [x](javascript:alert(1)",
                     "https://oncall.example.com/incidents/1 \"onmouseover=alert(1)", "//evil.example", "http://[::1",
                     "https://oncall.example.com/<script>", ""]),
    hostile_text,
)


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def _problems(html: str) -> list[str]:
    collector = Collector()
    collector.feed(html)
    collector.close()
    problems = []
    for tag, attrs in collector.tags:
        if tag not in ALLOWED_TAGS:
            problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name not in ("href", "title"):
                problems.append(f"attribute {name} on <{tag}>")
            flat = re.sub(r"[\x00-\x20]", "", unescape(value or "")).lower()
            if flat.startswith(BAD_SCHEMES):
                problems.append(f"{name}={value!r}")
            if tag == "a" and name == "href" and not WEB_URL.match(value or ""):
                problems.append(f"a link to {value!r}")
    if re.search(r"<\s*script", html, re.IGNORECASE):
        problems.append("a script tag")
    return problems


def _handoff(texts: list[str], urls: list[str]) -> str:
    t = iter(texts)
    sections = {
        "active_issues": [
            {"incident_id": 1, "code": "1", "severity": "SEV1", "title": next(t), "status": "acknowledged",
             "created_at": "2026-03-04T13:00:00Z", "acknowledged_by": next(t), "url": urls[0]},
            {"incident_id": 2, "code": "2", "severity": "SEV2", "title": next(t), "status": "triggered",
             "created_at": "2026-03-04T13:30:00Z", "acknowledged_by": None, "url": urls[1]},
        ],
        "recently_resolved": [{"incident_id": 3, "code": "3", "severity": "SEV3", "title": next(t),
                               "resolved_at": "2026-03-04T12:00:00Z", "url": urls[2]}],
        "watch_items": [{"id": 1, "text": next(t), "due_on": None, "added_by": None}],
        "closed_watch_items": [{"id": 2, "text": next(t), "closed_by": next(t), "closed_at": "2026-03-04T12:00:00Z"}],
        "hints": [next(t)],
    }
    notes = "\n".join(texts[8:])
    return render(shift_change_at=CHANGE, time_zone="UTC", sections=sections, notes=notes, as_of=CHANGE)


EVERYTHING = HOSTILE[:9]  # one handoff whose every field holds an attack


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(hostile_text, min_size=12, max_size=12), urls=st.lists(hostile_url, min_size=3, max_size=3))
@example(texts=EVERYTHING + ["\n".join(HOSTILE)] * 3,
         urls=["javascript:alert(1)", "data:text/html,x", "https://oncall.example.com/incidents/1) [x](javascript:x)"])
@example(texts=["".join(HOSTILE)] * 12, urls=["https://oncall.example.com/incidents/7"] * 3)
@example(texts=["x"] * 12, urls=["https://oncall.example.com/incidents/1"] * 2 + [" https://evil.example/x"])
def test_no_renderer_outputs_a_script_a_handler_or_a_dangerous_url(texts, urls):
    text = _handoff(texts, urls)
    for name, to_html in RENDERERS.items():
        html = to_html(text)
        assert not _problems(html), (name, _problems(html), text, html)


def test_the_checks_catch_what_they_look_for():
    """The same checks on Markdown nobody escaped: every renderer lets something through."""
    raw = "[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>\n\n<script>alert(1)</script>\n\ntext {onclick=x}\n"
    for name, to_html in RENDERERS.items():
        assert _problems(to_html(raw)), name


def test_our_own_links_survive_every_renderer():
    text = _handoff(["Checkout [5%] <down> & `slow`"] * 12, ["https://oncall.example.com/incidents/4"] * 3)
    for name, to_html in RENDERERS.items():
        html = to_html(text)
        assert '<a href="https://oncall.example.com/incidents/4">' in html, name
        assert "Checkout [5%] &lt;down&gt; &amp;" in html, (name, html)
