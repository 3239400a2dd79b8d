"""Passwords on the web: change one's own; an admin sets a first password or makes a one-time sign-in link for a
new person (no e-mail server needed: the admin copies the link to them); the link's page, where the person
sets their password and is signed in. The rules are in web/signin.py."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Forbidden, NotFound, OncallError
from oncall.people import service as people
from oncall.web import signin
from oncall.web.session import login_required, sign_in, web_user
from oncall.web.teams import public_link
from oncall.web.views import bp, status_of


def _mismatch() -> signin.Invalid:
    return signin.Invalid("the two passwords differ", fields={"confirm": ["The two passwords differ."]})


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    if request.method == "GET":
        return render_template("people/password.html", errors={})
    session = get_session()
    me = web_user()
    form = request.form
    try:
        if form.get("new_password", "") != form.get("confirm", ""):
            raise _mismatch()
        signin.change_password(session, user=me, current=form.get("current_password", ""),
                               new=form.get("new_password", ""))
    except OncallError as exc:
        session.rollback()
        return render_template("people/password.html", errors=exc.fields or {"_": [str(exc)]},
                               message=str(exc)), status_of(exc)
    session.commit()
    sign_in(me)  # a new password ends every other session; this one goes on
    flash("Password changed. Other sessions of yours are signed out.")
    return redirect(url_for("web.profile"), 303)


def _person_for(actor, user_id: int):
    person = people.get_user(get_session(), user_id)
    if not signin.may_manage_sign_in(actor, person):
        raise Forbidden("Only site admins, or a team admin for someone of their team who has no password yet, "
                        "may do this.")
    return person


@bp.route("/people/<int:user_id>/sign-in", methods=["GET", "POST"])
@login_required
def person_sign_in(user_id: int):
    """For an admin: make a one-time sign-in link for a person, or set their first password."""
    me = web_user()
    person = _person_for(me, user_id)
    if request.method == "GET":
        return render_template("people/person_sign_in.html", person=person, errors={})
    session = get_session()
    form = request.form
    try:
        if form.get("action") == "link":
            secret = signin.make_sign_in_link(session, actor=me, person=person, now=utcnow())
            session.commit()
            return render_template("people/person_sign_in.html", person=person, errors={},
                                   link=public_link("web.sign_in_link", secret=secret)), 201
        if form.get("password", "") != form.get("confirm", ""):
            raise _mismatch()
        signin.set_first_password(session, actor=me, person=person, password=form.get("password", ""))
    except (Forbidden, NotFound):
        raise
    except OncallError as exc:
        session.rollback()
        return render_template("people/person_sign_in.html", person=person, errors=exc.fields or {"_": [str(exc)]},
                               message=str(exc)), status_of(exc)
    session.commit()
    flash(f"Password set for {person.name}. Tell them privately, and ask them to change it.")
    return redirect(url_for("web.person_sign_in", user_id=user_id), 303)


@bp.route("/sign-in/link/<secret>", methods=["GET", "POST"])
def sign_in_link(secret: str):
    """The page a one-time link opens: GET only shows the form (link previews must not use it up), POST sets the
    password, uses the link up and signs the person in."""
    session = get_session()
    now = utcnow()
    link = signin.find_sign_in_link(session, secret, now=now)
    if link is None:
        return render_template("web/error.html", status=404, title="Link expired",
                               message="This sign-in link has expired or was used already. Ask an admin for a "
                                       "new one."), 404
    person = people.get_user(session, link.user_id)
    if request.method == "GET":
        return render_template("people/sign_in_link.html", person=person, errors={}, secret=secret)
    form = request.form
    try:
        if form.get("password", "") != form.get("confirm", ""):
            raise _mismatch()
        user = signin.use_sign_in_link(session, secret, password=form.get("password", ""), now=now)
    except OncallError as exc:
        session.rollback()
        return render_template("people/sign_in_link.html", person=person, secret=secret,
                               errors=exc.fields or {"_": [str(exc)]}, message=str(exc)), status_of(exc)
    session.commit()
    sign_in(user)  # a fresh session: whoever was signed in in this browser is not any more
    flash(f"Welcome, {user.name}. Add your phone so pages can reach you.")
    return redirect(url_for("web.profile"), 303)
