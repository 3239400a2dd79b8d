"""Per-event SEQUENCE and LAST-MODIFIED for calendar feeds, kept by UID in feed_event_stamps. Never commits.

A client that already holds an event replaces it only if its SEQUENCE grew (RFC 5545 3.8.7.4; Outlook and
Apple Calendar keep the old one otherwise), and sorts changes by LAST-MODIFIED. Nothing stored per shift could
say which events a change touched (a deleted override leaves no row; a change of rotation cuts shifts it never
names), so the feed compares instead: each event's content has a fingerprint, and an event whose fingerprint
differs from the one last served under its UID gets SEQUENCE + 1 and, as LAST-MODIFIED, the last change to its
rotation. Every other event keeps both, whichever process builds the feed and however often.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager as ContextManager
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from oncall.feeds import ical
from oncall.feeds.models import FeedEventStamp

# Keys per read: SQLite allows 32,766 bound variables per statement.
CHUNK = 1000


def uid_hash(uid: str) -> str:
    return hashlib.sha256(uid.encode()).hexdigest()[:32]


def stamp_events(session: Session, open_writer: Callable[[], ContextManager[Session]], calendar: ical.FeedCalendar,
                 shifts: Iterable[ical.FeedShift], changed_at: Mapping[int, datetime]) -> dict[str, ical.EventStamp]:
    """The stamp of every event of `shifts` (by UID), writing those that are new or changed.

    Reads through `session`; writes, only when an event is new or changed, in one transaction of
    `open_writer()` (a feed request's own session only reads). `changed_at` maps each rotation to its last change
    (Rotation.updated_at, the database's clock). Two processes building the same change at once bump it once:
    the write only applies where the stored fingerprint still differs, and the stamps are read back in the
    writing transaction."""
    wanted: dict[str, tuple[str, str, ical.FeedShift]] = {}
    for shift in shifts:
        uid = ical.uid_of(calendar, shift)
        wanted[uid_hash(uid)] = (uid, ical.fingerprint_of(calendar, shift), shift)
    known = _read(session, list(wanted))
    writes = []
    for key, (_uid, fingerprint, shift) in wanted.items():
        old = known.get(key)
        if old is not None and old.fingerprint == fingerprint:
            continue
        modified_at = changed_at[shift.rotation_id]
        if old is not None:
            # Never backwards, whatever the clocks did.
            modified_at = max(modified_at, old.modified_at)
        writes.append({"uid_hash": key, "fingerprint": fingerprint, "sequence": 0, "modified_at": modified_at,
                       "end_at": shift.end_at})
    if writes:
        with open_writer() as writer:
            writer.execute(_upsert(writer), writes)  # one statement, executemany
            # Read back in the writing transaction: the reading session's snapshot (SQLite) may predate it.
            known |= _read(writer, [w["uid_hash"] for w in writes])
    return {uid: ical.EventStamp(known[key].sequence, known[key].modified_at) for key, (uid, _f, _s) in wanted.items()}


class _Stored:
    __slots__ = ("fingerprint", "sequence", "modified_at")

    def __init__(self, fingerprint: str, sequence: int, modified_at: datetime) -> None:
        self.fingerprint, self.sequence, self.modified_at = fingerprint, sequence, modified_at


_TABLE = FeedEventStamp.__table__
# Built once with an expanding parameter: a statement with a thousand literal keys would be compiled anew every
# time, which cost more than running it.
_READ = (select(_TABLE.c.uid_hash, _TABLE.c.fingerprint, _TABLE.c.sequence, _TABLE.c.modified_at)
         .where(_TABLE.c.uid_hash.in_(bindparam("keys", expanding=True))))


def _read(session: Session, keys: list[str]) -> dict[str, _Stored]:
    out: dict[str, _Stored] = {}
    for at in range(0, len(keys), CHUNK):
        rows = session.execute(_READ, {"keys": keys[at:at + CHUNK]})
        for row in rows:
            out[row.uid_hash] = _Stored(row.fingerprint, row.sequence, row.modified_at)
    return out


def _upsert(session: Session):
    """INSERT new stamps; for a UID already stamped, SEQUENCE + 1 and the new fingerprint, but only if the
    fingerprint stored is still another one (a concurrent build may have stamped this very change)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = _TABLE
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.uid_hash],
        set_={"fingerprint": statement.excluded.fingerprint, "sequence": table.c.sequence + 1,
              "modified_at": statement.excluded.modified_at, "end_at": statement.excluded.end_at},
        where=table.c.fingerprint != statement.excluded.fingerprint,
    )


def prune(session: Session, now: datetime, keep: timedelta) -> int:
    """Delete the stamps of events that ended more than `keep` ago (no feed window reaches them any more)."""
    return session.execute(delete(FeedEventStamp).where(FeedEventStamp.end_at < now - keep)).rowcount
