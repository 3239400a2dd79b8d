"""Sending the outbox: claim due notifications, send them through a Notifier after commit, record the
provider's id or the failure, retry transient failures with backoff, fall back to the other channel.

Short transactions, none held open across a provider request:
  1. claim: lock due rows (FOR UPDATE SKIP LOCKED), mark them `sending` with a lease, commit;
  2. send each page (no transaction);
  3. record: provider id and `sent`, or the failure, with timeline events.

Leases and due times are instants of the database's clock (db.database_now), read inside the transaction
that claims the rows, so every dispatcher on every host measures them against the same clock, and a lease
starts when its rows are claimed, not when a long dispatch pass began. A claim never takes more rows than
there are free request slots, so every claimed row's request starts at once and its lease (60 s) covers it
and its recording many times over (the gateway gives up after 10 s): a page whose request is in flight is
never claimed by another dispatcher. Each outcome is recorded as soon as its request returns.

A dispatcher killed between 1 and 3 leaves `sending` rows whose lease runs out; any dispatcher then sends
them again. So a page is never lost, and the only way one goes twice is a request the provider accepted
whose answer never reached us (a kill or a timeout at that moment; Twilio's status callback, which names the
page, settles most of those before the lease ends: see _confirmed).

At most one SMS per person per SMS_WINDOW: later ones wait for the window to pass and then go out together
as one digest (texts.sms_digest), so an alert storm does not flood anyone's phone. Rows without an incident
are messages (handoff reminders, handoffs/reminders.py): they share the person's window and SMS, ahead of
the pages (texts.sms_bundle), and have no timeline and no fallback.
"""
import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oncall.clock import database_now
from oncall.db import upsert_insert
from oncall.errors import DeliveryFailed, TransientDeliveryFailure
from oncall.incidents import events
from oncall.incidents.events import channel_name
from oncall.incidents.models import TRIGGERED, Incident
from oncall.paging import texts
from oncall.paging.models import (CANCELLED, FAILED, PENDING, SENDING, SENT, SMS, VERIFY_PHONE, VOICE, Notification,
                                  SmsWindow)
from oncall.paging.notifier import Notifier
from oncall.people.models import User

log = logging.getLogger(__name__)

SMS_WINDOW = timedelta(seconds=30)
LEASE = timedelta(seconds=60)  # longer than any provider request may take (the gateway times out at 10 s)
CONCURRENCY = 8  # provider requests in flight per dispatcher; a claim takes at most the free ones
DIGEST_MAX = 200  # notifications one digest SMS may stand for (texts.sms_digest cuts the text to fit)
MAX_ATTEMPTS = 5
BACKOFF_FIRST, BACKOFF_MAX = timedelta(seconds=2), timedelta(minutes=2)
# Recording an outcome is retried (a dropped database connection, a restart) during this share of its lease;
# after that another dispatcher may soon take the rows over, and a late record would only log.
RECORD_WITHIN = 0.75

# Twilio MessageStatus and CallStatus, ranked so that late or repeated callbacks never move a page backwards.
SMS_RANK = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3,
            "undelivered": 3, "failed": 3, "canceled": 3, "read": 4}
CALL_RANK = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2, "answered": 2, "completed": 3,
             "busy": 3, "no-answer": 3, "failed": 3, "canceled": 3}
FAILURES = {SMS: {"undelivered", "failed"}, VOICE: {"busy", "no-answer", "failed"}}
# Statuses worth a line on the timeline; the rest are steps on the way.
NOTEWORTHY = {"sent", "delivered", "undelivered", "failed", "read", "in-progress", "answered", "completed", "busy",
              "no-answer", "canceled"}

Clock = Callable[[Session], datetime]


def queue_message(session: Session, *, user: User, body: str, now: datetime) -> Notification | None:
    """Queue a text for a person (not an incident page): it goes out in their SMS window like handoff
    reminders. None when they cannot get one (no phone, or texted STOP)."""
    if not user.phone or user.sms_opted_out:
        return None
    message = Notification(incident_id=None, step=0, round=0, user_id=user.id, channel=SMS, state=PENDING,
                           next_attempt_at=now, created_at=now, to=user.phone, body=body)
    session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 2 s, 4 s, 8 s ... capped at two minutes."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def clock_for(now: datetime | None) -> Clock:
    """The database's clock, or a fixed instant (tests, which set the time)."""
    return database_now if now is None else (lambda _session: now)


@dataclass
class _Job:
    """One provider request: a page, or a digest SMS standing for several notifications of one person."""

    channel: str
    user_id: int
    user_name: str
    to: str
    attempts: dict[int, int]  # notification id -> its attempt number, to detect a lease taken over meanwhile
    body: str
    incident_ids: list[int] = field(default_factory=list)
    messages: int = 0  # rows without an incident (handoff reminders) in this SMS
    claimed_at: datetime | None = None  # the database's clock when the claim took the rows
    window_before: datetime | None = None  # the person's SMS window before this send reserved it
    # time.monotonic() after which recording is given up: the lease is about to run out.
    record_by: float = float("inf")


def dispatch_due(session_factory: Callable[[], Session], notifier: Notifier, *, public_url: str,
                 now: datetime | None = None, limit: int = 100, sms_window: timedelta = SMS_WINDOW,
                 lease: timedelta = LEASE, concurrency: int = CONCURRENCY, claim: int | None = None) -> int:
    """Send what is due, at most `limit` notifications; returns how many were handled (sent, failed or set to
    retry).

    `now` None (the worker): every claim and every record reads the database's clock. A fixed `now` is for
    tests. Up to `concurrency` requests are in flight at once; whenever one returns, its outcome is recorded
    and the free slot is filled by a new claim (of at most `claim` rows), so an alert storm is not paged one
    slow provider request after another, and nothing waits, claimed, behind a slow request."""
    public_url = public_url.rstrip("/")
    callback = f"{public_url}/twilio/status"  # + ?notification=<id>, see status_callback_url
    name = getattr(notifier, "name", "notifier")
    clock = clock_for(now)
    # Rows written during this call (fallbacks of pages that just failed) wait for the next call: one call
    # handles each row that was due when it started at most once.
    newest = _newest_due(session_factory, clock)
    if newest is None:
        return 0
    handled = claimed = 0
    running: dict[Future, _Job] = {}
    exhausted = False
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="page") as pool:
        while True:
            free = concurrency - len(running)
            if free and not exhausted and claimed < limit:
                size = min(free, claim or free, limit - claimed)
                try:
                    jobs, touched = _claim(session_factory, clock=clock, public_url=public_url, newest=newest,
                                           limit=size, sms_window=sms_window, lease=lease)
                except Exception:
                    if not running:
                        raise
                    # The requests in flight still get their outcomes recorded; the next pass claims again.
                    log.warning("claiming notifications failed; finishing the %s requests in flight", len(running),
                                exc_info=True)
                    jobs, touched = [], 0
                claimed += touched
                exhausted = touched == 0
                for job in jobs:
                    running[pool.submit(_send, notifier, job, callback)] = job
                if touched and len(running) < concurrency:
                    continue  # slots left: fill them before waiting
            if not running:
                return handled
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            # Recorded in this thread: the session factory may be bound to a single connection (tests).
            handled += _record_all(session_factory, [(running.pop(f), f.result()) for f in done],
                                   notifier_name=name, clock=clock)


def _newest_due(session_factory, clock: Clock) -> int | None:
    """The newest notification id if anything is due, else None. A read that never takes SQLite's write
    lock, so an idle dispatcher polling several times a second does not queue the web's writes behind it."""
    with session_factory() as session:
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        at = clock(session)
        newest, due = session.execute(select(func.max(Notification.id), exists(_due(at)))).one()
        return newest if due else None


def _record_all(session_factory, results: list, *, notifier_name: str, clock: Clock) -> int:
    """Store the outcomes of finished requests: together, or one transaction each if that fails (retried
    while their leases last), so one bad record cannot undo the others."""
    def record(session, job, outcome):
        provider_id, error, transient = outcome
        _record(session, job, notifier_name=notifier_name, provider_id=provider_id, error=error,
                transient=transient, now=clock(session))

    try:
        with session_factory.begin() as session:
            for job, outcome in results:
                record(session, job, outcome)
        return sum(len(job.attempts) for job, _ in results)
    except Exception:
        log.warning("recording %s outcomes together failed; recording them one by one", len(results), exc_info=True)
    handled = 0
    for job, outcome in results:
        pause = 0.1
        while True:
            try:
                with session_factory.begin() as session:
                    record(session, job, outcome)
            except Exception:
                if time.monotonic() + pause < job.record_by:
                    log.warning("recording notifications %s failed; retrying in %.1f s", list(job.attempts), pause,
                                exc_info=True)
                    time.sleep(pause)
                    pause = min(pause * 2, 2.0)
                    continue
                # Sent (or not) but not stored: the lease runs out and the page may go again, which beats
                # losing it.
                log.exception("could not record the outcome of notifications %s", list(job.attempts))
                break
            handled += len(job.attempts)
            break
    return handled


def status_callback_url(callback: str, job: "_Job") -> str:
    """The job's StatusCallback names its first notification: Twilio may report on a page before its answer
    to the create request reaches us (an SMS to a number that cannot take one fails at once), or after that
    answer was lost to a timeout; the SID alone would then match nothing and the failure or the delivery
    would be lost. Twilio signs the query string too, so the id cannot be forged."""
    return f"{callback}?notification={min(job.attempts)}"


def _send(notifier: Notifier, job: "_Job", callback: str) -> tuple[str | None, str | None, bool]:
    """(provider id, error, transient) of one provider request. Never raises."""
    callback = status_callback_url(callback, job)
    try:
        if job.channel == SMS:
            return notifier.send_sms(to=job.to, body=job.body, status_callback=callback), None, False
        return notifier.place_call(to=job.to, twiml=job.body, status_callback=callback), None, False
    except TransientDeliveryFailure as exc:
        return None, str(exc), True
    except DeliveryFailed as exc:
        return None, str(exc), False
    except Exception as exc:  # a notifier bug must not lose the page: treat it as worth retrying
        log.exception("notifier %s raised unexpectedly", getattr(notifier, "name", notifier))
        return None, f"{type(exc).__name__}: {exc}", True


# --- 1. claim ---------------------------------------------------------------------------------------------

def _due(now: datetime):
    # `sending` rows whose lease ran out are due again: the worker that claimed them is gone.
    return select(Notification).where(Notification.state.in_((PENDING, SENDING)), Notification.next_attempt_at <= now)


def _claim(session_factory, *, clock: Clock, public_url: str, limit: int, sms_window: timedelta,
           lease: timedelta, newest: int | None = None) -> tuple[list[_Job], int]:
    """Lock up to `limit` due rows (with ids up to `newest`) and turn them into provider requests.
    Returns (jobs, rows dealt with: sent, cancelled, failed or deferred)."""
    with session_factory.begin() as session:
        now = clock(session)
        due = _due(now) if newest is None else _due(now).where(Notification.id <= newest)
        rows = list(session.scalars(
            due.order_by(Notification.next_attempt_at, Notification.id).limit(limit)
            .with_for_update(skip_locked=True)
        ))
        if not rows:
            return [], 0
        incidents = _by_id(session, Incident, {r.incident_id for r in rows} - {None})
        users = _by_id(session, User, {r.user_id for r in rows})

        jobs: list[tuple[_Job, list[Notification]]] = []  # each request and the rows it stands for
        sms_by_user: dict[int, list[Notification]] = {}
        for row in rows:
            incident, user = incidents.get(row.incident_id), users[row.user_id]
            if row.state == SENDING:
                log.warning("notification %s: lease expired without an outcome (worker died?); sending again", row.id)
            if incident is not None and incident.status != TRIGGERED:
                row.state = CANCELLED  # acknowledged or resolved since it was queued
                continue
            if row.provider_id is not None:
                _confirmed(session, row, incident, user, now=now)
                continue
            unsendable = _unsendable(row, user)
            if unsendable:
                _fail(session, row, incident, user, reason=unsendable, now=now)
                continue
            if row.channel == SMS and user.sms_opted_out:
                _fail(session, row, incident, user, reason=f"{user.name} has opted out of SMS (texted STOP)", now=now)
                continue
            if row.channel == SMS:
                sms_by_user.setdefault(user.id, []).append(row)
            elif incident is None:
                _fail(session, row, None, user, reason="a message without an incident is sent by SMS only", now=now)
            else:
                jobs.append((_Job(VOICE, user.id, user.name, user.phone, {}, _voice_body(incident, public_url),
                                  [incident.id]), [row]))

        windows = _lock_windows(session, sorted(sms_by_user))
        untouched = 0
        for user_id, user_rows in sms_by_user.items():
            window = windows.get(user_id)
            if window is None:
                # Another worker is deciding for this person right now; these rows are looked at next time.
                untouched += len(user_rows)
                continue
            if window.last_sent_at is not None and now < window.last_sent_at + sms_window:
                for row in user_rows:
                    row.next_attempt_at = window.last_sent_at + sms_window
                continue
            # Everything else due for this person goes in the same SMS, not just what this claim picked up.
            more = list(session.scalars(
                _due(now).where(Notification.user_id == user_id, Notification.channel == SMS,
                                Notification.id.not_in([r.id for r in user_rows]))
                .order_by(Notification.id).limit(DIGEST_MAX).with_for_update(skip_locked=True)))
            incidents |= _by_id(session, Incident, {r.incident_id for r in more} - set(incidents) - {None})
            for row in more:
                incident = incidents.get(row.incident_id)
                if incident is not None and incident.status != TRIGGERED:
                    row.state = CANCELLED
                elif row.provider_id is not None:
                    _confirmed(session, row, incident, users[user_id], now=now)
                elif _unsendable(row, users[user_id]):
                    _fail(session, row, incident, users[user_id], reason=_unsendable(row, users[user_id]), now=now)
                else:
                    user_rows.append(row)
            user = users[user_id]
            pages = list({r.incident_id: incidents[r.incident_id] for r in user_rows if r.incident_id}.values())
            messages = [r for r in user_rows if r.incident_id is None]
            body, left_out = texts.sms_bundle(_sms_body(pages, public_url) if pages else None, [r.body for r in messages])
            for row in messages[len(messages) - left_out:]:  # no room in this SMS: they wait for the next one
                user_rows.remove(row)
                row.next_attempt_at = now + sms_window
            before, window.last_sent_at = window.last_sent_at, now
            jobs.append((_Job(SMS, user_id, user.name, user.phone, {}, body, [i.id for i in pages],
                              window_before=before, messages=len(messages) - left_out), user_rows))
        # The lease starts now, after every lock above was granted: read the clock again.
        leased_at = clock(session)
        record_by = time.monotonic() + lease.total_seconds() * RECORD_WITHIN
        for job, leased in jobs:
            for row in leased:
                _lease(row, leased_at, lease)
            job.attempts = {row.id: row.attempts for row in leased}
            job.claimed_at, job.record_by = now, record_by
        # Oldest first: an SMS before its call.
        return sorted((job for job, _ in jobs), key=lambda job: min(job.attempts)), len(rows) - untouched


def _unsendable(row: Notification, user: User) -> str | None:
    """Why this row may not go to the person's phone now (None: it may). Pages and messages go only to a
    verified number; a verification code goes only to the number it verifies."""
    if not user.phone:
        return "the person has no phone number any more"
    if row.purpose == VERIFY_PHONE:
        return None if row.to == user.phone else "the number this code was for has changed since"
    if not user.phone_verified:
        return f"{user.phone} is not verified yet"
    return None


def _confirmed(session: Session, row: Notification, incident: Incident | None, user: User, *,
               now: datetime) -> None:
    """A page waiting for a retry or for its lease, although Twilio's status callback already named its SID:
    the request that looked lost did reach Twilio, so sending it again would only page twice."""
    row.state, row.sent_at, row.last_error = SENT, now, None
    if incident is None:
        return
    events.record(session, incident, kind="notification", now=now, user_id=user.id, detail={
        "message": f"{channel_name(row.channel)} to {user.name} was accepted by the provider after all "
                   f"(id {row.provider_id}); not sent again.",
        "channel": row.channel, "to": row.to, "provider_id": row.provider_id, "state": SENT,
        "notification_ids": [row.id]})


def _by_id(session: Session, model, ids: set[int]) -> dict:
    return {obj.id: obj for obj in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}


def _lease(row: Notification, now: datetime, lease: timedelta) -> None:
    row.state = SENDING
    row.attempts += 1
    row.next_attempt_at = now + lease


def _lock_windows(session: Session, user_ids: list[int]) -> dict[int, SmsWindow]:
    """Each person's SMS window row, locked; people whose row another worker holds are left out."""
    if not user_ids:
        return {}
    session.execute(upsert_insert(session, SmsWindow).values([{"user_id": uid} for uid in user_ids])
                    .on_conflict_do_nothing())
    return {w.user_id: w for w in session.scalars(
        select(SmsWindow).where(SmsWindow.user_id.in_(user_ids)).order_by(SmsWindow.user_id)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))}


def _link(public_url: str, incident: Incident) -> str:
    return f"{public_url}/incidents/{incident.id}"


def _sms_body(pages: list[Incident], public_url: str) -> str:
    if len(pages) == 1:
        incident = pages[0]
        return texts.sms_page(severity=incident.severity, title=incident.title, code=incident.code,
                              runbook=incident.runbook_url, link=_link(public_url, incident))
    return texts.sms_digest([(i.severity, i.title, i.code, i.runbook_url) for i in pages])


def _voice_body(incident: Incident, public_url: str) -> str:
    return texts.voice_twiml(severity=incident.severity, title=incident.title,
                             gather_url=f"{public_url}/twilio/voice?incident={incident.id}")


# --- 3. record --------------------------------------------------------------------------------------------

def _record(session: Session, job: _Job, *, notifier_name: str, provider_id: str | None, error: str | None,
            transient: bool, now: datetime) -> None:
    rows = list(session.scalars(select(Notification).where(Notification.id.in_(job.attempts))
                                .order_by(Notification.id).with_for_update()))
    this_attempt = [r for r in rows if r.attempts == job.attempts[r.id]]
    if provider_id is None:
        # A status callback that overtook the request named its SID (status_callback_url): whatever the
        # request itself ended with (a read timeout, typically), Twilio has the page.
        provider_id = next((r.provider_id for r in this_attempt if r.provider_id is not None), None)
        if provider_id is not None:
            log.info("notifications %s: %s, but Twilio's callback confirmed %s", list(job.attempts), error,
                     provider_id)
    # Rows a status callback already settled while the request was in flight (a failure it reported).
    settled = [r for r in this_attempt if r.state != SENDING and provider_id is not None
               and r.provider_id == provider_id]
    ours = [r for r in this_attempt if r.state == SENDING]
    if len(ours) + len(settled) < len(rows):
        log.warning("notifications %s were taken over by another worker after their lease ran out",
                    [r.id for r in rows if r not in ours and r not in settled])
    incidents = _by_id(session, Incident, {r.incident_id for r in ours} - {None})
    what = f"{channel_name(job.channel)} to {job.user_name} ({job.to})"
    digest = len(job.incident_ids) + job.messages > 1
    if provider_id is not None:
        early = {r.status for r in ours + settled if r.status is not None}
        for row in ours:
            # Sent when the request went out, the instant the SMS window counts from; `now` is when we heard back.
            row.state, row.provider_id, row.digest, row.last_error = SENT, provider_id, digest, None
            row.sent_at, row.to = job.claimed_at or now, job.to
        for incident_id in sorted({r.incident_id for r in ours + settled} - {None}):
            extra = f" in one digest with {len(job.incident_ids) - 1} other incident(s)" if digest else ""
            if job.messages:
                extra += f" and {job.messages} other message(s)"
            events.record(session, incident_id, kind="notification", now=now, user_id=job.user_id, detail={
                "message": f"{what} sent{extra} through {notifier_name}, id {provider_id}.",
                "channel": job.channel, "to": job.to, "provider_id": provider_id, "state": SENT, "digest": digest,
                "notification_ids": [r.id for r in ours + settled if r.incident_id == incident_id]})
        # What the early callback said about the first row holds for every row the same SMS stood for.
        rank = SMS_RANK if job.channel == SMS else CALL_RANK
        for status in sorted(early, key=lambda s: rank.get(s, -1)):
            record_delivery_status(session, provider_id=provider_id, status=status, now=now)
        return

    if job.channel == SMS:
        window = session.get(SmsWindow, job.user_id, with_for_update=True)
        if window is not None and window.last_sent_at == job.claimed_at:
            window.last_sent_at = job.window_before  # nothing was sent: the window is not used up
    for row in ours:
        incident = incidents.get(row.incident_id)
        if transient and row.attempts < MAX_ATTEMPTS:
            wait = backoff(row.attempts)
            row.state, row.next_attempt_at, row.last_error = PENDING, now + wait, error
            if incident is None:
                log.info("notification %s: %s; retrying in %s", row.id, error, wait)
                continue
            events.record(session, incident, kind="notification", now=now, user_id=job.user_id, detail={
                "message": f"{what} failed ({error}); retrying in {int(wait.total_seconds())} s "
                           f"(attempt {row.attempts} of {MAX_ATTEMPTS}).",
                "channel": job.channel, "to": job.to, "state": "retrying", "error": error,
                "notification_ids": [row.id]})
        else:
            user = session.get(User, job.user_id)
            _fail(session, row, incident, user, reason=error if not transient else
                  f"{error}; gave up after {row.attempts} attempts", now=now)


def _fail(session: Session, row: Notification, incident: Incident | None, user: User, *, reason: str,
          now: datetime) -> None:
    row.state, row.last_error = FAILED, reason
    if incident is None:  # a message, not a page: nothing to escalate, and no other channel for it
        log.warning("notification %s to user %s failed: %s", row.id, user.id, reason)
        return
    events.record(session, incident, kind="notification", now=now, user_id=user.id, detail={
        "message": f"{channel_name(row.channel)} to {user.name} failed: {reason}.",
        "channel": row.channel, "to": row.to, "state": FAILED, "error": reason, "notification_ids": [row.id]})
    _fall_back(session, row, incident, user, reason=reason, now=now)


def _fall_back(session: Session, row: Notification, incident: Incident, user: User, *, reason: str,
               now: datetime) -> None:
    """Page the person on their other channel, once per failed page, while the incident still needs them."""
    if row.fell_back or row.fallback_of_id is not None or incident.status != TRIGGERED:
        return
    row.fell_back = True
    other = VOICE if row.channel == SMS else SMS
    failed = f"{channel_name(row.channel)} to {user.name} failed ({reason})"
    if not user.pageable_phone or (other == SMS and user.sms_opted_out):
        events.record(session, incident, kind="fallback", now=now, user_id=user.id, detail={
            "message": f"{failed}, and there is no other way to reach them.", "from_channel": row.channel,
            "to_channel": None})
        return
    twin = session.scalar(select(Notification.id).where(
        Notification.incident_id == row.incident_id, Notification.step == row.step, Notification.round == row.round,
        Notification.user_id == row.user_id, Notification.channel == other))
    if twin is None:
        try:
            with session.begin_nested():
                session.add(Notification(incident_id=row.incident_id, step=row.step, round=row.round,
                                         user_id=row.user_id, channel=other, state=PENDING, next_attempt_at=now,
                                         created_at=now, to=user.phone, fallback_of_id=row.id))
                session.flush()
        except IntegrityError:
            twin = -1  # created concurrently by a callback for its twin: it is on its way anyway
    events.record(session, incident, kind="fallback", now=now, user_id=user.id, detail={
        "message": f"{failed}: " + (f"{'calling' if other == VOICE else 'texting'} them instead." if twin is None
                                    else f"they are also being paged by {channel_name(other)}."),
        "from_channel": row.channel, "to_channel": other, "notification_id": row.id})


# --- provider callbacks -----------------------------------------------------------------------------------

def record_delivery_status(session: Session, *, provider_id: str, status: str, now: datetime,
                           notification_id: int | None = None) -> bool:
    """Apply a Twilio status callback (MessageStatus or CallStatus) to the notification(s) with that id.

    Twilio retries callbacks and may deliver them out of order: a repeated or older status is a no-op. A
    failure (SMS undelivered/failed, call busy/no-answer/failed) falls back to the other channel, once.
    `notification_id` (from the callback URL) names the page when its SID is not recorded yet: the callback
    overtook the outbox, which then finds the SID on the row. Returns False when no notification matches."""
    rows = list(session.scalars(select(Notification).where(Notification.provider_id == provider_id)
                                .order_by(Notification.id).with_for_update()))
    if not rows and notification_id is not None:
        row = session.get(Notification, notification_id, with_for_update=True, populate_existing=True)
        # Only a page still without a SID: a callback must never take over a page that has its own.
        if row is not None and row.provider_id is None:
            row.provider_id = provider_id
            rows = [row]
    if not rows:
        return False
    status = (status or "").strip().lower()
    for row in rows:
        rank = (SMS_RANK if row.channel == SMS else CALL_RANK)
        if status not in rank:
            log.info("ignoring unknown %s status %r for %s", row.channel, status, provider_id)
            continue
        if row.status is not None and (row.status == status or rank[status] <= rank.get(row.status, -1)):
            continue
        row.status = status
        incident = session.get(Incident, row.incident_id) if row.incident_id is not None else None
        user = session.get(User, row.user_id)
        failed = status in FAILURES[row.channel]
        if incident is None:  # a message: the status is kept, there is no timeline and no fallback
            if failed:
                row.state, row.last_error = FAILED, f"provider reported {status}"
            continue
        if status in NOTEWORTHY:
            events.record(session, incident, kind="delivery", now=now, user_id=row.user_id, detail={
                "message": f"{channel_name(row.channel)} to {user.name}: {status.replace('-', ' ')}.",
                "channel": row.channel, "provider_id": provider_id, "status": status, "notification_id": row.id})
        if failed:
            row.state, row.last_error = FAILED, f"provider reported {status}"
            _fall_back(session, row, incident, user, reason=f"provider reported {status}", now=now)
    session.flush()
    return True

