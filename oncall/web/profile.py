"""The profile page: a person's own name, time zone and phone, the phone's verification by code, the
channels that reach them and a test page. Everything goes through people/service.py and people/phones.py,
as the API's PATCH /users/{id} and /users/{id}/phone-verification do."""
from __future__ import annotations

from zoneinfo import available_timezones

from flask import flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import OncallError
from oncall.people import phones, service as people
from oncall.people.schemas import PhoneCodeSchema, UserUpdateSchema
from oncall.web import forms
from oncall.web.session import login_required, web_user
from oncall.web.views import bp, status_of

_ZONES: list[str] = []


def time_zones() -> list[str]:
    """IANA names for the time zone field's suggestions (a datalist: typing works without JavaScript)."""
    if not _ZONES:
        _ZONES.extend(sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))))
    return _ZONES


def _render(status: int = 200, **extra):
    me = web_user()
    context = {"errors": {}, "form": {}, "code_errors": {}, "channels": phones.channels(me),
               "zones": time_zones(), "code_minutes": int(phones.CODE_LIFETIME.total_seconds() // 60)} | extra
    return render_template("people/profile.html", **context), status


@bp.get("/profile")
@login_required
def profile():
    return _render()


@bp.post("/profile")
@login_required
def update_profile():
    session = get_session()
    me = web_user()
    form = request.form
    phone = (form.get("phone") or "").strip()
    try:
        data = forms.load(UserUpdateSchema(), {
            "name": (form.get("name") or "").strip(),
            "time_zone": (form.get("time_zone") or "").strip(),
            "phone": "".join(phone.split()) or None,
        })
        if not phone:
            data["phone"] = None  # a blank field removes the number
        sent = people.update_user(session, me, data, vouched=False, now=utcnow())
    except OncallError as exc:
        session.rollback()
        return _render(status_of(exc), errors=exc.fields or {"_": [str(exc)]}, message=str(exc), form=form.to_dict())
    session.commit()
    flash(f"Saved. A code is on its way to {me.phone}: enter it below to receive pages there." if sent
          else "Saved.")
    return redirect(url_for("web.profile"), 303)


@bp.post("/profile/phone/code")
@login_required
def send_phone_code():
    session = get_session()
    me = web_user()
    try:
        phones.send_code(session, me, now=utcnow())
    except OncallError as exc:
        session.rollback()
        return _render(status_of(exc), code_errors=exc.fields or {"code": [str(exc)]}, code_message=str(exc))
    session.commit()
    flash(f"A new code is on its way to {me.phone}.")
    return redirect(url_for("web.profile"), 303)


@bp.post("/profile/phone/verify")
@login_required
def verify_phone():
    session = get_session()
    me = web_user()
    try:
        data = forms.load(PhoneCodeSchema(), {"code": (request.form.get("code") or "").strip()})
    except OncallError as exc:
        return _render(status_of(exc), code_errors=exc.fields, code_message=str(exc))
    outcome = phones.confirm_code(session, me, data["code"], now=utcnow())
    session.commit()  # a wrong code counts against its tries
    if not outcome.verified:
        return _render(422, code_errors={"code": [outcome.message]}, code_message=outcome.message)
    flash(outcome.message)
    return redirect(url_for("web.profile"), 303)


@bp.post("/profile/test-page")
@login_required
def test_page():
    session = get_session()
    me = web_user()
    try:
        phones.send_test_page(session, me, now=utcnow())
    except OncallError as exc:
        session.rollback()
        return _render(status_of(exc), test_message=str(exc))
    session.commit()
    flash(f"A test page is on its way to {me.phone} by SMS.")
    return redirect(url_for("web.profile"), 303)
