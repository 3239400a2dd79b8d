"""Twilio's webhooks: SMS replies, the voice menu's keypress, and delivery status callbacks.

Outside /api/v1, so bearer auth does not apply: instead every request must carry Twilio's X-Twilio-Signature
over ONCALL_PUBLIC_URL + path + query and the POST fields, or it is refused with 403 before anything is read.
They are form posts from Twilio, not from a browser session, so CSRF protection must not apply either
(create_app exempts this blueprint when Flask-WTF's CSRFProtect is installed)."""
import logging
from datetime import datetime

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Conflict, NotFound
from oncall.incidents import service as incidents
from oncall.incidents.models import ACKNOWLEDGED, RESOLVED, Incident
from oncall.paging import outbox, texts
from oncall.paging.gateway import valid_signature
from oncall.paging.models import Notification
from oncall.people.models import TeamMember, User
from oncall.ratelimits import count_refused_webhook

log = logging.getLogger(__name__)

bp = Blueprint("twilio_webhooks", __name__, url_prefix="/twilio")

OPT_OUT_NOTE = "SMS opt-out: paging by voice"
VOICE_NOT_AVAILABLE = "Sorry, this page is no longer available. Goodbye."
MAX_VOICE_ATTEMPTS = 2  # the first menu, then one repeat after a wrong key
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns; a larger ?incident= would overflow the database driver


def signed_url() -> str:
    """The URL Twilio requested, as Twilio saw it: behind proxies and TLS terminators only the configured
    public URL is reliable, so the scheme and host of this request are not used."""
    query = request.query_string.decode("utf-8", "replace")
    return current_app.config["PUBLIC_URL"] + request.path + (f"?{query}" if query else "")


@bp.before_request
def require_twilio_signature():
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not valid_signature(token, signed_url(), request.form, request.headers.get("X-Twilio-Signature")):
        log.warning("refused a Twilio webhook to %s: %s", request.path,
                    "no TWILIO_AUTH_TOKEN configured" if not token else "missing or invalid signature")
        count_refused_webhook()
        return Response("Invalid or missing X-Twilio-Signature.\n", status=403, mimetype="text/plain")
    # PostgreSQL text cannot hold NUL, and numbers and SIDs from the form go into queries: refuse, not 500.
    if any("\x00" in value for value in request.form.values()):
        return Response("NUL characters are not accepted.\n", status=400, mimetype="text/plain")
    return None


def twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


# --- SMS -----------------------------------------------------------------------------------------------
@bp.post("/sms")
def incoming_sms():
    """A text to our number: '<code>A|R|E', 'AA', 'RR', or a carrier keyword (STOP, START, HELP)."""
    reply = texts.parse_reply(request.form.get("Body"), request.form.get("OptOutType"))
    session = get_session()
    now = utcnow()
    users = users_with_phone(session, request.form.get("From"))

    if reply.action in ("stop", "start"):
        set_sms_opt_out(session, users, opted_out=reply.action == "stop", now=now)
        session.commit()
        return twiml(texts.twiml_empty())  # Twilio itself answers the keyword (and blocks us after STOP)
    if reply.action == "help":
        return twiml(texts.twiml_empty())
    if reply.action == "unknown":
        return twiml(texts.twiml_message(texts.SMS_USAGE))

    if reply.action in ("acknowledge_all", "resolve_all"):
        action = reply.action.removesuffix("_all")
        targets = paged_open_incidents(session, users)
    else:
        action = reply.action
        targets = []
        incident = find_open_by_code(session, reply.code)
        user = authorized_user(session, incident, users) if incident is not None else None
        if user is not None:
            targets = [(incident, user)]
    if not targets:
        return twiml(texts.twiml_message(texts.SMS_NO_MATCH))

    done, unchanged = [], {}
    for incident, user in targets:
        moot = act(session, action, incident, user=user, via="sms", now=now)
        if moot:
            unchanged[incident.code] = moot
        else:
            done.append(incident.code)
    session.commit()
    return twiml(texts.twiml_message(texts.sms_confirmation(action, done, unchanged)))


def set_sms_opt_out(session: Session, users: list[User], *, opted_out: bool, now: datetime) -> None:
    """Mirror Twilio's block list: after STOP, Twilio refuses our SMS to that phone (error 21610), so the
    escalation engine pages by voice; the open incidents paged to them say why on their timeline."""
    for user in users:
        if bool(user.sms_opted_out) == opted_out:
            continue  # a repeated STOP adds no second note
        user.sms_opted_out = opted_out
        if opted_out:
            for incident in incidents.open_incidents_paged_to(session, user.id):
                incidents.add_timeline_event(session, incident, kind="opt_out", now=now, user_id=user.id,
                                             via="sms", detail=OPT_OUT_NOTE)
    session.flush()


# --- voice ---------------------------------------------------------------------------------------------
@bp.post("/voice")
def voice_keypress():
    """The <Gather> action of a voice page: /twilio/voice?incident=<id>[&attempt=2], Digits 1/2/3."""
    incident_id = request.args.get("incident", type=int)
    attempt = request.args.get("attempt", default=1, type=int)
    session = get_session()
    # On a call we placed ("outbound-api"), Twilio's To is the person we called and From is our number.
    users = users_with_phone(session, request.form.get("To"))
    incident = None
    if incident_id is not None and 0 < incident_id <= MAX_ID and users:
        try:
            incident = incidents.get_incident(session, incident_id)
        except NotFound:
            incident = None
    user = authorized_user(session, incident, users) if incident is not None else None
    if user is None:
        return twiml(texts.twiml_say(VOICE_NOT_AVAILABLE))

    action = texts.parse_digit(request.form.get("Digits"))
    if action is None:
        if attempt >= MAX_VOICE_ATTEMPTS:
            return twiml(texts.twiml_say(f"No valid choice received. {texts.VOICE_GOODBYE}"))
        again = f"{current_app.config['PUBLIC_URL']}{request.path}?incident={incident.id}&attempt={attempt + 1}"
        return twiml(texts.voice_menu_again(gather_url=again))

    moot = act(session, action, incident, user=user, via="voice", now=utcnow())
    session.commit()
    return twiml(texts.voice_confirmation(action, incident.code, unchanged=moot))


# --- delivery status -----------------------------------------------------------------------------------
@bp.post("/status")
def delivery_status():
    """StatusCallback of a message (MessageSid, MessageStatus) or a call (CallSid, CallStatus).

    Twilio may repeat a callback or deliver them out of order; the outbox decides what a status means for
    its notification. An unknown SID (a message sent by something else) changes nothing."""
    form = request.form
    if form.get("MessageSid") and form.get("MessageStatus"):
        sid, status = form["MessageSid"], form["MessageStatus"]
    elif form.get("CallSid") and form.get("CallStatus"):
        sid, status = form["CallSid"], form["CallStatus"]
    else:
        return Response("Expected MessageSid and MessageStatus, or CallSid and CallStatus.\n", status=400,
                        mimetype="text/plain")
    if form.get("ErrorCode"):
        # Twilio's delivery error (e.g. 30003 unreachable handset, 30007 carrier filtering), for the operator.
        log.info("Twilio reports %s for %s with error %s", status, sid, form["ErrorCode"])
    session = get_session()
    # ?notification=<id> (outbox.status_callback_url) names the page in case the SID is not recorded yet.
    notification_id = request.args.get("notification", type=int)
    if notification_id is not None and not 0 < notification_id <= MAX_ID:
        notification_id = None
    known = outbox.record_delivery_status(session, provider_id=sid, status=status, now=utcnow(),
                                          notification_id=notification_id)
    session.commit()
    if not known:
        log.info("status %s for unknown Twilio SID %s ignored", status, sid)
    return Response(status=204)


# --- shared --------------------------------------------------------------------------------------------
def users_with_phone(session: Session, phone: str | None) -> list[User]:
    """Everyone with that number (a shared on-call phone may belong to several people), oldest first."""
    if not phone:
        return []
    return list(session.scalars(select(User).where(User.phone == phone.strip()).order_by(User.id)))


def find_open_by_code(session: Session, code: int | None) -> Incident | None:
    return incidents.find_open_by_code(session, code) if code is not None else None


def paged_open_incidents(session: Session, users: list[User]) -> list[tuple[Incident, User]]:
    """(incident, user) for every open incident paged to one of these users, by code, each once."""
    found: dict[int, tuple[Incident, User]] = {}
    for user in users:
        for incident in incidents.open_incidents_paged_to(session, user.id):
            found.setdefault(incident.id, (incident, user))
    return sorted(found.values(), key=lambda pair: pair[0].code)


def authorized_user(session: Session, incident: Incident, users: list[User]) -> User | None:
    """The first of `users` who may act on `incident`: it was paged to them, or they are on its team."""
    for user in users:
        paged = session.scalar(select(Notification.id).where(Notification.incident_id == incident.id,
                                                             Notification.user_id == user.id).limit(1))
        if paged is not None:
            return user
    for user in users:
        member = session.scalar(select(TeamMember.user_id).where(TeamMember.team_id == incident.team_id,
                                                                 TeamMember.user_id == user.id))
        if member is not None:
            return user
    return None


def act(session: Session, action: str, incident: Incident, *, user: User, via: str, now: datetime) -> str | None:
    """Acknowledge, resolve or escalate. Returns None when done, or the status that made it moot."""
    if incident.status == RESOLVED or (action == "acknowledge" and incident.status == ACKNOWLEDGED):
        return incident.status
    try:
        # A savepoint, so that a conflict on one incident of an AA/RR keeps what was done to the others.
        with session.begin_nested():
            getattr(incidents, action)(session, incident, user_id=user.id, via=via, now=now)
    except Conflict:
        return RESOLVED  # resolved by someone else between our read and the service's row lock
    return None
