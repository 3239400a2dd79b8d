"""A shift from the calendar, with "take this shift" (an override for the reader) and "ask someone to take
it" (a swap request); answering swap requests from the dashboard. Forms load through the API's schemas."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Forbidden, Invalid, NotFound, OncallError
from oncall.schedules import service as schedules, swaps
from oncall.schedules.schemas import OverrideSchema, SwapRequestCreateSchema, UTCDateTime
from oncall.web import forms, overview, permissions
from oncall.web.session import login_required, web_user
from oncall.web.views import bp, status_of


def _instant(name: str, value: str | None) -> datetime:
    try:
        return UTCDateTime().deserialize(value)
    except Exception as exc:  # marshmallow.ValidationError, or None
        raise Invalid(f"{name} is not an instant", fields={name: ["Expected an RFC 3339 instant."]}) from exc


def _shift_context(rotation_id: int, start: str | None, end: str | None, **extra) -> dict:
    session = get_session()
    rotation = schedules.get_rotation(session, rotation_id)
    permissions.require_visible(web_user(), rotation.team_id, "rotation")
    start_at, end_at = _instant("start", start), _instant("end", end)
    if not start_at < end_at:
        raise Invalid("end must be after start", fields={"end": ["Must be after start."]})
    page = overview.shift_page(session, rotation, start_at, end_at)
    me = web_user()
    return {"p": page, "start": start, "end": end, "now": utcnow(), "errors": {}, "form": {},
            "may_take": permissions.is_member(me, rotation.team_id) and page.holders != {me.id},
            "may_ask": page.holders == {me.id} or permissions.is_team_admin(me, rotation.team_id)} | extra


@bp.get("/rotations/<int:rotation_id>/shift", endpoint="shift")
@login_required
def shift(rotation_id: int):
    return render_template("schedules/shift.html", **_shift_context(rotation_id, request.args.get("start"),
                                                                   request.args.get("end")))


def _refuse(rotation_id: int, error: OncallError):
    """The shift page again with the message, or (when the form's own instants are what is wrong) the message
    alone with a way back."""
    get_session().rollback()
    form = request.form
    extra = {"errors": error.fields or {"_": [str(error)]}, "message": str(error), "form": form.to_dict()}
    try:
        context = _shift_context(rotation_id, form.get("start"), form.get("end"), **extra)
    except OncallError:
        context = {"p": None, "rotation_id": rotation_id, **extra}
    return render_template("schedules/shift.html", **context), status_of(error)


@bp.post("/rotations/<int:rotation_id>/take", endpoint="take_shift")
@login_required
def take_shift(rotation_id: int):
    session = get_session()
    me = web_user()
    rotation = schedules.get_rotation(session, rotation_id)
    permissions.require_team_member(me, rotation.team_id)
    form = request.form
    try:
        data = forms.load(OverrideSchema(), {"user_id": me.id, "start": form.get("start"), "end": form.get("end"),
                                             "reason": (form.get("reason") or "").strip() or "took the shift"})
        schedules.add_override(session, rotation_id=rotation_id, created_by_id=me.id, now=utcnow(), **data)
    except (Forbidden, NotFound):
        raise
    except OncallError as exc:
        return _refuse(rotation_id, exc)
    session.commit()
    flash("You are on call for that time now.")
    return redirect(url_for("web.rotation", rotation_id=rotation_id) + "#schedule-grid", 303)


@bp.post("/rotations/<int:rotation_id>/swap-requests", endpoint="ask_swap")
@login_required
def ask_swap(rotation_id: int):
    session = get_session()
    schedules.get_rotation(session, rotation_id)
    form = request.form
    try:
        data = forms.load(SwapRequestCreateSchema(), {
            "start": form.get("start"), "end": form.get("end"),
            "to_user_id": forms.integer(form.get("to_user_id")) if form.get("to_user_id") else None,
            "reason": (form.get("reason") or "").strip() or None})
        swaps.create(session, rotation_id=rotation_id, requester=web_user(), now=utcnow(),
                     public_url=current_app.config["PUBLIC_URL"], **data)
    except (Forbidden, NotFound):
        raise
    except OncallError as exc:
        return _refuse(rotation_id, exc)
    session.commit()
    _nudge()
    flash("Asked. They get a text, and the request waits on their dashboard.")
    return redirect(url_for("web.rotation", rotation_id=rotation_id) + "#schedule-grid", 303)


def _nudge() -> None:
    from oncall import worker

    worker.nudge()


@bp.post("/swap-requests/<int:swap_id>/<any(accept, decline):answer>", endpoint="answer_swap")
@login_required
def answer_swap(swap_id: int, answer: str):
    session = get_session()
    action = swaps.accept if answer == "accept" else swaps.decline
    action(session, swap_id=swap_id, user=web_user(), now=utcnow())
    session.commit()
    _nudge()
    flash("Accepted: you are on call for that time." if answer == "accept" else "Declined; they have been told.")
    return redirect(url_for("web.dashboard"), 303)
