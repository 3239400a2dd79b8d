"""Page texts, TwiML and reply parsing (pure: no app, no database)."""
import re
import xml.etree.ElementTree as ET

import pytest

from oncall.paging import texts
from oncall.paging.texts import Reply, parse_digit, parse_reply


@pytest.mark.parametrize("body, expected", [
    # <code><action>, any case, spaces anywhere (PRODUCT.md: "case-insensitive and ignore spaces")
    ("4521A", Reply("acknowledge", 4521)),
    ("4521a", Reply("acknowledge", 4521)),
    ("4521 a", Reply("acknowledge", 4521)),
    (" 45 21 A \n", Reply("acknowledge", 4521)),
    ("4521R", Reply("resolve", 4521)),
    ("4521e", Reply("escalate", 4521)),
    ("7A", Reply("acknowledge", 7)),
    ("0042A", Reply("acknowledge", 42)),
    ("123456789R", Reply("resolve", 123456789)),
    ("4521A.", Reply("acknowledge", 4521)),          # phones add a period after a double space
    ("４５２１Ａ", Reply("acknowledge", 4521)),       # full-width keyboard (NFKC)
    ("4521\u200bA", Reply("acknowledge", 4521)),     # zero-width space from copy and paste
    ("4521\u00a0A", Reply("acknowledge", 4521)),     # no-break space
    # everything paged to this phone
    ("AA", Reply("acknowledge_all")),
    ("aa", Reply("acknowledge_all")),
    ("a a", Reply("acknowledge_all")),
    ("RR", Reply("resolve_all")),
    (" rR ", Reply("resolve_all")),
    # carrier keywords (Twilio's defaults), whole message only, any case
    ("STOP", Reply("stop")),
    ("stop", Reply("stop")),
    (" Stop \n", Reply("stop")),
    ("STOPALL", Reply("stop")),
    ("unsubscribe", Reply("stop")),
    ("CANCEL", Reply("stop")),
    ("END", Reply("stop")),
    ("QUIT", Reply("stop")),
    ("REVOKE", Reply("stop")),
    ("OPTOUT", Reply("stop")),
    ("START", Reply("start")),
    ("unstop", Reply("start")),
    ("YES", Reply("start")),
    ("HELP", Reply("help")),
    ("info", Reply("help")),
    # not keywords: Twilio would not treat them as such either
    ("stop please", Reply("unknown")),
    ("S T O P", Reply("unknown")),
    # nothing we understand
    ("", Reply("unknown")),
    (None, Reply("unknown")),
    ("   ", Reply("unknown")),
    ("A", Reply("unknown")),
    ("4521", Reply("unknown")),
    ("4521X", Reply("unknown")),
    ("4521AR", Reply("unknown")),
    ("A4521", Reply("unknown")),
    ("AAA", Reply("unknown")),
    ("AR", Reply("unknown")),
    ("1234567890A", Reply("unknown")),  # longer than any code: no int overflow downstream
    ("-5A", Reply("unknown")),
    ("ok thanks", Reply("unknown")),
    ("٤٥A", Reply("unknown")),  # Arabic-Indic digits: Python's \d matches them, codes are ASCII
])
def test_parse_reply(body, expected):
    assert parse_reply(body) == expected


@pytest.mark.parametrize("body, opt_out_type, expected", [
    # Advanced Opt-Out: OptOutType names the keyword class, including custom or other-language keywords.
    ("ALTO", "STOP", Reply("stop")),
    ("4521A", "STOP", Reply("stop")),
    ("ARRIBA", "START", Reply("start")),
    ("AYUDA", "HELP", Reply("help")),
    ("STOP", "stop", Reply("stop")),
    ("4521A", "", Reply("acknowledge", 4521)),
    ("4521A", None, Reply("acknowledge", 4521)),
    ("STOP", "SOMETHING_NEW", Reply("stop")),  # an unknown type falls back to our own keyword list
    ("4521A", "SOMETHING_NEW", Reply("acknowledge", 4521)),
])
def test_parse_reply_with_opt_out_type(body, opt_out_type, expected):
    assert parse_reply(body, opt_out_type) == expected


@pytest.mark.parametrize("digits, expected", [
    ("1", "acknowledge"), ("2", "resolve"), ("3", "escalate"), (" 1 ", "acknowledge"),
    ("4", None), ("0", None), ("*", None), ("#", None), ("", None), (None, None), ("12", None),
])
def test_parse_digit(digits, expected):
    assert parse_digit(digits) == expected


@pytest.mark.parametrize("kwargs, expected", [
    ({"severity": "SEV2", "title": "Checkout errors at 5%", "code": 4521},
     "[SEV2] Checkout errors at 5%\nReply 4521A to ack, 4521R to resolve, 4521E to escalate"),
    ({"severity": "SEV1", "title": "DB down", "code": 7, "runbook": "https://runbooks/db"},
     "[SEV1] DB down\nRunbook: https://runbooks/db\nReply 7A to ack, 7R to resolve, 7E to escalate"),
    ({"severity": "SEV3", "title": "Slow", "code": 12, "runbook": "https://r", "link": "https://oncall/i/12"},
     "[SEV3] Slow\nRunbook: https://r\nhttps://oncall/i/12\nReply 12A to ack, 12R to resolve, 12E to escalate"),
    ({"severity": "SEV2", "title": "multi\nline\t  title ", "code": 1},
     "[SEV2] multi line title\nReply 1A to ack, 1R to resolve, 1E to escalate"),
])
def test_sms_page(kwargs, expected):
    assert texts.sms_page(**kwargs) == expected


def test_sms_page_long_title_is_cut_but_keeps_the_instructions():
    body = texts.sms_page(severity="SEV1", title="x" * 5000, code=4521, runbook="https://r")
    assert len(body) <= texts.SMS_LIMIT
    assert body.endswith("\nReply 4521A to ack, 4521R to resolve, 4521E to escalate")
    assert body.startswith("[SEV1] xxx")


INSTRUCTIONS = re.compile(r"Reply (\d+)A to ack, \1R to resolve, \1E to escalate$")


def test_sms_digest_gives_each_incident_its_severity_title_runbook_and_reply_code():
    body = texts.sms_digest([("SEV3", "Slow\npages", 12, None), ("SEV1", "DB down", 7, "https://rb/db")])
    assert body.split("\n") == [
        "2 incidents need you (AA acks all, RR resolves all):",
        "[SEV1] DB down", "Runbook: https://rb/db", "Reply 7A to ack, 7R to resolve, 7E to escalate",
        "[SEV3] Slow pages", "Reply 12A to ack, 12R to resolve, 12E to escalate"]


@pytest.mark.parametrize("count", [2, 9, 30, 200])
def test_sms_digest_fits_one_sms_and_ends_with_real_reply_instructions(count):
    # PRODUCT.md: an SMS page ends with "Reply <code>A to ack, ..." with the incident's code, never the
    # placeholder; a storm folded into one SMS must still fit Twilio's limit.
    pages = [("SEV2", f"Checkout errors on shard {n} " + "x" * 60, 1000 + n, f"https://rb/{n}") for n in range(count)]
    body = texts.sms_digest(pages)
    assert len(body) <= texts.SMS_LIMIT
    assert "<code>" not in body
    assert INSTRUCTIONS.search(body)
    assert body.startswith(f"{count} incidents need you")
    listed = set(map(int, re.findall(r"Reply (\d+)A to ack", body)))
    assert listed and listed <= {1000 + n for n in range(count)}
    if len(listed) < count:
        assert f"{count - len(listed)} more not listed" in body.split("\n")[0]


@pytest.mark.parametrize("action, done, unchanged, expected", [
    ("acknowledge", [4521], None, "Acknowledged 4521."),
    ("resolve", [1, 2], {}, "Resolved 1, 2."),
    ("escalate", [9], None, "Escalated 9."),
    ("acknowledge", [1], {3: "acknowledged", 2: "acknowledged"}, "Acknowledged 1. Already acknowledged: 2, 3."),
    ("acknowledge", [], {5: "resolved"}, "Already resolved: 5."),
    ("acknowledge", [], {5: "resolved", 4: "acknowledged"}, "Already acknowledged: 4. Already resolved: 5."),
    ("resolve", [], {}, texts.SMS_NO_MATCH),
])
def test_sms_confirmation(action, done, unchanged, expected):
    assert texts.sms_confirmation(action, done, unchanged) == expected


def _parse(twiml: str) -> ET.Element:
    assert twiml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(twiml)


@pytest.mark.parametrize("severity, spoken", [("SEV1", "Severity 1."), ("SEV4", "Severity 4."), ("P2", "Severity P2.")])
def test_voice_twiml_reads_the_page_twice_and_gathers_one_digit(severity, spoken):
    url = "https://oncall.example.com/twilio/voice?incident=3&x=\"1\""
    root = _parse(texts.voice_twiml(severity=severity, title="Checkout <down> & out", gather_url=url))
    gather = root.find("Gather")
    assert gather.get("action") == url  # quotes and ampersands survive attribute escaping
    assert (gather.get("numDigits"), gather.get("method")) == ("1", "POST")
    says = [say.text for say in gather.findall("Say")]
    assert len(says) == 2 and says[0] == says[1]
    assert spoken in says[0] and "Checkout <down> & out." in says[0]
    assert "Press 1 to acknowledge. Press 2 to resolve. Press 3 to escalate." in says[0]
    assert root.findall("Say")[-1].text.endswith("Goodbye.")  # after Gather: nobody pressed anything


@pytest.mark.parametrize("title", ["&" * 5000, "a" * 5000, "<" * 301])
def test_voice_twiml_fits_twilios_inline_twiml_limit(title):
    twiml = texts.voice_twiml(severity="SEV1", title=title, gather_url="https://oncall.example.com/twilio/voice?incident=1")
    assert len(twiml) <= texts.TWIML_LIMIT
    _parse(twiml)


def test_voice_menu_again_and_confirmations_are_valid_twiml():
    root = _parse(texts.voice_menu_again(gather_url="https://x/twilio/voice?incident=1&attempt=2"))
    assert root.find("Gather").get("action") == "https://x/twilio/voice?incident=1&attempt=2"
    assert "not an option" in root.find("Gather/Say").text
    assert _parse(texts.voice_confirmation("acknowledge", 12)).find("Say").text == "Incident 12 acknowledged. Goodbye."
    assert (_parse(texts.voice_confirmation("resolve", 12, unchanged="resolved")).find("Say").text
            == "Incident 12 was already resolved. Goodbye.")


@pytest.mark.parametrize("text", ["Acknowledged 1.", "a < b & c > d", "quotes \" and '"])
def test_twiml_message_and_say_escape_text(text):
    assert _parse(texts.twiml_message(text)).find("Message").text == text
    assert _parse(texts.twiml_say(text)).find("Say").text == text


def test_twiml_empty_is_an_empty_response():
    root = _parse(texts.twiml_empty())
    assert root.tag == "Response" and len(root) == 0


def test_messages_come_first_in_a_bundle_and_the_page_keeps_its_instructions_last():
    page = texts.sms_page(severity="SEV1", title="Down", code=12)
    body, left = texts.sms_bundle(page, ["oncall: your shift ends at 09:00", "oncall: please acknowledge"])
    assert left == 0 and body == f"oncall: your shift ends at 09:00\n\noncall: please acknowledge\n\n{page}"
    assert body.endswith("Reply 12A to ack, 12R to resolve, 12E to escalate")
    assert texts.sms_bundle(None, ["only this"]) == ("only this", 0)


def test_messages_that_do_not_fit_wait():
    page = texts.sms_page(severity="SEV1", title="x" * 1400, code=12)
    body, left = texts.sms_bundle(page, ["a" * 150, "b" * 150])
    assert left == 2 and body == page
    body, left = texts.sms_bundle(None, ["a" * 1000, "b" * 1000])
    assert (body, left) == ("a" * 1000, 1)
    assert len(texts.sms_bundle(None, ["a" * 2000])[0]) == texts.SMS_LIMIT
