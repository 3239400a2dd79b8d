"""Calendar links as their owner sees them: each listed with what it shows, when it was made and last fetched;
"Subscribe" showing the link one has instead of making another on every click; revoking. Never commits."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from oncall.errors import NotFound
from oncall.feeds import service
from oncall.feeds.models import CalendarFeed
from oncall.people.models import Team
from oncall.schedules.models import Rotation

# last_fetched_at tells a person whether a link is still in use, to the minute at most: calendar apps poll
# every few minutes, and a write per poll would cost more than serving the poll.
FETCH_RESOLUTION = timedelta(minutes=1)


def list_links(session: Session, *, user_id: int) -> list[dict]:
    """The person's feeds, oldest first, each with a label naming what it shows."""
    feeds = service.list_feeds(session, user_id=user_id)
    rotation_ids = {f.scope_id for f in feeds if f.scope == "rotation"}
    team_ids = {f.scope_id for f in feeds if f.scope == "team"}
    rotations = dict(session.execute(select(Rotation.id, Rotation.name).where(Rotation.id.in_(rotation_ids)))
                     .all()) if rotation_ids else {}
    teams = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all()) if team_ids else {}
    return [{"feed": f, "label": _label(f, rotations, teams)} for f in feeds]


def _label(feed: CalendarFeed, rotations: dict, teams: dict) -> str:
    if feed.scope == "user":
        return "your own shifts in every rotation"
    names = rotations if feed.scope == "rotation" else teams
    name = names.get(feed.scope_id)
    return f"{feed.scope} {name}" if name is not None else f"{feed.scope} {feed.scope_id} (deleted)"


def label_of(session: Session, feed: CalendarFeed) -> str:
    return next(link["label"] for link in list_links(session, user_id=feed.user_id) if link["feed"].id == feed.id)


def subscribe(session: Session, *, owner_id: int, scope: str, scope_id: int, now: datetime,
              replace: bool = False) -> tuple[CalendarFeed, bool]:
    """(feed, made now). The owner's existing link for that target is returned as it is (its secret URL was
    shown once and is not stored, so it cannot be shown again); `replace` revokes the existing ones and
    makes a new link, whose `secret` is set this once."""
    existing = list(session.scalars(select(CalendarFeed).where(
        CalendarFeed.user_id == owner_id, CalendarFeed.scope == scope, CalendarFeed.scope_id == scope_id)
        .order_by(CalendarFeed.id.desc())))
    if existing and not replace:
        return existing[0], False
    for feed in existing:
        service.delete_feed(session, feed)
    return service.create_feed(session, owner_id=owner_id, scope=scope, scope_id=scope_id, now=now), True


def get_own_link(session: Session, feed_id: int, *, owner_id: int) -> CalendarFeed:
    """The feed if it is the owner's; anyone else's does not exist for them."""
    feed = session.get(CalendarFeed, feed_id)
    if feed is None or feed.user_id != owner_id:
        raise NotFound(f"calendar link {feed_id} does not exist")
    return feed


def record_fetch(session: Session, feed_id: int, now: datetime) -> None:
    """Stamp last_fetched_at, unless it was stamped within the resolution (checked in the statement, so
    concurrent polls write once)."""
    session.execute(update(CalendarFeed).where(
        CalendarFeed.id == feed_id,
        or_(CalendarFeed.last_fetched_at.is_(None), CalendarFeed.last_fetched_at <= now - FETCH_RESOLUTION),
    ).values(last_fetched_at=now))
