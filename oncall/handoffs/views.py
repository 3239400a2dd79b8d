"""Handoff pages: the prefilled form, a submitted handoff with the acknowledge button, history, watch items."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Forbidden, NotFound, OncallError
from oncall.fields import MAX_ID
from oncall.handoffs import service
from oncall.handoffs.models import WatchItem
from oncall.handoffs.schemas import MAX_CLOSED_WATCH_ITEMS, MAX_NEW_WATCH_ITEMS
from oncall.people.models import Team
from oncall.schedules import service as schedules
from oncall.web import permissions, timefmt
from oncall.web.session import login_required, web_user
from oncall.web.views import FormError, install_html_errors, status_of

bp = Blueprint("handoffs_web", __name__)
install_html_errors(bp)

NEW_ROWS = 3


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"]


def _ids(values: list[str]) -> list[int]:
    if len(values) > MAX_CLOSED_WATCH_ITEMS:
        raise FormError("too many watch items to close", fields={"close": [f"At most {MAX_CLOSED_WATCH_ITEMS} at once."]})
    ids = []
    for v in values:
        if not v.isdigit() or not 1 <= int(v) <= MAX_ID:
            raise FormError("unknown watch item", fields={"close": ["Unknown watch item."]})
        ids.append(int(v))
    return ids


def _new_items(texts: list[str], dues: list[str]) -> list[dict]:
    items = []
    for i, text in enumerate(texts):
        text = " ".join(text.split())
        due = dues[i] if i < len(dues) else ""
        if not text:
            if due.strip():
                raise FormError("a watch item needs text", fields={"new_text": ["A due date needs a description."]})
            continue
        if len(items) == MAX_NEW_WATCH_ITEMS:
            raise FormError("too many new watch items",
                            fields={"new_text": [f"At most {MAX_NEW_WATCH_ITEMS} new watch items at once."]})
        if len(text) > 500:
            raise FormError("watch items are at most 500 characters", fields={"new_text": ["At most 500 characters."]})
        try:
            due_on = timefmt.parse_date(due)
        except ValueError as exc:
            raise FormError("due date is not a date", fields={"new_due": ["Expected a date."]}) from exc
        items.append({"text": text, "due_on": due_on})
    return items


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
        at = form.get("shift_change_at", "")
        try:
            shift_change_at = datetime.fromisoformat(at) if at else None
        except ValueError as exc:
            raise FormError("the form lost its shift change; reload it", fields={"shift_change_at": ["Reload."]}) from exc
        if shift_change_at is not None and shift_change_at.tzinfo is None:
            raise FormError("the form lost its shift change; reload it", fields={"shift_change_at": ["Reload."]})
        notes = form.get("notes", "")
        if len(notes) > 20000:
            raise FormError("notes are at most 20000 characters", fields={"notes": ["At most 20000 characters."]})
        handoff = service.save_handoff(
            session, rotation_id=rotation_id, user=me, now=utcnow(), public_url=_public_url(), notes=notes,
            new_watch_items=_new_items(form.getlist("new_text"), form.getlist("new_due")),
            close_watch_item_ids=_ids(form.getlist("close")), shift_change_at=shift_change_at, submit=submit)
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
    rows = service.list_handoffs(session, rotation_id=rotation_id, limit=100)
    return render_template("handoffs/history.html", rotation=rotation, handoffs=rows,
                           team=session.get(Team, rotation.team_id))


# --- watch items ---------------------------------------------------------------------------------

def _watch_page(team_id: int, *, status: int = 200, **extra):
    session = get_session()
    team = service.get_team_or_404(session, team_id)
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
        [item] = _new_items([request.form.get("text", "")], [request.form.get("due_on", "")]) or [None]
        if item is None:
            raise FormError("a watch item needs text", fields={"text": ["Describe what to watch."]})
        service.add_watch_item(session, team_id=team_id, text=item["text"], due_on=item["due_on"], added_by_id=me.id,
                               now=utcnow())
    except OncallError as exc:
        session.rollback()
        errors = {"text" if k == "new_text" else "due_on" if k == "new_due" else k: v
                  for k, v in (exc.fields or {"_": [str(exc)]}).items()}
        return _watch_page(team_id, status=status_of(exc), errors=errors, message=str(exc),
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

