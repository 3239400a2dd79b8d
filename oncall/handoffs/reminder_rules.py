"""Which handoff reminders and re-pages are due for one shift change, and their texts (pure).

The outgoing on-call is texted 30 minutes before the change with a link to the form; the incoming one at
the change (or when a late handoff is submitted) with a link to the note; 30 minutes after the change an
unacknowledged handoff is reminded once more (to the incoming on-call, or to the outgoing one if nothing
was submitted) and the team's open SEV1/SEV2 incidents page the incoming on-call again."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from oncall.handoffs.draft import LATE_WINDOW

BEFORE_CHANGE = timedelta(minutes=30)
ACK_DEADLINE = timedelta(minutes=30)
# A worker that was down catches up on reminders this late at most; older ones would only confuse.
STALE_AFTER = timedelta(hours=2)

OUTGOING_FORM, INCOMING_NOTE, ACK_REMINDER, REPAGE = "outgoing_form", "incoming_note", "ack_reminder", "repage"
KINDS = (OUTGOING_FORM, INCOMING_NOTE, ACK_REMINDER, REPAGE)


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    time_zone: str = "UTC"


@dataclass(frozen=True, slots=True)
class ChangeFacts:
    rotation_id: int
    rotation_name: str
    shift_change_at: datetime
    outgoing: Person | None
    incoming: Person | None
    handoff_id: int | None = None
    handoff_state: str | None = None  # None (nothing saved), draft, submitted, acknowledged
    sent: frozenset[str] = frozenset()  # kinds already recorded for this change


@dataclass(frozen=True, slots=True)
class Due:
    kind: str
    user_id: int | None  # who gets the SMS; None for REPAGE (the page goes to the incoming on-call)
    body: str | None


def _clock(at: datetime, person: Person) -> str:
    local = at.astimezone(ZoneInfo(person.time_zone))
    return f"{local:%H:%M %Z} ({local:%a})"


def due(facts: ChangeFacts, now: datetime, public_url: str) -> list[Due]:
    """What to send now for this change; each kind goes once (`sent`), and not at all once it is stale."""
    at = facts.shift_change_at
    submitted = facts.handoff_state in ("submitted", "acknowledged")
    acknowledged = facts.handoff_state == "acknowledged"
    out: list[Due] = []
    form_url = f"{public_url}/rotations/{facts.rotation_id}/handoff"
    note_url = f"{public_url}/handoffs/{facts.handoff_id}" if facts.handoff_id else form_url
    # The same person on both sides (a one-person rotation, or covering the next shift for someone's PTO):
    # their shift does not end, there is nobody to hand over to and nobody new to page.
    if facts.outgoing is not None and facts.outgoing == facts.incoming:
        return out

    if (OUTGOING_FORM not in facts.sent and facts.outgoing is not None and not submitted
            and at - BEFORE_CHANGE <= now < at):
        out.append(Due(OUTGOING_FORM, facts.outgoing.id,
                       f"oncall: your {facts.rotation_name} shift ends at {_clock(at, facts.outgoing)}. "
                       f"Write the handoff: {form_url}"))

    if (INCOMING_NOTE not in facts.sent and facts.incoming is not None and submitted and not acknowledged
            and at <= now < at + max(LATE_WINDOW, ACK_DEADLINE) and facts.incoming != facts.outgoing):
        sender = facts.outgoing.name if facts.outgoing else "the previous shift"
        out.append(Due(INCOMING_NOTE, facts.incoming.id,
                       f"oncall: you are on call for {facts.rotation_name} from {_clock(at, facts.incoming)}. "
                       f"Handoff from {sender}: {note_url}"))

    if at + ACK_DEADLINE <= now < at + STALE_AFTER and not acknowledged:
        if ACK_REMINDER not in facts.sent:
            if submitted and facts.incoming is not None and facts.incoming != facts.outgoing:
                out.append(Due(ACK_REMINDER, facts.incoming.id,
                               f"oncall: please acknowledge the {facts.rotation_name} handoff: {note_url}"))
            elif not submitted and facts.outgoing is not None:
                out.append(Due(ACK_REMINDER, facts.outgoing.id,
                               f"oncall: the {facts.rotation_name} handoff for {_clock(at, facts.outgoing)} "
                               f"is not written yet: {form_url}"))
        # Someone on call on both sides already holds the incidents; there is nobody new to page.
        if REPAGE not in facts.sent and facts.incoming is not None and facts.incoming != facts.outgoing:
            out.append(Due(REPAGE, facts.incoming.id, None))
    return out
