"""Handoff pages: the prefilled form, a submitted handoff with the acknowledge button, history, watch items."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Forbidden, NotFound, OncallError
from oncall.handoffs import service
from oncall.handoffs.models import WatchItem
from oncall.handoffs.schemas import HandoffSubmitSchema, WatchItemSchema
from oncall.people.models import Team
from oncall.schedules import service as schedules
from oncall.web import forms, permissions
from oncall.web.session import login_required, web_user
from oncall.web.views import install_html_errors, status_of

bp = Blueprint("handoffs_web", __name__)
install_html_errors(bp)

NEW_ROWS = 3


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"]


def _new_items(texts: list[str], dues: list[str]) -> list[dict]:
    """The form's rows of new watch items in the API's shape; blank rows (the form always shows a few) skipped."""
    items = []
    for i, text in enumerate(texts):
        due = dues[i].strip() if i < len(dues) else ""
        if not text.strip() and not due:
            continue
        items.append({"text": text, "due_on": due or None})
    return items


# Where the API's field names show up on the handoff form.
_FORM_NAMES = {"watch_items": "new_text", "watch_items.due_on": "new_due", "close_watch_items": "close"}


def _form_page(rotation_id: int, *, status: int = 200, **extra):
    session = get_session()
    now = utcnow()
    d = service.prepare_draft(session, rotation_id=rotation_id, now=now, public_url=_public_url())
    names = service.names_of(session, {d.outgoing_user_id, d.incoming_user_id})
    context = {"d": d, "names": names, "now": now, "errors": {}, "form": MultiDict(), "new_rows": NEW_ROWS,
               "can_submit": permissions.is_member(web_user(), d.team.id),
               "markdown": service.render_draft_markdown(d, now=now)} | extra
    return render_template("handoffs/form.html", **context), status


@bp.get("/rotations/<int:rotation_id>/handoff")
@login_required
def form(rotation_id: int):
    return _form_page(rotation_id)


@bp.post("/rotations/<int:rotation_id>/handoff")
@login_required
def save(rotation_id: int):
    session = get_session()
    me = web_user()
    rotation = schedules.get_rotation(session, rotation_id)
    permissions.require_team_member(me, rotation.team_id)
    form = request.form
    submit = form.get("action") == "submit"
    try:
        data = forms.load(HandoffSubmitSchema(), {
            "shift_change_at": form.get("shift_change_at") or None,
            "notes": form.get("notes", ""),
            "watch_items": _new_items(form.getlist("new_text"), form.getlist("new_due")),
            "close_watch_items": [forms.integer(v) for v in form.getlist("close")],
            "submit": submit,
        }, names=_FORM_NAMES)
        handoff = service.save_handoff(
            session, rotation_id=rotation_id, user=me, now=utcnow(), public_url=_public_url(), notes=data["notes"],
            new_watch_items=data["watch_items"], close_watch_item_ids=data["close_watch_items"],
            shift_change_at=data["shift_change_at"], submit=data["submit"])
    except (Forbidden, NotFound):
        raise
    except OncallError as exc:
        session.rollback()
        return _form_page(rotation_id, status=status_of(exc), errors=exc.fields or {"_": [str(exc)]},
                          message=str(exc), form=form)
    session.commit()
    if submit:
        flash("Handoff submitted. The incoming on-call gets a link to it.")
        return redirect(url_for("handoffs_web.show", handoff_id=handoff.id), 303)
    flash("Draft saved.")
    return redirect(url_for("handoffs_web.form", rotation_id=rotation_id), 303)


@bp.get("/handoffs/<int:handoff_id>")
@login_required
def show(handoff_id: int):
    session = get_session()
    handoff = service.get_handoff(session, handoff_id)
    permissions.require_visible(web_user(), handoff.team_id, "handoff")
    if handoff.state == "draft":
        return redirect(url_for("handoffs_web.form", rotation_id=handoff.rotation_id))
    rotation = schedules.get_rotation(session, handoff.rotation_id)
    now = utcnow()
    return render_template("handoffs/show.html", h=handoff, rotation=rotation, now=now,
                           markdown=service.render_markdown(handoff, rotation, now=now),
                           may_acknowledge=handoff.state == "submitted" and service.may_acknowledge(handoff, web_user()),
                           as_of=handoff.submitted_at)


@bp.post("/handoffs/<int:handoff_id>/acknowledge")
@login_required
def acknowledge(handoff_id: int):
    session = get_session()
    handoff = service.acknowledge(session, handoff_id=handoff_id, user=web_user(), now=utcnow())
    session.commit()
    flash("Handoff acknowledged. You have the pager.")
    return redirect(url_for("handoffs_web.show", handoff_id=handoff.id), 303)


@bp.get("/rotations/<int:rotation_id>/handoffs")
@login_required
def history(rotation_id: int):
    session = get_session()
    rotation = schedules.get_rotation(session, rotation_id)
    permissions.require_visible(web_user(), rotation.team_id, "rotation")
    rows = service.list_handoffs(session, rotation_id=rotation_id, limit=100)
    return render_template("handoffs/history.html", rotation=rotation, handoffs=rows,
                           team=session.get(Team, rotation.team_id))


# --- watch items ---------------------------------------------------------------------------------

def _watch_page(team_id: int, *, status: int = 200, **extra):
    session = get_session()
    team = service.get_team_or_404(session, team_id)
    permissions.require_visible(web_user(), team.id, "team")
    open_items = service.list_watch_items(session, team_id=team_id, state="open")
    month_ago = utcnow() - timedelta(days=30)
    closed = session.scalars(select(WatchItem).where(WatchItem.team_id == team_id, WatchItem.closed_at >= month_ago)
                             .order_by(WatchItem.closed_at.desc())).all()
    context = {"team": team, "open_items": open_items, "closed_items": closed, "errors": {}, "form": {}} | extra
    return render_template("handoffs/watch_items.html", **context), status


@bp.get("/teams/<int:team_id>/watch-items")
@login_required
def watch_items(team_id: int):
    return _watch_page(team_id)


@bp.post("/teams/<int:team_id>/watch-items")
@login_required
def add_watch_item(team_id: int):
    session = get_session()
    me = web_user()
    service.get_team_or_404(session, team_id)
    permissions.require_team_member(me, team_id)
    try:
        item = forms.load(WatchItemSchema(), {"text": request.form.get("text", ""),
                                              "due_on": request.form.get("due_on", "").strip() or None})
        service.add_watch_item(session, team_id=team_id, text=item["text"], due_on=item["due_on"], added_by_id=me.id,
                               now=utcnow())
    except OncallError as exc:
        session.rollback()
        return _watch_page(team_id, status=status_of(exc), errors=exc.fields or {"_": [str(exc)]}, message=str(exc),
                           form=request.form)
    session.commit()
    flash("Watch item added; it appears in every handoff until someone closes it.")
    return redirect(url_for("handoffs_web.watch_items", team_id=team_id), 303)


@bp.post("/teams/<int:team_id>/watch-items/<int:item_id>/close")
@login_required
def close_watch_item(team_id: int, item_id: int):
    session = get_session()
    me = web_user()
    item = service.get_watch_item(session, team_id=team_id, item_id=item_id)
    permissions.require_team_member(me, team_id)
    service.close_watch_item(session, item, user_id=me.id, now=utcnow())
    session.commit()
    flash("Watch item closed. The next handoff lists it once as closed.")
    return redirect(url_for("handoffs_web.watch_items", team_id=team_id), 303)

