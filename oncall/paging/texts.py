"""Words of pages and replies (pure): SMS bodies, voice TwiML, and parsing what people text back."""
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

SMS_LIMIT = 1600  # Twilio's maximum body length; longer bodies are rejected with error 21617

ACTIONS = {"A": "acknowledge", "R": "resolve", "E": "escalate"}
DIGITS = {"1": "acknowledge", "2": "resolve", "3": "escalate"}


def sms_page(*, severity: str, title: str, code: int, runbook: str | None = None, link: str | None = None) -> str:
    """One incident page. Ends with the reply instructions PRODUCT.md fixes word for word."""
    parts = [f"[{severity}] {title}"]
    if runbook:
        parts.append(f"Runbook: {runbook}")
    if link:
        parts.append(link)
    instructions = f"Reply {code}A to ack, {code}R to resolve, {code}E to escalate"
    head = "\n".join(parts)
    room = SMS_LIMIT - len(instructions) - 1
    return f"{head[:room]}\n{instructions}"


def sms_digest(pages: list[tuple[str, str, int]]) -> str:
    """Several pages for one person folded into one SMS: (severity, title, code) each."""
    lines = [f"{len(pages)} incidents need you:"]
    for severity, title, code in pages:
        lines.append(f"{code}: [{severity}] {title[:80]}")
    lines.append("Reply <code>A to ack, <code>R to resolve, <code>E to escalate; AA acks all, RR resolves all")
    body = "\n".join(lines)
    return body if len(body) <= SMS_LIMIT else body[: SMS_LIMIT - 3] + "..."


def voice_twiml(*, severity: str, title: str, gather_url: str) -> str:
    """A call that reads the page twice and gathers one digit (1 ack, 2 resolve, 3 escalate)."""
    spoken = escape(f"This is an on call page. Severity {severity[-1] if severity.startswith('SEV') else severity}. "
                    f"{title}.")
    menu = "Press 1 to acknowledge. Press 2 to resolve. Press 3 to escalate."
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Gather numDigits="1" action="{escape(gather_url)}" method="POST" timeout="10">'
        f"<Say>{spoken} {menu}</Say><Pause length=\"1\"/><Say>{spoken} {menu}</Say></Gather>"
        "<Say>No answer received. Goodbye.</Say></Response>"
    )


def twiml_say(text: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Say>{escape(text)}</Say></Response>'


@dataclass(frozen=True)
class Reply:
    action: str  # acknowledge | resolve | escalate | acknowledge_all | resolve_all | stop | start | unknown
    code: int | None = None


# Carrier keywords (CTIA): Twilio handles these itself, we mirror the opt-out state.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}
_CODE_REPLY = re.compile(r"^(\d{1,9})([ARE])$")


def parse_reply(body: str) -> Reply:
    """Replies are case-insensitive and ignore spaces: '4521 a', '4521A', 'aa'."""
    text = re.sub(r"\s+", "", body or "").upper()
    if text in STOP_WORDS:
        return Reply("stop")
    if text in START_WORDS:
        return Reply("start")
    if text == "AA":
        return Reply("acknowledge_all")
    if text == "RR":
        return Reply("resolve_all")
    match = _CODE_REPLY.match(text)
    if match:
        return Reply(ACTIONS[match.group(2)], int(match.group(1)))
    return Reply("unknown")
