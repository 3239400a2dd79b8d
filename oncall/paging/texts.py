"""Words of pages and replies (pure): SMS bodies, voice TwiML, and parsing what people text back."""
import re
import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

SMS_LIMIT = 1600  # Twilio's maximum body length; longer bodies are rejected with error 21617
# Twilio's Calls API takes at most 4000 characters of inline TwiML (the Twiml parameter); a page reads the
# title twice, so long titles are cut to fit rather than have the call rejected.
TWIML_LIMIT = 4000
VOICE_TITLE_LIMIT = 300

ACTIONS = {"A": "acknowledge", "R": "resolve", "E": "escalate"}
DIGITS = {"1": "acknowledge", "2": "resolve", "3": "escalate"}
PAST = {"acknowledge": "acknowledged", "resolve": "resolved", "escalate": "escalated"}

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
SMS_USAGE = "Reply <code>A to ack, <code>R to resolve, <code>E to escalate; AA acks all, RR resolves all"
# One answer for an unknown number, an unknown code and a code this person may not touch, so that texting
# codes at the number reveals nothing about which incidents exist.
SMS_NO_MATCH = "No matching open incident."
VOICE_MENU = "Press 1 to acknowledge. Press 2 to resolve. Press 3 to escalate."
VOICE_GOODBYE = "Goodbye."


def _one_line(text: str) -> str:
    """Titles come from alert annotations and may hold newlines or runs of spaces; a page shows one line."""
    return " ".join((text or "").split())


def reply_instructions(code: int) -> str:
    return f"Reply {code}A to ack, {code}R to resolve, {code}E to escalate"


def sms_page(*, severity: str, title: str, code: int, runbook: str | None = None, link: str | None = None) -> str:
    """One incident page. Ends with the reply instructions PRODUCT.md fixes word for word."""
    parts = [f"[{severity}] {_one_line(title)}"]
    if runbook:
        parts.append(f"Runbook: {runbook}")
    if link:
        parts.append(link)
    instructions = reply_instructions(code)
    head = "\n".join(parts)
    room = SMS_LIMIT - len(instructions) - 1
    return f"{head[:room]}\n{instructions}"


DIGEST_TITLE_LIMIT = 80


def sms_digest(pages: list[tuple]) -> str:
    """Several pages for one person folded into one SMS: (severity, title, code[, runbook]) each.

    Each incident keeps what its own page would say (severity, title, runbook) and its own reply instructions,
    most severe first, so the SMS ends with real instructions as PRODUCT.md requires of a page, never with a
    placeholder. Too many for one SMS: titles are cut and runbooks dropped, then the least severe are left
    out (the header says how many; AA and RR still reach them)."""
    pages = sorted(pages, key=lambda page: page[0])  # SEV1 first; stable, so oldest first within a severity

    def block(page: tuple, full: bool) -> str:
        severity, title, code, *rest = page
        runbook = rest[0] if rest else None
        lines = [f"[{severity}] {_one_line(title) if full else _one_line(title)[:DIGEST_TITLE_LIMIT]}"]
        if full and runbook:
            lines.append(f"Runbook: {runbook}")
        lines.append(reply_instructions(code))
        return "\n".join(lines)

    def head(left_out: int) -> str:
        more = f"; {left_out} more not listed" if left_out else ""
        return f"{len(pages)} incidents need you (AA acks all, RR resolves all{more}):"

    for full in (True, False):
        body = "\n".join([head(0), *(block(page, full) for page in pages)])
        if len(body) <= SMS_LIMIT:
            return body
    blocks, size = [], 0
    for page in pages:
        text = block(page, False)
        if blocks and len(head(len(pages))) + size + 1 + len(text) + 1 > SMS_LIMIT:
            break
        blocks.append(text)
        size += len(text) + 1
    return "\n".join([head(len(pages) - len(blocks)), *blocks])[:SMS_LIMIT]


def sms_bundle(page: str | None, messages: list[str]) -> tuple[str, int]:
    """One SMS for a person: their messages (handoff reminders) first, then the page or digest, which must stay
    last because it ends with the reply instructions. Returns (body, how many messages did not fit and must
    wait for the next SMS); with no page, the first message always goes (cut to fit if need be)."""
    parts: list[str] = []
    room = SMS_LIMIT - (len(page) + 2 if page else 0)
    for text in messages:
        text = text.strip()
        if not parts and not page:
            text = text[:SMS_LIMIT]
        elif sum(len(p) + 2 for p in parts) + len(text) > room:
            break
        parts.append(text)
    body = "\n\n".join(parts + ([page] if page else []))
    return body, len(messages) - len(parts)


def verification_sms(code: str, *, minutes: int) -> str:
    """The code that verifies a phone number; says what it is for, so a stranger who gets it can ignore it."""
    return (f"oncall: your verification code is {code}. Enter it on your profile page within {minutes} minutes. "
            "If you did not ask for it, ignore this message.")


def test_page_sms(name: str) -> str:
    return (f"oncall test page for {_one_line(name)}: this is how pages reach you. Nothing to do; "
            "real pages add reply codes to acknowledge.")


def sms_confirmation(action: str, done: list[int], unchanged: dict[int, str] | None = None) -> str:
    """The answer to a reply that acted: 'Acknowledged 4521, 4522.' Codes in `unchanged` were already past
    that point (code -> status, e.g. 'resolved'): acting twice is harmless, but say so."""
    parts = []
    if done:
        parts.append(f"{PAST[action].capitalize()} {', '.join(str(c) for c in done)}.")
    by_status: dict[str, list[int]] = {}
    for code, status in (unchanged or {}).items():
        by_status.setdefault(status, []).append(code)
    for status, codes in sorted(by_status.items()):
        parts.append(f"Already {status}: {', '.join(str(c) for c in sorted(codes))}.")
    return " ".join(parts) or SMS_NO_MATCH


def _spoken_severity(severity: str) -> str:
    return severity[3:] if severity.upper().startswith("SEV") and len(severity) > 3 else severity


def voice_twiml(*, severity: str, title: str, gather_url: str) -> str:
    """A call that reads the page twice and gathers one digit (1 ack, 2 resolve, 3 escalate).

    With no key pressed Twilio moves on to the verb after <Gather> (TwiML <Gather> docs), so the call says
    goodbye and hangs up; escalation carries on because nothing was acknowledged."""
    limit = VOICE_TITLE_LIMIT
    while True:
        short = _one_line(title)[:limit]
        spoken = escape(f"This is an on call page. Severity {_spoken_severity(severity)}. {short}.")
        twiml = (
            f"{XML_HEAD}<Response>"
            f'<Gather numDigits="1" action={quoteattr(gather_url)} method="POST" timeout="10">'
            f'<Say>{spoken} {VOICE_MENU}</Say><Pause length="1"/><Say>{spoken} {VOICE_MENU}</Say></Gather>'
            f"<Say>No answer received. {VOICE_GOODBYE}</Say></Response>"
        )
        if len(twiml) <= TWIML_LIMIT or limit == 0:
            return twiml
        limit //= 2  # titles full of '&' grow five-fold when escaped


def voice_menu_again(*, gather_url: str) -> str:
    """After a key that is not on the menu: say so, offer the menu once more, then hang up."""
    return (
        f"{XML_HEAD}<Response>"
        f'<Gather numDigits="1" action={quoteattr(gather_url)} method="POST" timeout="10">'
        f"<Say>Sorry, that is not an option. {VOICE_MENU}</Say></Gather>"
        f"<Say>No answer received. {VOICE_GOODBYE}</Say></Response>"
    )


def voice_confirmation(action: str, code: int, *, unchanged: str | None = None) -> str:
    """What the callee hears after a key: the action done, or the status that made it moot."""
    if unchanged:
        return twiml_say(f"Incident {code} was already {unchanged}. {VOICE_GOODBYE}")
    return twiml_say(f"Incident {code} {PAST[action]}. {VOICE_GOODBYE}")


def twiml_say(text: str) -> str:
    return f"{XML_HEAD}<Response><Say>{escape(text)}</Say></Response>"


def twiml_message(text: str) -> str:
    """An SMS answer: Twilio sends the <Message> back to the sender (TwiML for Programmable Messaging)."""
    return f"{XML_HEAD}<Response><Message>{escape(text)}</Message></Response>"


def twiml_empty() -> str:
    """Acknowledge a webhook without answering anything (Twilio answers STOP/START/HELP itself)."""
    return f"{XML_HEAD}<Response/>"


@dataclass(frozen=True)
class Reply:
    # acknowledge | resolve | escalate | acknowledge_all | resolve_all | stop | start | help | unknown
    action: str
    code: int | None = None


# Twilio's default keywords for long codes (Messaging docs, "Advanced Opt-Out"): Twilio blocks further SMS
# after an opt-out keyword and answers it itself; we only mirror the state so that pages go by voice.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# Advanced Opt-Out adds OptOutType (STOP, START or HELP) to the incoming-message webhook; it also covers
# custom and other-language keywords, so it wins over our own keyword list when present.
OPT_OUT_TYPES = {"STOP": "stop", "START": "start", "HELP": "help"}

_CODE_REPLY = re.compile(r"^([0-9]{1,9})([ARE])[.!]*$")  # ASCII only: \d also matches other scripts
_INVISIBLE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")


def parse_reply(body: str | None, opt_out_type: str | None = None) -> Reply:
    """Replies are case-insensitive and ignore spaces: '4521 a', '4521A', 'aa'.

    Keywords must be the whole message, as Twilio matches them ('Stop' opts out, 'stop please' does not), so
    our state never drifts from Twilio's block list. Phones may send full-width or decorated characters, so
    the text is NFKC-normalised first ('４５２１Ａ' is '4521A')."""
    kind = OPT_OUT_TYPES.get((opt_out_type or "").strip().upper())
    if kind:
        return Reply(kind)
    text = unicodedata.normalize("NFKC", body or "").strip().upper()
    if text in STOP_WORDS:
        return Reply("stop")
    if text in START_WORDS:
        return Reply("start")
    if text in HELP_WORDS:
        return Reply("help")
    compact = _INVISIBLE.sub("", text)
    if compact == "AA":
        return Reply("acknowledge_all")
    if compact == "RR":
        return Reply("resolve_all")
    match = _CODE_REPLY.match(compact)
    if match:
        return Reply(ACTIONS[match.group(2)], int(match.group(1)))
    return Reply("unknown")


def parse_digit(digits: str | None) -> str | None:
    """The action of a keypad answer, or None for nothing or a key that is not on the menu."""
    return DIGITS.get((digits or "").strip())
