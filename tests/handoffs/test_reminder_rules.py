"""When handoff reminders and re-pages are due, and what they say (pure)."""
from datetime import datetime, timedelta, timezone

import pytest

from oncall.handoffs.reminder_rules import (
    ACK_REMINDER, INCOMING_NOTE, OUTGOING_FORM, REPAGE, ChangeFacts, Person, due,
)

UTC = timezone.utc
T = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)
BOB = Person(2, "Bob", "America/New_York")
CAROL = Person(3, "Carol", "America/Los_Angeles")
URL = "https://oncall.example.com"
M = timedelta(minutes=1)


def facts(state=None, sent=(), outgoing=BOB, incoming=CAROL, handoff_id=None):
    return ChangeFacts(rotation_id=7, rotation_name="Payments primary", shift_change_at=T, outgoing=outgoing,
                       incoming=incoming, handoff_id=handoff_id if handoff_id or state is None else 12,
                       handoff_state=state, sent=frozenset(sent))


@pytest.mark.parametrize("now, f, expected", [
    (T - 31 * M, facts(), []),
    (T - 30 * M, facts(), [(OUTGOING_FORM, BOB.id)]),
    (T - 1 * M, facts(state="draft"), [(OUTGOING_FORM, BOB.id)]),        # a saved draft is not a handoff
    (T - 10 * M, facts(sent=[OUTGOING_FORM]), []),                         # once
    (T - 10 * M, facts(state="submitted"), []),                            # written early: no nagging
    (T, facts(sent=[OUTGOING_FORM]), []),                                  # the form reminder stops at the change
    (T, facts(state="submitted", sent=[OUTGOING_FORM]), [(INCOMING_NOTE, CAROL.id)]),
    (T + 20 * M, facts(state="submitted", sent=[OUTGOING_FORM]), [(INCOMING_NOTE, CAROL.id)]),  # late handoff
    (T + 20 * M, facts(state="acknowledged"), []),
    (T + 29 * M, facts(sent=[OUTGOING_FORM]), []),
    (T + 30 * M, facts(state="submitted", sent=[OUTGOING_FORM, INCOMING_NOTE]),
     [(ACK_REMINDER, CAROL.id), (REPAGE, CAROL.id)]),
    (T + 30 * M, facts(sent=[OUTGOING_FORM]), [(ACK_REMINDER, BOB.id), (REPAGE, CAROL.id)]),  # never written
    (T + 45 * M, facts(state="submitted", sent=[INCOMING_NOTE, ACK_REMINDER, REPAGE]), []),
    (T + 45 * M, facts(state="acknowledged", sent=[INCOMING_NOTE]), []),
    (T + 2 * 60 * M, facts(sent=[OUTGOING_FORM]), []),                     # stale: a worker that was down
    # nobody on one side
    (T - 30 * M, facts(outgoing=None), []),
    (T + 30 * M, facts(incoming=None, sent=[OUTGOING_FORM]), [(ACK_REMINDER, BOB.id)]),
    # the same person on both sides: nothing to hand over, nobody new to page
    (T, facts(state="submitted", incoming=BOB, sent=[OUTGOING_FORM]), []),
    (T + 30 * M, facts(state="submitted", incoming=BOB, sent=[OUTGOING_FORM]), []),
    (T - 30 * M, facts(incoming=BOB), []),                                 # "your shift ends" would be untrue
    (T + 30 * M, facts(incoming=BOB, sent=[OUTGOING_FORM]), []),           # nor is a handoff to oneself overdue
])
def test_due(now, f, expected):
    assert [(d.kind, d.user_id) for d in due(f, now, URL)] == expected


def test_texts():
    [form] = due(facts(), T - 30 * M, URL)
    assert form.body == ("oncall: your Payments primary shift ends at 09:00 EST (Wed). "
                         "Write the handoff: https://oncall.example.com/rotations/7/handoff")
    [note] = due(facts(state="submitted", sent=[OUTGOING_FORM]), T, URL)
    assert note.body == ("oncall: you are on call for Payments primary from 06:00 PST (Wed). "
                         "Handoff from Bob: https://oncall.example.com/handoffs/12")
    ack, repage = due(facts(state="submitted", sent=[INCOMING_NOTE]), T + 30 * M, URL)
    assert ack.body == "oncall: please acknowledge the Payments primary handoff: https://oncall.example.com/handoffs/12"
    assert repage.body is None
    unwritten, _ = due(facts(sent=[OUTGOING_FORM]), T + 30 * M, URL)
    assert unwritten.body == ("oncall: the Payments primary handoff for 09:00 EST (Wed) is not written yet: "
                              "https://oncall.example.com/rotations/7/handoff")
