"""/api/v1/calendar-feeds (bearer auth) and the feeds themselves at /calendars/{secret}.ics (the secret is the auth)."""
import logging
from dataclasses import dataclass

from flask import Blueprint as FlaskBlueprint, Flask, Response, current_app, request
from flask_smorest import Blueprint
from marshmallow import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import http_date

from oncall import ratelimits
from oncall.auth import current_user, require_admin
from oncall.clock import utcnow
from oncall.db import after_request_session, get_session, get_sessionmaker
from oncall.feeds import service, subscriptions
from oncall.feeds.build_slots import build_slot
from oncall.feeds.cache import LruCache
from oncall.feeds.schemas import FeedCreatedSchema, FeedCreateSchema, FeedQuerySchema, FeedSchema, load_calendar_query

log = logging.getLogger(__name__)

bp = Blueprint("feeds_api", __name__, url_prefix="/api/v1", description="Calendar feeds (iCalendar subscriptions)")
calendars = FlaskBlueprint("calendars", __name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"
# Clients poll every few minutes and must see an override as soon as it is saved: they may keep a copy
# but must ask first (a 304 is cheap). Private, because the URL is a credential.
CACHE_CONTROL = "private, no-cache"


def _feed_body(feed, *, with_links: bool = False) -> dict:
    body = {"id": feed.id, "user_id": feed.user_id, "scope": feed.scope, "scope_id": feed.scope_id,
            "created_at": feed.created_at, "last_fetched_at": feed.last_fetched_at}
    if with_links:
        body |= service.feed_links(feed, current_app.config["PUBLIC_URL"])
    return body


@bp.post("/calendar-feeds")
@bp.arguments(FeedCreateSchema)
@bp.response(201, FeedCreatedSchema)
def create_feed(data):
    """Create a secret calendar URL for a rotation, a team or a user. Anyone may subscribe to any rotation or
    team and to themselves; a feed of another person needs an administrator. The URL (`/calendars/{secret}.ics`,
    no other auth) and its `webcal://` twin are shown only in this response."""
    me = current_user()
    if data["scope"] == "user" and data["scope_id"] != me.id:
        require_admin(me)
    session = get_session()
    feed = service.create_feed(session, owner_id=me.id, now=utcnow(), **data)
    session.commit()
    return _feed_body(feed, with_links=True)


@bp.get("/calendar-feeds")
@bp.arguments(FeedQuerySchema, location="query")
@bp.response(200, FeedSchema(many=True))
def list_feeds(args):
    """Your calendar feeds (administrators may pass `user_id`). Secret URLs are not shown again."""
    me = current_user()
    user_id = args["user_id"] or me.id
    if user_id != me.id:
        require_admin(me)
    return [_feed_body(f) for f in service.list_feeds(get_session(), user_id=user_id)]


@bp.delete("/calendar-feeds/<int:feed_id>")
@bp.response(204)
def delete_feed(feed_id: int):
    """Revoke a feed (its owner or an administrator): its URL answers 404 from now on."""
    me = current_user()
    session = get_session()
    feed = service.get_feed(session, feed_id)
    if feed.user_id != me.id:
        require_admin(me)
    service.delete_feed(session, feed)
    session.commit()


# --- the feed itself ---------------------------------------------------------------------------

@dataclass
class FeedCaches:
    """Per process. Both are safe to keep because every request re-reads the feed's state: `refs` maps a
    secret's hash to what it opens (immutable), `bodies` maps an ETag to the bytes it names."""

    refs: LruCache
    bodies: LruCache


def _caches() -> FeedCaches:
    app: Flask = current_app._get_current_object()
    caches = app.extensions.get("oncall_feeds")
    if caches is None:
        caches = app.extensions.setdefault("oncall_feeds", FeedCaches(
            refs=LruCache(app.config.get("FEED_REF_CACHE_ITEMS", 4096)),
            bodies=LruCache(app.config.get("FEED_CACHE_ITEMS", 128),
                            max_size=app.config.get("FEED_CACHE_BYTES", 64 * 1024 * 1024)),
        ))
    return caches


def _not_found() -> Response:
    # One answer for malformed, unknown and revoked secrets alike: nothing tells which exist.
    return Response("Not found.\n", status=404, content_type="text/plain; charset=utf-8")


def _not_modified(etag: str) -> bool:
    """Only If-None-Match can earn a 304. Last-Modified is sent (clients show it) but is to the second and
    follows timestamps, while the ETag follows revision counters: a change in the same second as the copy a
    client holds, a rename, or the deletion of the rotation changed last would leave Last-Modified where it
    was, and a 304 to If-Modified-Since would be stale. A 200 is always a valid answer to it (RFC 9110 13.1.3),
    and every major calendar client sends If-None-Match."""
    return "If-None-Match" in request.headers and request.if_none_match.contains_weak(etag.strip('"'))


@calendars.get("/calendars/<secret>.ics")
def calendar_feed(secret: str):
    """The iCalendar document of a feed. A 304 costs one small query; a 200 reuses the bytes last built for
    the same ETag in this process, and builds them otherwise."""
    query = load_calendar_query(request.args) if request.args else {}
    try:
        window = service.feed_window(utcnow(), query.get("start"), query.get("end"))
    except service.WindowError as exc:
        raise ValidationError({exc.field: [str(exc)]}) from None
    reminder = query.get("reminder")
    if not service.SECRET_PATTERN.match(secret):
        return _not_found()

    caches = _caches()
    session = get_session()
    secret_hash = service.hash_secret(secret)
    ref = caches.refs.get(secret_hash)
    if ref is None:
        ref = service.find_feed(session, secret)
        if ref is None:
            return _not_found()
        caches.refs.put(secret_hash, ref)
    state = service.feed_state(session, ref)
    if not state.alive or not state.target_exists:
        caches.refs.discard(secret_hash)
        return _not_found()
    _note_fetch(secret_hash, ref.id)

    public_url = current_app.config["PUBLIC_URL"]
    etag = state.etag(ref, window, reminder, public_url)
    last_modified = state.last_modified(window)
    headers = {"ETag": etag, "Last-Modified": http_date(last_modified), "Cache-Control": CACHE_CONTROL}
    if _not_modified(etag):
        _end_read(session)
        return Response(status=304, headers=headers)
    body = caches.bodies.get(etag)
    if body is None:
        ratelimits.count_feed_build(secret_hash)
        config = current_app.config
        with build_slot(config["FEED_BUILD_LOCK_DIR"] or current_app.instance_path,
                        slots=int(config["FEED_BUILD_SLOTS"]), wait_seconds=float(config["FEED_BUILD_WAIT_SECONDS"])):
            body = service.build_feed(session, ref, window, reminder=reminder, public_url=public_url,
                                      open_writer=get_sessionmaker().begin, max_events=int(config["FEED_MAX_EVENTS"]))
        # Built from several queries: keep it under this ETag only if nothing changed meanwhile. Otherwise
        # it is still served; its (older) ETag makes the client's next poll fetch the newer state.
        if service.feed_state(session, ref) == state:
            caches.bodies.put(etag, body, len(body))
    _end_read(session)
    return Response(body, status=200, headers=headers, content_type=CONTENT_TYPE)


def _end_read(session) -> None:
    # Nothing was written; COMMIT rather than the teardown's ROLLBACK because psycopg forgets its prepared
    # statements on ROLLBACK, and then PostgreSQL plans the validator query afresh on every poll (about
    # 1 ms, more than running it).
    session.commit()


@calendars.route("/calendars/<path:anything>")
def not_a_feed(anything: str):
    return _not_found()


# The last fetch this process recorded, by secret hash: polls within the resolution of it write nothing, and
# the statement itself checks too, for other processes.
_fetches: LruCache = LruCache(4096)


def _note_fetch(secret_hash: str, feed_id: int) -> None:
    now = utcnow()
    last = _fetches.get(secret_hash)
    if last is not None and now - last < subscriptions.FETCH_RESOLUTION:
        return
    _fetches.put(secret_hash, now)
    app = current_app._get_current_object()
    # After the request's own (read-only) transaction, as API tokens' last use is (oncall.auth).
    after_request_session(lambda: _record_fetch(app, feed_id, now))


def _record_fetch(app: Flask, feed_id: int, now) -> None:
    try:
        with get_sessionmaker(app).begin() as session:
            subscriptions.record_fetch(session, feed_id, now)
    except SQLAlchemyError:  # a busy database costs the stamp, never the feed
        log.warning("could not record a fetch of calendar feed %s", feed_id, exc_info=True)
