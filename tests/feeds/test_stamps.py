"""Per-event stamps (feeds/stamps.py) against the database: new events, changed ones, a concurrent second build,
and pruning."""
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from oncall.feeds import ical, stamps
from oncall.feeds.models import FeedEventStamp
from oncall.worker import Worker

UTC = timezone.utc
CAL = ical.FeedCalendar(name="On call: Payments", time_zone="UTC", scope="rotation", scope_id=7,
                        public_url="https://oncall.example.com", host="oncall.example.com")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def shifts(*cut_at_hours: int) -> list[ical.FeedShift]:
    """Three daily shifts of rotation 7; the given ones end that many hours early."""
    out = []
    for day in range(3):
        start = T0 + timedelta(days=day)
        end = start + timedelta(hours=24 - (cut_at_hours[day] if day < len(cut_at_hours) else 0))
        out.append(ical.FeedShift(rotation_id=7, rotation_name="Payments", start_at=start, end_at=end,
                                  user_id=day + 1, user_name=f"P{day}", source="rotation"))
    return out


def writer_of(session):
    @contextmanager
    def open_writer():
        yield session
        session.flush()

    return open_writer


def test_new_events_start_at_zero_and_only_changed_ones_move(session):
    first = stamps.stamp_events(session, writer_of(session), CAL, shifts(), {7: T0})
    assert {s.sequence for s in first.values()} == {0}
    assert {s.modified_at for s in first.values()} == {T0}
    later = T0 + timedelta(hours=5)
    second = stamps.stamp_events(session, writer_of(session), CAL, shifts(0, 3), {7: later})
    changed = ical.uid_of(CAL, shifts()[1])
    assert second[changed] == ical.EventStamp(1, later)
    assert {uid: s for uid, s in second.items() if uid != changed} == \
        {uid: s for uid, s in first.items() if uid != changed}
    # The same content again, by any process: nothing moves.
    assert stamps.stamp_events(session, writer_of(session), CAL, shifts(0, 3), {7: later + timedelta(hours=1)}) \
        == second


def test_a_change_stamped_by_a_concurrent_build_is_not_bumped_twice(session):
    stamps.stamp_events(session, writer_of(session), CAL, shifts(), {7: T0})
    changed = shifts(0, 3)[1]
    row = {"uid_hash": stamps.uid_hash(ical.uid_of(CAL, changed)), "fingerprint": ical.fingerprint_of(CAL, changed),
           "sequence": 0, "modified_at": T0 + timedelta(hours=1), "end_at": changed.end_at}
    session.execute(stamps._upsert(session), [row])  # the other build, first
    session.execute(stamps._upsert(session), [row])  # this one, having read the old fingerprint before
    stored = session.scalar(select(FeedEventStamp.sequence).where(FeedEventStamp.uid_hash == row["uid_hash"]))
    assert stored == 1


def test_housekeeping_deletes_stamps_no_window_can_reach(app, session, clock):
    stamps.stamp_events(session, writer_of(session), CAL, shifts(), {7: T0})
    far_past = [ical.FeedShift(rotation_id=7, rotation_name="Payments", start_at=T0 - timedelta(days=4000),
                               end_at=T0 - timedelta(days=3999), user_id=1, user_name="P0", source="rotation")]
    stamps.stamp_events(session, writer_of(session), CAL, far_past, {7: T0})
    session.commit()
    Worker(app).housekeeping()
    session.expire_all()
    kept = set(session.scalars(select(FeedEventStamp.uid_hash)))
    assert kept == {stamps.uid_hash(ical.uid_of(CAL, s)) for s in shifts()}
