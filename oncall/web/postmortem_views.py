"""The postmortem page of an incident: a form (sections as text areas, action items as rows with owner and due
date) for the team's members, read-only for everyone else; saved through the API's schema and service."""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Forbidden, NotFound, OncallError
from oncall.incidents import service as incidents
from oncall.people.models import Team
from oncall.postmortems import service as postmortems
from oncall.postmortems.models import PUBLISHED, SECTIONS
from oncall.postmortems.schemas import PostmortemUpdateSchema
from oncall.web import forms, permissions
from oncall.web.session import login_required, safe_next, web_user
from oncall.web.views import bp, status_of

NEW_ROWS = 3  # empty action item rows under the existing ones


def _context(incident_id: int, **extra) -> dict:
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    permissions.require_visible(web_user(), incident.team_id, "incident")
    team = session.get(Team, incident.team_id)
    pm = postmortems.get_postmortem(session, incident)
    members = sorted((m.user for m in team.members), key=lambda u: u.name.lower())
    body = postmortems.body(session, incident, pm, public_url=current_app.config["PUBLIC_URL"])
    form = extra.get("form")
    if form is not None:  # a refused form shows what was typed
        values = {s: form.get(s, "") for s in (*SECTIONS, "title")}
        done = set(form.getlist("item_done"))
        rows = [{"id": i, "text": t, "owner_id": o, "due": d, "done": str(n) in done}
                for n, (i, t, o, d) in enumerate(zip(form.getlist("item_id"), form.getlist("item_text"),
                                                     form.getlist("item_owner"), form.getlist("item_due"),
                                                     strict=False)) if t.strip()]
    else:
        values = {s: body[s] for s in (*SECTIONS, "title")}
        rows = [{"id": str(i["id"]), "text": i["text"], "owner_id": str(i["owner_id"] or ""),
                 "due": i["due_date"].isoformat() if i["due_date"] else "", "done": i["done"], "item": i}
                for i in body["action_items"]]
    rows += [{"id": "", "text": "", "owner_id": "", "due": "", "done": False}] * NEW_ROWS
    return {"incident": incident, "team": team, "members": members, "errors": {}, "message": None, "pm": body,
            "values": values, "rows": rows, "may_edit": permissions.is_member(web_user(), incident.team_id)} | extra


@bp.get("/incidents/<int:incident_id>/postmortem", endpoint="postmortem")
@login_required
def postmortem(incident_id: int):
    return render_template("incidents/postmortem.html", **_context(incident_id))


@bp.get("/incidents/<int:incident_id>/postmortem.md", endpoint="postmortem_markdown")
@login_required
def postmortem_markdown(incident_id: int):
    """The API's Markdown for a signed-in reader (the API's own address needs a bearer token)."""
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    permissions.require_visible(web_user(), incident.team_id, "incident")
    text = postmortems.render_markdown(session, incident, postmortems.get_postmortem(session, incident))
    return Response(text, mimetype="text/markdown", content_type="text/markdown; charset=utf-8")


def _items_from(form) -> list[dict]:
    """The rows of the form as the API's action_items; a row whose text is blank is left out (how a row is
    deleted, and how the empty rows stay empty)."""
    done = set(form.getlist("item_done"))
    rows = zip(form.getlist("item_id"), form.getlist("item_text"), form.getlist("item_owner"),
               form.getlist("item_due"), strict=False)
    items = []
    for n, (item_id, text, owner, due) in enumerate(rows):
        if not text.strip():
            continue
        items.append({"id": forms.integer(item_id) if item_id else None, "text": text,
                      "owner_id": forms.integer(owner) if owner else None, "due_date": due.strip() or None,
                      "done": str(n) in done})
    return items


@bp.post("/incidents/<int:incident_id>/postmortem", endpoint="save_postmortem")
@login_required
def save_postmortem(incident_id: int):
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    permissions.require_team_member(web_user(), incident.team_id)
    form = request.form
    data = {s: form.get(s, "") for s in SECTIONS} | {"title": form.get("title", ""), "action_items": _items_from(form)}
    if form.get("publish"):
        data["state"] = PUBLISHED
    try:
        loaded = forms.load(PostmortemUpdateSchema(), data)
        postmortems.save(session, incident, loaded, user_id=web_user().id, now=utcnow())
    except (Forbidden, NotFound):
        raise
    except OncallError as exc:
        session.rollback()
        fields = forms.field_messages(exc.fields, {}) if exc.fields and not isinstance(exc, forms.FormError) \
            else (exc.fields or {"_": [str(exc)]})
        return render_template("incidents/postmortem.html", **_context(
            incident_id, errors=fields, message=str(exc), form=form)), status_of(exc)
    session.commit()
    flash("Postmortem published." if form.get("publish") else "Postmortem saved.")
    return redirect(url_for("web.postmortem", incident_id=incident_id), 303)


@bp.post("/action-items/<int:item_id>/done", endpoint="close_action_item")
@login_required
def close_action_item(item_id: int):
    """Close an action item (its owner or a member of the incident's team): who and when are recorded."""
    session = get_session()
    me = web_user()
    item = postmortems.get_action_item(session, item_id)
    if item.owner_id != me.id:
        permissions.require_team_member(me, postmortems.item_team_id(session, item))
    postmortems.set_item_done(session, item=item, done=True, user=me, now=utcnow())
    session.commit()
    flash("Action item closed.")
    return redirect(safe_next(request.form.get("next")) or url_for("web.dashboard"), 303)
