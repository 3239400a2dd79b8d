"""/api/v1 handoffs (draft, submit, read, Markdown, acknowledge) and team watch items."""
from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from oncall.auth import current_user, require_team_admin, require_team_member
from oncall.clock import utcnow
from oncall.db import get_session
from oncall.handoffs import service
from oncall.handoffs.models import DRAFT, Handoff, WatchItem
from oncall.handoffs.schemas import (
    HandoffListSchema, HandoffSchema, HandoffSubmitSchema, WatchItemQuerySchema, WatchItemSchema,
    WatchItemUpdateSchema,
)
from oncall.people.models import User
from oncall.schedules import service as schedules
from oncall.schedules.schemas import UTCDateTime

bp = Blueprint("handoffs_api", __name__, url_prefix="/api/v1", description="Shift handoffs and watch items")


def _person(user: User | None) -> dict | None:
    return None if user is None else {"id": user.id, "name": user.name}


def watch_body(item: WatchItem) -> dict:
    return {"id": item.id, "team_id": item.team_id, "text": item.text, "due_on": item.due_on,
            "added_by": _person(item.added_by), "handoff_id": item.handoff_id, "created_at": item.created_at,
            "closed": item.closed_at is not None, "closed_by": _person(item.closed_by), "closed_at": item.closed_at}


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"]


def handoff_body(handoff: Handoff, *, now) -> dict:
    rotation = schedules.get_rotation(get_session(), handoff.rotation_id)
    if handoff.state == DRAFT:  # nothing frozen yet: what the outgoing on-call would submit now
        return draft_body(service.build_draft(get_session(), rotation, handoff.shift_change_at, now=now,
                                              public_url=_public_url()), now=now)
    return {
        "id": handoff.id, "rotation_id": handoff.rotation_id, "team_id": handoff.team_id,
        "shift_change_at": handoff.shift_change_at, "state": handoff.state,
        "outgoing_user": _person(handoff.outgoing_user), "incoming_user": _person(handoff.incoming_user),
        "since": handoff.since_at, "sections": handoff.sections or {}, "notes": handoff.notes,
        "markdown": service.render_markdown(handoff, rotation, now=now),
        "submitted_by": _person(handoff.submitted_by), "submitted_at": handoff.submitted_at,
        "acknowledged_by": _person(handoff.acknowledged_by), "acknowledged_at": handoff.acknowledged_at,
        "url": f"{_public_url()}/handoffs/{handoff.id}",
    }


def draft_body(d: service.Draft, *, now) -> dict:
    session = get_session()
    return {
        "id": d.saved.id if d.saved is not None else None, "rotation_id": d.rotation.id, "team_id": d.team.id,
        "shift_change_at": d.shift_change_at, "state": "draft",
        "outgoing_user": _person(session.get(User, d.outgoing_user_id) if d.outgoing_user_id else None),
        "incoming_user": _person(session.get(User, d.incoming_user_id) if d.incoming_user_id else None),
        "since": d.since, "sections": d.sections, "notes": d.notes,
        "markdown": service.render_draft_markdown(d, now=now),
        "submitted_by": None, "submitted_at": None, "acknowledged_by": None, "acknowledged_at": None,
        "url": f"{_public_url()}/rotations/{d.rotation.id}/handoff",
    }


# --- watch items -----------------------------------------------------------------------------

@bp.get("/teams/<int:team_id>/watch-items")
@bp.arguments(WatchItemQuerySchema, location="query")
@bp.response(200, WatchItemSchema(many=True))
def list_watch_items(args, team_id: int):
    """The team's watch items: open ones (default), closed ones or all."""
    return [watch_body(i) for i in service.list_watch_items(get_session(), team_id=team_id, state=args["state"])]


@bp.post("/teams/<int:team_id>/watch-items")
@bp.arguments(WatchItemSchema)
@bp.response(201, WatchItemSchema)
def create_watch_item(data, team_id: int):
    """Add a watch item; it appears in every handoff of the team until someone closes it. Team members."""
    session = get_session()
    me = current_user()
    service.get_team_or_404(session, team_id)
    require_team_member(me, team_id)
    item = service.add_watch_item(session, team_id=team_id, text=data["text"], due_on=data["due_on"],
                                  added_by_id=me.id, now=utcnow())
    session.commit()
    return watch_body(item)


@bp.get("/teams/<int:team_id>/watch-items/<int:item_id>")
@bp.response(200, WatchItemSchema)
def get_watch_item(team_id: int, item_id: int):
    """One watch item."""
    return watch_body(service.get_watch_item(get_session(), team_id=team_id, item_id=item_id))


@bp.patch("/teams/<int:team_id>/watch-items/<int:item_id>")
@bp.arguments(WatchItemUpdateSchema)
@bp.response(200, WatchItemSchema)
def update_watch_item(data, team_id: int, item_id: int):
    """Change text or due date; `"closed": true` closes it (recording who and when), false reopens it."""
    session = get_session()
    me = current_user()
    item = service.get_watch_item(session, team_id=team_id, item_id=item_id)
    require_team_member(me, team_id)
    service.update_watch_item(session, item, data, user_id=me.id, now=utcnow())
    session.commit()
    return watch_body(item)


@bp.delete("/teams/<int:team_id>/watch-items/<int:item_id>")
@bp.response(204)
def delete_watch_item(team_id: int, item_id: int):
    """Remove an item entered by mistake (its author or a team admin). Close it instead to keep the record."""
    session = get_session()
    me = current_user()
    item = service.get_watch_item(session, team_id=team_id, item_id=item_id)
    require_team_member(me, team_id)  # an author who has left the team is an outsider now
    if item.added_by_id != me.id:
        require_team_admin(me, team_id)
    session.delete(item)
    session.commit()


# --- handoffs --------------------------------------------------------------------------------

class HistoryQuerySchema(Schema):
    before = UTCDateTime(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


@bp.get("/rotations/<int:rotation_id>/handoffs/draft")
@bp.response(200, HandoffSchema)
def get_draft(rotation_id: int):
    """The prefilled handoff for the next shift change that has no submitted handoff yet (a change stays
    open for its handoff until an hour after it)."""
    now = utcnow()
    d = service.prepare_draft(get_session(), rotation_id=rotation_id, now=now, public_url=_public_url())
    return draft_body(d, now=now)


@bp.post("/rotations/<int:rotation_id>/handoffs")
@bp.arguments(HandoffSubmitSchema)
@bp.response(201, HandoffSchema)
def submit_handoff(data, rotation_id: int):
    """Submit the draft with notes and new watch items (team members). 409 if that change was handed off."""
    session = get_session()
    me = current_user()
    require_team_member(me, schedules.get_rotation(session, rotation_id).team_id)
    now = utcnow()
    handoff = service.save_handoff(session, rotation_id=rotation_id, user=me, now=now, public_url=_public_url(),
                                   notes=data["notes"], new_watch_items=data["watch_items"],
                                   close_watch_item_ids=data["close_watch_items"],
                                   shift_change_at=data["shift_change_at"], submit=data["submit"])
    session.commit()
    return handoff_body(handoff, now=now)


@bp.get("/rotations/<int:rotation_id>/handoffs")
@bp.arguments(HistoryQuerySchema, location="query")
@bp.response(200, HandoffListSchema)
def list_handoffs(args, rotation_id: int):
    """Submitted handoffs of the rotation, newest first."""
    now = utcnow()
    rows = service.list_handoffs(get_session(), rotation_id=rotation_id, limit=args["limit"], before=args["before"])
    return {"handoffs": [handoff_body(h, now=now) for h in rows]}


@bp.get("/handoffs/<int:handoff_id>")
@bp.response(200, HandoffSchema)
def get_handoff(handoff_id: int):
    """One handoff, with its sections as they were when it was submitted (a saved draft: as they are now)."""
    return handoff_body(service.get_handoff(get_session(), handoff_id), now=utcnow())


@bp.get("/handoffs/<int:handoff_id>.md")
@bp.response(200, content_type="text/markdown")
def get_handoff_markdown(handoff_id: int):
    """The handoff as Markdown (`# On-Call Handoff: DATE`, Active Issues, Recently Resolved, Watch Items, Notes)."""
    session = get_session()
    handoff = service.get_handoff(session, handoff_id)
    rotation, now = schedules.get_rotation(session, handoff.rotation_id), utcnow()
    if handoff.state == DRAFT:
        d = service.build_draft(session, rotation, handoff.shift_change_at, now=now, public_url=_public_url())
        text = service.render_draft_markdown(d, now=now)
    else:
        text = service.render_markdown(handoff, rotation, now=now)
    return Response(text, mimetype="text/markdown", content_type="text/markdown; charset=utf-8")


@bp.post("/handoffs/<int:handoff_id>/acknowledge")
@bp.response(200, HandoffSchema)
def acknowledge_handoff(handoff_id: int):
    """The incoming on-call acknowledges; incidents the outgoing one had acknowledged pass to them."""
    session = get_session()
    now = utcnow()
    handoff = service.acknowledge(session, handoff_id=handoff_id, user=current_user(), now=now)
    session.commit()
    return handoff_body(handoff, now=now)
