"""HTML pages: sign-in, dashboard, rotation page (shifts, overrides, settings, calendar link), time off."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Forbidden, NotFound, OncallError, Unauthorized
from oncall.feeds import service as feeds, subscriptions
from oncall.fields import MAX_ID
from oncall.http import STATUS
from oncall.people.models import User
from oncall.schedules import service as schedules
from oncall.schedules.schemas import MAX_PARTICIPANTS, OverrideSchema, RotationUpdateSchema, TimeOffSchema
from oncall.web import forms, overview, permissions
from oncall.web.forms import FormError
from oncall.web.session import login_required, safe_next, sign_in, sign_out, signed_in_user, web_user
from oncall.web.signin import Throttled, authenticate

bp = Blueprint("web", __name__)


def status_of(error: OncallError) -> int:
    """The HTTP status of a domain error, subclasses included (FormError is an Invalid: 422)."""
    return next((STATUS[cls] for cls in type(error).__mro__ if cls in STATUS), 400)


def render_error(error: OncallError):
    status = status_of(error)
    titles = {403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Check the form"}
    return render_template("web/error.html", status=status, title=titles.get(status, "Something is off"),
                           message=str(error)), status


def install_html_errors(blueprint: Blueprint) -> None:
    """Domain errors on HTML pages become an HTML page with the same status, not the API's JSON."""
    blueprint.register_error_handler(OncallError, render_error)


install_html_errors(bp)


def parse_id(value: str | None) -> int | None:
    """A database id from a form or query string; None for anything else (ids beyond 32 bits included,
    which PostgreSQL would refuse with an error rather than find nothing)."""
    value = (value or "").strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        return None
    return int(value)


# --- sign-in ---------------------------------------------------------------------------------

@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if signed_in_user() is not None:
            return redirect(target)
        return render_template("web/sign_in.html", next=target, email="")
    email = request.form.get("email", "").strip()
    session = get_session()
    try:
        user = authenticate(session, email=email, password=request.form.get("password", ""),
                            ip=request.remote_addr or "unknown", now=utcnow())
    except Throttled as exc:
        return render_template("web/sign_in.html", next=target, email=email, error=str(exc)), 429
    except Unauthorized as exc:
        session.commit()  # the failure must count
        return render_template("web/sign_in.html", next=target, email=email, error=str(exc)), 401
    session.commit()
    sign_in(user)
    return redirect(target, 303)



@bp.post("/sign-out", endpoint="sign_out")
def sign_out_page():
    sign_out()
    get_session().commit()
    flash("Signed out.")
    return redirect(url_for("web.sign_in"), 303)


@bp.after_app_request
def _security_headers(response):
    if response.mimetype == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


# --- rotation page -------------------------------------------------------------------------------

def _rotation_context(rotation_id: int, **extra):
    weeks = request.args.get("weeks", default=4, type=int)
    weeks = min(max(weeks or 4, 1), 12)
    permissions.require_visible(web_user(), schedules.get_rotation(get_session(), rotation_id).team_id, "rotation")
    page = overview.rotation_page(get_session(), rotation_id=rotation_id, now=utcnow(), weeks=weeks)
    from oncall.web.calendar_views import calendar_context  # it adds its routes to this module's blueprint

    grid = calendar_context([page.rotation], page.rotation.current.time_zone, "web.rotation", rotation_id=rotation_id)
    return {"page": page, "weeks": weeks, "errors": {}, "form": {}} | grid | extra


@bp.get("/rotations/<int:rotation_id>")
@login_required
def rotation(rotation_id: int):
    return render_template("schedules/rotation.html", **_rotation_context(rotation_id))


def _rerender_rotation(rotation_id: int, error: OncallError, form: dict):
    get_session().rollback()
    status = status_of(error)
    return render_template("schedules/rotation.html", **_rotation_context(
        rotation_id, errors=error.fields or {"_": [str(error)]}, message=str(error), form=form)), status


@bp.post("/rotations/<int:rotation_id>/overrides")
@login_required
def add_override(rotation_id: int):
    session = get_session()
    me = web_user()
    rotation = schedules.get_rotation(session, rotation_id)
    permissions.require_team_member(me, rotation.team_id)
    form = request.form
    try:
        data = forms.load(OverrideSchema(), {
            "user_id": forms.integer(form.get("user_id")),
            "start": forms.local_instant("start", form.get("start"), me.time_zone),
            "end": forms.local_instant("end", form.get("end"), me.time_zone),
            "reason": (form.get("reason") or "").strip() or None,
        })
        schedules.add_override(session, rotation_id=rotation_id, created_by_id=me.id, now=utcnow(), **data)
    except OncallError as exc:
        return _rerender_rotation(rotation_id, exc, form.to_dict())
    session.commit()
    flash("Override added.")
    return redirect(url_for("web.rotation", rotation_id=rotation_id), 303)


@bp.post("/rotations/<int:rotation_id>/overrides/<int:override_id>/delete")
@login_required
def delete_override(rotation_id: int, override_id: int):
    session = get_session()
    rotation = schedules.get_rotation(session, rotation_id)
    permissions.require_team_member(web_user(), rotation.team_id)
    schedules.delete_override(session, schedules.get_override(session, rotation_id, override_id), now=utcnow())
    session.commit()
    flash("Override removed.")
    return redirect(url_for("web.rotation", rotation_id=rotation_id), 303)


def _participants(session, text: str) -> list[int] | None:
    """The participants' emails, one per line or comma-separated, as user ids in order (None if blank)."""
    emails = [e.strip().lower() for e in re.split(r"[,\s]+", text or "") if e.strip()]
    if not emails:
        return None
    # Checked before the lookup too, so a pasted list of thousands costs no query.
    if len(emails) > MAX_PARTICIPANTS:
        raise FormError(f"at most {MAX_PARTICIPANTS} participants",
                        fields={"participants": [f"At most {MAX_PARTICIPANTS} participants, got {len(emails)}."]})
    found = dict(session.execute(select(func.lower(User.email), User.id).where(func.lower(User.email).in_(emails))).all())
    unknown = [e for e in emails if e not in found]
    if unknown:
        raise FormError(f"unknown people: {', '.join(unknown)}",
                        fields={"participants": [f"Unknown: {', '.join(unknown)}"]})
    return [found[e] for e in emails]


@bp.post("/rotations/<int:rotation_id>/settings")
@login_required
def rotation_settings(rotation_id: int):
    """Team admins only: rename, change participants, handoff time, zone or shift length from an instant on (the
    API's PATCH). With action=preview nothing is saved: the page shows the coming shifts as they are and as they
    would be."""
    session = get_session()
    me = web_user()
    rotation = schedules.get_rotation(session, rotation_id)
    permissions.require_team_admin(me, rotation.team_id)
    form = request.form
    try:
        count, unit = forms.integer(form.get("shift_count")), (form.get("shift_unit") or "").strip()
        data = forms.load(RotationUpdateSchema(), {
            "name": (form.get("name") or "").strip(),
            "handoff_time": form.get("handoff_time", ""),
            "time_zone": (form.get("time_zone") or "").strip() or None,
            "shift_length": {"unit": unit, "count": count} if count is not None or unit else None,
            "participant_ids": _participants(session, form.get("participants", "")) or [],
            "effective_at": forms.local_instant("effective_at", form.get("effective_at"), me.time_zone),
        }, names={"participant_ids": "participants", "shift_length.count": "shift_count",
                  "shift_length.unit": "shift_unit", "shift_length": "shift_count"})
        version = rotation.current
        current = {"name": rotation.name, "handoff_time": version.handoff_time, "time_zone": version.time_zone,
                   "shift_length": version.shift_length, "participant_ids": version.participant_ids}
        changes = {key: value for key, value in data.items() if key in current and value != current[key]}
        if set(changes) - {"name"} and "effective_at" in data:
            changes["effective_at"] = data["effective_at"]
        if form.get("action") == "preview":
            before, after = schedules.preview_update(session, rotation, changes, now=utcnow())
            session.rollback()
            return render_template("schedules/rotation.html", **_rotation_context(
                rotation_id, form=form.to_dict(), preview={"before": before, "after": after,
                                                           "names": overview.user_names(session, {
                                                               s.user_id for s in before + after})}))
        if changes:
            schedules.update_rotation(session, rotation, changes, now=utcnow())
    except (Forbidden, NotFound):
        raise
    except OncallError as exc:
        return _rerender_rotation(rotation_id, exc, form.to_dict())
    session.commit()
    flash("Rotation updated." if changes else "Nothing changed.")
    return redirect(url_for("web.rotation", rotation_id=rotation_id), 303)


@bp.post("/rotations/<int:rotation_id>/archive")
@login_required
def archive_rotation(rotation_id: int):
    """Team admins: the rotation stops paging and leaves the lists (schedules.archive_rotation, as the API's
    POST /rotations/{id}/archive)."""
    session = get_session()
    rotation = schedules.get_rotation(session, rotation_id)
    permissions.require_team_admin(web_user(), rotation.team_id)
    schedules.archive_rotation(session, rotation, now=utcnow())
    session.commit()
    flash(f"{rotation.name} is archived: it pages nobody, and escalation steps naming it move on at once.")
    return redirect(url_for("web.team", team_id=rotation.team_id), 303)


@bp.post("/rotations/<int:rotation_id>/calendar-feed")
@login_required
def create_calendar_feed(rotation_id: int):
    """This rotation's secret calendar URL for the signed-in person: made and shown once, or, when they have
    one already, its state and a button to make a new one (revoking it)."""
    rotation = schedules.get_rotation(get_session(), rotation_id)
    return _subscribe("rotation", rotation_id, f"rotation {rotation.name}")


@bp.post("/calendar-feed/<any(team, user):scope>/<int:scope_id>")
@login_required
def create_other_calendar_feed(scope: str, scope_id: int):
    """A secret calendar URL for a whole team, or for the signed-in person's own shifts (as above)."""
    me = web_user()
    if scope == "user" and scope_id != me.id:
        raise Forbidden("a personal calendar link is only for its owner")
    # The team is named in the URL, so an unknown one is a missing page (404), not a bad form field.
    label = "your own shifts in every rotation" if scope == "user" else f"team {feed_target_name(get_session(), scope_id)}"
    return _subscribe(scope, scope_id, label)


def _subscribe(scope: str, scope_id: int, label: str):
    session = get_session()
    feed, made = subscriptions.subscribe(session, owner_id=web_user().id, scope=scope, scope_id=scope_id,
                                         now=utcnow(), replace=request.form.get("replace") == "1")
    session.commit()
    links = feeds.feed_links(feed, current_app.config["PUBLIC_URL"]) if made else None
    return render_template("web/calendar_link.html", links=links, feed=feed, label=label,
                           again=request.path), 201 if made else 200


def feed_target_name(session, team_id: int) -> str:
    from oncall.people.service import get_team

    return get_team(session, team_id).name


# --- time off ------------------------------------------------------------------------------------

def _time_off_context(**extra):
    rows, names = overview.time_off_page(get_session(), user=web_user(), now=utcnow())
    return {"rows": rows, "names": names, "errors": {}, "form": {}} | extra


@bp.route("/time-off", methods=["GET", "POST"])
@login_required
def time_off():
    if request.method == "GET":
        return render_template("schedules/time_off.html", **_time_off_context())
    session = get_session()
    me = web_user()
    form = request.form
    try:
        data = forms.load(TimeOffSchema(), {
            "start": forms.local_instant("start", form.get("start"), me.time_zone),
            "end": forms.local_instant("end", form.get("end"), me.time_zone),
            "reason": (form.get("reason") or "").strip() or None,
        })
        schedules.add_time_off(session, user_id=me.id, now=utcnow(), **data)
    except OncallError as exc:
        session.rollback()
        return render_template("schedules/time_off.html", **_time_off_context(
            errors=exc.fields or {"_": [str(exc)]}, message=str(exc), form=form.to_dict())), status_of(exc)
    session.commit()
    flash("Time off saved. Your shifts in it are covered as listed below.")
    return redirect(url_for("web.time_off"), 303)


@bp.post("/time-off/<int:time_off_id>/delete")
@login_required
def delete_time_off(time_off_id: int):
    session = get_session()
    me = web_user()
    schedules.delete_time_off(session, schedules.get_time_off(session, me.id, time_off_id), now=utcnow())
    session.commit()
    flash("Time off cancelled.")
    return redirect(url_for("web.time_off"), 303)
