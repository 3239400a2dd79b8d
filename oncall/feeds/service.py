"""Create and revoke feeds; find a feed by its secret; tell cheaply whether it changed; build it. Never commits."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone
from urllib.parse import urlsplit

from sqlalchemy import Integer, Select, String, bindparam, cast, func, literal_column, select, true, union
from sqlalchemy.orm import Session, selectinload

from oncall.errors import Invalid, NotFound
from oncall.feeds import ical, stamps
from oncall.feeds.models import SCOPES, CalendarFeed
from oncall.people.models import Team, User
from oncall.schedules import timeline
from oncall.schedules.models import Override, Rotation, RotationParticipant, RotationVersion
from oncall.schedules.service import load_schedules, longest_shift

UTC = timezone.utc
# 32 random bytes (256 bits) as URL-safe base64: 43 characters, nothing else is ever a secret.
SECRET_BYTES = 32
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")

DEFAULT_PAST = timedelta(days=30)
DEFAULT_AHEAD = timedelta(days=180)
MAX_WINDOW = timeline.MAX_WINDOW
# Windows further than this from today are nobody's calendar, and keep date arithmetic far from overflow.
MAX_DISTANCE = timedelta(days=3660)
# Events per feed at most, unless the caller says (ONCALL_FEED_MAX_EVENTS): a 210-day window of 8-hour shifts
# is 630 of them; hourly shifts over 400 days would be 9,600, seconds of work and megabytes no client wants.
MAX_EVENTS = 1000
# Changing what a feed looks like (texts, properties) must change every ETag: bump this with it.
RENDER_VERSION = "2"


# --- secrets and links -----------------------------------------------------------------------

def hash_secret(secret: str) -> str:
    # A plain SHA-256 suffices: the secret is 256 random bits, there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def mint_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def feed_links(feed: CalendarFeed, public_url: str) -> dict:
    """The secret URLs of a feed just created (the secret is not kept, so only then)."""
    if not feed.secret:
        raise ValueError("the secret URL exists only on the feed create_feed returned")
    url = f"{public_url.rstrip('/')}/calendars/{feed.secret}.ics"
    return {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}


# --- feeds as records ------------------------------------------------------------------------

TARGETS = {"rotation": Rotation, "team": Team, "user": User}


def _check_target(session: Session, scope: str, scope_id: int) -> Rotation | Team | User:
    model = TARGETS.get(scope)
    if model is None:
        raise Invalid(f"unknown scope {scope!r}", fields={"scope": [f"One of: {', '.join(SCOPES)}."]})
    target = session.get(model, scope_id)
    if target is None:
        raise Invalid(f"{scope} {scope_id} does not exist", fields={"id": [f"Unknown {scope}."]})
    return target


def create_feed(session: Session, *, owner_id: int, scope: str, scope_id: int, now: datetime) -> CalendarFeed:
    """A new feed whose `secret` attribute holds the secret, this once."""
    target = _check_target(session, scope, scope_id)
    secret = mint_secret()
    # A feed opens only a target no younger than itself (see _state_query); a target stamped by a clock
    # ahead of this one must not leave its new feed dead.
    feed = CalendarFeed(user_id=owner_id, scope=scope, scope_id=scope_id, secret_hash=hash_secret(secret),
                        created_at=max(now, target.created_at))
    session.add(feed)
    session.flush()
    feed.secret = secret
    return feed


def list_feeds(session: Session, *, user_id: int) -> list[CalendarFeed]:
    return list(session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user_id).order_by(CalendarFeed.id)))


def get_feed(session: Session, feed_id: int) -> CalendarFeed:
    feed = session.get(CalendarFeed, feed_id)
    if feed is None:
        raise NotFound(f"calendar feed {feed_id} does not exist")
    return feed


def delete_feed(session: Session, feed: CalendarFeed) -> None:
    session.delete(feed)
    session.flush()


# --- serving: which feed, which window -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeedRef:
    """What a secret opens. Immutable, so a process may remember it; whether it is still alive is not."""

    id: int
    scope: str
    scope_id: int
    secret_hash: str


_FEED_BY_HASH = (select(CalendarFeed.id, CalendarFeed.scope, CalendarFeed.scope_id, CalendarFeed.secret_hash)
                 .where(CalendarFeed.secret_hash == bindparam("secret_hash")))


def find_feed(session: Session, secret: str) -> FeedRef | None:
    """The feed behind `secret`, or None for a malformed, unknown or revoked one (callers answer all alike)."""
    if not SECRET_PATTERN.match(secret):
        return None
    wanted = hash_secret(secret)
    row = session.connection().execute(_FEED_BY_HASH, {"secret_hash": wanted}).first()
    # The lookup is by hash, so its timing says nothing about stored secrets; the comparison is constant
    # time all the same, in case the index ever matches loosely (collations, prefixes).
    if row is None or not hmac.compare_digest(row.secret_hash, wanted):
        return None
    return FeedRef(row.id, row.scope, row.scope_id, row.secret_hash)


@dataclass(frozen=True, slots=True)
class Window:
    start_at: datetime
    end_at: datetime
    moving: bool  # the default window: it moves at 00:00 UTC every day

    def key(self) -> str:
        return f"{self.start_at.isoformat()}/{self.end_at.isoformat()}"

    @property
    def anchor(self) -> datetime:
        """What a feed too full for its window keeps nearest (bounded_window): today in the default window,
        else the start the client asked for."""
        return self.start_at + DEFAULT_PAST if self.moving else self.start_at


def _midnight(day) -> datetime:
    return datetime.combine(day, time(), UTC)


def feed_window(now: datetime, start_at: datetime | None = None, end_at: datetime | None = None) -> Window:
    """The window a request asks for: by default 30 days back to 180 days ahead. Always whole UTC days (a start
    is moved back to its midnight, an end forward to the next), so the default window and with it the ETag
    change once a day rather than at every request, and a client cannot defeat the cache of built feeds by
    moving its window a second at a time. Raises WindowError with the offending field for windows that are
    reversed, too long or absurdly far away."""
    today = _midnight(now.astimezone(UTC).date())
    if start_at is None and end_at is None:
        return Window(today - DEFAULT_PAST, today + DEFAULT_AHEAD, moving=True)
    span = DEFAULT_PAST + DEFAULT_AHEAD
    for name, value in (("start", start_at), ("end", end_at)):
        if value is not None and abs(value - today) > MAX_DISTANCE:
            raise WindowError(name, f"Must be within {MAX_DISTANCE.days} days of today.")
    start_at = start_at if start_at is not None else end_at - span
    end_at = end_at if end_at is not None else start_at + span
    if end_at <= start_at:
        raise WindowError("end", "Must be after start.")
    if end_at - start_at > MAX_WINDOW:
        raise WindowError("end", f"Windows are limited to {MAX_WINDOW.days} days.")
    start_day = _midnight(start_at.astimezone(UTC).date())
    end_day = _midnight(end_at.astimezone(UTC).date())
    return Window(start_day, end_day if end_day == end_at else end_day + timedelta(days=1), moving=False)


class WindowError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- serving: has it changed? ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeedState:
    """Everything a feed's bytes depend on besides the window, read in one cheap query.

    Rotation.revision grows by one with every change to a rotation, its overrides and its people's time off
    (schedules.service.touch_rotations), whatever any clock says: each rotation's id and revision, with the
    newest rotation's creation (SQLite gives a deleted highest id to the next rotation, at revision 0 again),
    say whether any schedule changed. The rest has no counter, so it is read as is: people's names (renames),
    the team's or user's name and zone.
    """

    alive: bool  # the feed still exists, and so does the very target it was made for
    target_exists: bool
    revisions: str | None  # "id:revision|..." of the feed's rotations, by id
    newest_rotation_at: datetime | None
    changed_at: datetime | None  # latest updated_at of the feed's rotations: only for Last-Modified
    names: str | None
    label: str | None  # the team's or user's name and zone

    def etag(self, ref: FeedRef, window: Window, reminder: int | None, public_url: str) -> str:
        newest = self.newest_rotation_at.isoformat() if self.newest_rotation_at else ""
        parts = (RENDER_VERSION, public_url, ref.scope, ref.scope_id, window.key(), reminder, self.revisions, newest,
                 self.names, self.label)
        return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + '"'

    def last_modified(self, window: Window) -> datetime:
        """The Last-Modified header, informative only: the last change to a rotation, or the midnight the
        default window last moved. It never earns a 304 (feeds/api.py: a rename or a deleted rotation leaves
        no timestamp, and it is to the second); the ETag does."""
        moments = [ical.NEVER_STAMPED]
        if self.changed_at is not None:
            moments.append(self.changed_at)
        if window.moving:
            moments.append(window.start_at + DEFAULT_PAST)
        return max(moments).replace(microsecond=0)


def _rotation_ids(scope: str, scope_id) -> Select:
    """The rotations a feed draws on: its rotation, its team's, or any a user takes part in or covers."""
    if scope == "rotation":
        return select(Rotation.id).where(Rotation.id == scope_id)
    if scope == "team":
        return select(Rotation.id).where(Rotation.team_id == scope_id)
    return union(
        select(RotationVersion.rotation_id)
        .join(RotationParticipant, RotationParticipant.version_id == RotationVersion.id)
        .where(RotationParticipant.user_id == scope_id),
        select(Override.rotation_id).where(Override.user_id == scope_id),
    )


# Constants written into the SQL: a bound separator would make SQLAlchemy re-render the statement each time.
SEPARATOR = literal_column("'|'", String)
COLON = literal_column("':'", String)


def _state_query(scope: str) -> Select:
    """One statement, built once, its only parameters the feed's: this runs on every poll."""
    scope_id = bindparam("scope_id")
    rids = _rotation_ids(scope, scope_id)
    # SQLite gives a deleted row's id to the next row when it was the highest: a target younger than the
    # feed is not the one it was made for (a deleted rotation's URL must not open the next one created).
    target = TARGETS[scope]
    born = select(target.created_at).where(target.id == scope_id).scalar_subquery()
    alive = (select(func.count().label("n"))
             .where(CalendarFeed.id == bindparam("feed_id"), CalendarFeed.secret_hash == bindparam("secret_hash"),
                    CalendarFeed.created_at >= born)
             .subquery("alive"))
    stamps = (select((cast(Rotation.id, String) + COLON + cast(Rotation.revision, String)).label("stamp"))
              .where(Rotation.id.in_(rids)).order_by(Rotation.id).subquery("stamps"))
    rotations = (select(func.count(Rotation.id).label("n"), func.max(Rotation.created_at).label("newest"),
                        func.max(Rotation.updated_at).label("changed_at"))
                 .where(Rotation.id.in_(rids)).subquery("rotations"))
    revisions = select(func.aggregate_strings(stamps.c.stamp, SEPARATOR).label("revisions")).subquery("revisions")
    people = [
        select(RotationParticipant.user_id)
        .join(RotationVersion, RotationVersion.id == RotationParticipant.version_id)
        .where(RotationVersion.rotation_id.in_(rids)),
        select(Override.user_id).where(Override.rotation_id.in_(rids)),
    ]
    if scope == "user":
        people.append(select(cast(scope_id, Integer)))
    tags = (select((cast(User.id, String) + SEPARATOR + User.name).label("tag"))
            .where(User.id.in_(union(*people))).order_by(User.id).subquery("tags"))
    names = select(func.aggregate_strings(tags.c.tag, SEPARATOR).label("names")).subquery("names")
    columns = [alive.c.n, rotations.c.n.label("rotation_count"), rotations.c.newest, rotations.c.changed_at,
               revisions.c.revisions, names.c.names]
    joined = alive.join(rotations, true()).join(revisions, true()).join(names, true())
    if scope != "rotation":
        model = Team if scope == "team" else User
        label = (select(func.max(model.name + SEPARATOR + model.time_zone).label("label"))
                 .where(model.id == scope_id).subquery("label"))
        columns.append(label.c.label)
        joined = joined.join(label, true())
    return select(*columns).select_from(joined)


_STATE_QUERIES = {scope: _state_query(scope) for scope in SCOPES}


def feed_state(session: Session, ref: FeedRef) -> FeedState:
    # Core, not ORM: this runs on every poll, and ORM execution would double its cost.
    row = session.connection().execute(_STATE_QUERIES[ref.scope], {
        "feed_id": ref.id, "secret_hash": ref.secret_hash, "scope_id": ref.scope_id,
    }).one()
    label = None if ref.scope == "rotation" else row.label
    exists = row.rotation_count == 1 if ref.scope == "rotation" else label is not None
    return FeedState(alive=row.n == 1, target_exists=exists, revisions=row.revisions, newest_rotation_at=row.newest,
                     changed_at=row.changed_at, names=row.names, label=label)


# --- building --------------------------------------------------------------------------------

def _rotations(session: Session, ref: FeedRef) -> list[Rotation]:
    return list(session.scalars(
        select(Rotation)
        .where(Rotation.id.in_(_rotation_ids(ref.scope, ref.scope_id)))
        .options(selectinload(Rotation.versions).selectinload(RotationVersion.participants))
        .order_by(Rotation.id)
    ))


def _final_shifts(schedule: timeline.Schedule, start_at: datetime, end_at: datetime) -> list[timeline.Shift]:
    """shifts_between over a window longer than it allows, one event's worth per piece: pieces are joined
    across its chunks, and cut again at the rotation's handoffs unless they are one override.

    shifts_between merges the same person's consecutive shifts (a one-person rotation, a run of uncovered
    shifts while everyone is away); such a run would begin and end wherever the loaded stretch does, and
    its UID would change as the default window moves. Cut at handoffs, every piece has real edges.
    """
    out: list[timeline.Shift] = []
    handoffs: list[datetime] = []
    while start_at < end_at:
        stop = min(end_at, start_at + MAX_WINDOW)
        handoffs.extend(timeline.handoffs_between(schedule, start_at, stop))
        for shift in timeline.shifts_between(schedule, start_at, stop):
            last = out[-1] if out else None
            if (last is not None and last.end_at == shift.start_at and last.user_id == shift.user_id
                    and last.source == shift.source and last.covering_for == shift.covering_for
                    and last.override_id == shift.override_id):
                out[-1] = replace(last, end_at=shift.end_at)
            else:
                out.append(shift)
        start_at = stop
    cut: list[timeline.Shift] = []
    for shift in out:
        start_at = shift.start_at
        if shift.source != timeline.OVERRIDE:
            for at in handoffs[bisect_right(handoffs, start_at):bisect_left(handoffs, shift.end_at)]:
                cut.append(replace(shift, start_at=start_at, end_at=at))
                start_at = at
        cut.append(replace(shift, start_at=start_at) if start_at != shift.start_at else shift)
    return cut


def shortest_shift(versions: list[timeline.RotationVersion]) -> timedelta:
    # -1h: a DST "day" can be 23 hours (and Lord Howe's 23.5).
    unit = {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}
    lengths = [unit[v.shift_length.unit] * v.shift_length.count for v in versions]
    return max(timedelta(hours=1), min(lengths) - (timedelta(0) if min(lengths) < timedelta(days=1)
                                                   else timedelta(hours=1)))


def bounded_window(rotations: list[Rotation], window: Window, max_events: int, *,
                   one_person: bool = False) -> tuple[datetime, datetime]:
    """The part of the window whose shifts are computed: all of it, unless the rotations' shortest shifts would
    fill it with more than max_events events (hourly shifts over 400 days are 9,600 of them, seconds of
    work); then the part around the window's anchor that holds about max_events, cut on both sides in
    proportion, so a default window keeps a sixth of the past and the rest ahead. A person's feed (`one_person`)
    expects their share of each rotation's shifts."""
    span = window.end_at - window.start_at
    expected = 0.0
    for rotation in rotations:
        versions = rotation.to_plain()
        share = 1 / max(1, min(len(v.participant_ids) for v in versions)) if one_person else 1
        expected += span / shortest_shift(versions) * share
    if expected <= max_events:
        return window.start_at, window.end_at
    keep = max_events / expected
    anchor = window.anchor
    return anchor - (anchor - window.start_at) * keep, anchor + (window.end_at - anchor) * keep


def nearest(shifts: list[ical.FeedShift], anchor: datetime, max_events: int) -> list[ical.FeedShift]:
    """At most max_events of `shifts` (in their order), the ones nearest `anchor`: overrides and time off can
    cut more pieces than bounded_window expected."""
    if len(shifts) <= max_events:
        return shifts

    def distance(shift: ical.FeedShift) -> timedelta:
        if shift.start_at <= anchor < shift.end_at:
            return timedelta(0)
        return min(abs(shift.start_at - anchor), abs(shift.end_at - anchor))

    kept = set(sorted(range(len(shifts)), key=lambda i: (distance(shifts[i]), i))[:max_events])
    return [shift for i, shift in enumerate(shifts) if i in kept]


def feed_shifts(session: Session, ref: FeedRef, rotations: list[Rotation], window: Window,
                max_events: int = 10**9) -> list[ical.FeedShift]:
    """Final shifts overlapping the window, each whole: one reaching over an edge keeps its real start
    and end, so its UID does not change as the default window moves day by day. At most max_events of them
    (bounded_window, nearest): a feed's cost has a ceiling whatever its rotations and window."""
    if not rotations:
        return []
    anchor = window.anchor
    start, end = bounded_window(rotations, window, max_events, one_person=ref.scope == "user")
    window = replace(window, start_at=start, end_at=end)
    margin = max(longest_shift(r.to_plain()) for r in rotations)
    lo, hi = window.start_at - margin, window.end_at + margin
    schedules = load_schedules(session, rotations, lo, hi)
    found: list[tuple[Rotation, timeline.Shift]] = []
    for rotation in rotations:
        schedule = schedules[rotation.id]
        start_at, end_at = lo, hi
        # An override (at most 400 days) can outlast the margin; overrides never overlap each other, so
        # all of it up to the window is that override, whatever else is or is not loaded there.
        for o in schedule.overrides:
            if o.start_at < window.start_at < o.end_at:
                start_at = min(start_at, o.start_at)
            if o.start_at < window.end_at < o.end_at:
                end_at = max(end_at, o.end_at)
        for shift in _final_shifts(schedule, start_at, end_at):
            if shift.end_at <= window.start_at or shift.start_at >= window.end_at:
                continue
            if ref.scope == "user" and shift.user_id != ref.scope_id:
                continue
            found.append((rotation, shift))

    people = {s.user_id for _, s in found} | {s.covering_for for _, s in found}
    people.discard(None)
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(people))).all()) if people else {}
    override_ids = {s.override_id for _, s in found if s.override_id is not None}
    reasons = dict(session.execute(select(Override.id, Override.reason).where(Override.id.in_(override_ids))).all()) \
        if override_ids else {}
    found.sort(key=lambda pair: (pair[1].start_at, pair[0].id))
    return nearest([
        ical.FeedShift(
            rotation_id=rotation.id, rotation_name=rotation.name, start_at=s.start_at, end_at=s.end_at,
            user_id=s.user_id, user_name=names.get(s.user_id), source=s.source,
            covering_for_name=names.get(s.covering_for), override_reason=reasons.get(s.override_id),
        )
        for rotation, s in found
    ], anchor, max_events)


def feed_calendar(session: Session, ref: FeedRef, rotations: list[Rotation], public_url: str) -> ical.FeedCalendar:
    if ref.scope == "rotation":
        rotation = rotations[0]
        name, zone = rotation.name, rotation.current.time_zone
    else:
        owner = session.get(Team if ref.scope == "team" else User, ref.scope_id)
        if owner is None:
            raise NotFound(f"{ref.scope} {ref.scope_id} does not exist")
        name, zone = owner.name, owner.time_zone
    host = urlsplit(public_url).hostname or "oncall"
    return ical.FeedCalendar(name=f"On call: {name}", time_zone=zone, scope=ref.scope, scope_id=ref.scope_id,
                             public_url=public_url, host=host)


def build_feed(session: Session, ref: FeedRef, window: Window, *, reminder: int | None, public_url: str,
               open_writer: Callable[[], ContextManager[Session]], max_events: int = MAX_EVENTS) -> bytes:
    """The feed's bytes: the same data and window always give the same bytes (no 'now' inside; the events' stamps
    are stored, so every process serves the ones the first build wrote). `session` only reads; stamps of new or
    changed events are written in a short transaction of `open_writer()` after the shifts are computed, so no
    lock is held while they are."""
    rotations = _rotations(session, ref)
    if ref.scope == "rotation" and not rotations:
        raise NotFound(f"rotation {ref.scope_id} does not exist")
    calendar = feed_calendar(session, ref, rotations, public_url)
    shifts = feed_shifts(session, ref, rotations, window, max_events)
    stamped = stamps.stamp_events(session, open_writer, calendar, shifts, {r.id: r.updated_at for r in rotations})
    return ical.render_feed(calendar, shifts, stamps=stamped, reminder_minutes=reminder)
