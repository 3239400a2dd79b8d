"""Load, prefill and write postmortems and their action items; their follow-ups for handoffs and the
dashboard. Never commits."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from oncall.errors import Conflict, Invalid, NotFound
from oncall.incidents import events
from oncall.incidents.models import RESOLVED, Incident, TimelineEvent
from oncall.people.models import Team, TeamMember, User
from oncall.postmortems import document, followups
from oncall.postmortems.models import DRAFT, PUBLISHED, SECTIONS, ActionItem, Postmortem

# Sections a postmortem must have before it counts as written.
REQUIRED_TO_PUBLISH = ("summary", "root_cause")


def postmortem_url(public_url: str, incident_id: int) -> str:
    return f"{public_url}/incidents/{incident_id}/postmortem"


def get_postmortem(session: Session, incident: Incident) -> Postmortem:
    postmortem = _find(session, incident.id)
    if postmortem is None:
        raise NotFound(f"incident {incident.id} has no postmortem")
    return postmortem


def _find(session: Session, incident_id: int) -> Postmortem | None:
    return session.scalar(select(Postmortem).where(Postmortem.incident_id == incident_id)
                          .options(selectinload(Postmortem.action_items)))


def prefilled_timeline(session: Session, incident_id: int) -> str:
    rows = session.scalars(select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
                           .where(TimelineEvent.kind.in_(document.TIMELINE_KINDS)).order_by(TimelineEvent.id))
    return document.timeline_text(document.EventFact(e.at, e.kind, (e.detail or {}).get("message") or e.kind)
                                  for e in rows)


def start_draft(session: Session, incident: Incident, *, now: datetime) -> Postmortem:
    """The prefilled draft: the incident's title and its own timeline (its date and duration come from the
    incident whenever it is shown); the rest is for the humans. Returns an existing one unchanged."""
    existing = _find(session, incident.id)
    if existing is not None:
        return existing
    postmortem = Postmortem(incident_id=incident.id, title=incident.title, state=DRAFT,
                            timeline=prefilled_timeline(session, incident.id), created_at=now, updated_at=now,
                            **{s: "" for s in SECTIONS if s != "timeline"})
    session.add(postmortem)
    session.flush()
    return postmortem


def save(session: Session, incident: Incident, data: dict, *, user_id: int, now: datetime) -> Postmortem:
    """Write what `data` holds (sections left out keep their text; `action_items`, when given, is the whole
    list: rows with an `id` are kept and updated, the others added, the missing deleted). Marking an item done
    records who and when. Publishing needs the summary and the root cause."""
    if incident.status != RESOLVED:
        raise Conflict(f"incident {incident.id} is still open; its postmortem starts once it is resolved")
    postmortem = _find(session, incident.id) or start_draft(session, incident, now=now)
    items = data.get("action_items")
    existing = {item.id: item for item in postmortem.action_items}
    state = data.get("state", postmortem.state)
    fields = _refusals(session, incident, postmortem, data, existing, state)
    if fields:
        raise Invalid("the postmortem was not saved", fields=fields)
    if "title" in data:
        postmortem.title = data["title"]
    for section in SECTIONS:
        if section in data:
            setattr(postmortem, section, data[section] or "")
    if items is not None:
        keep = set()
        for position, item in enumerate(items):
            row = existing.get(item.get("id")) if item.get("id") is not None else None
            if row is None:
                row = ActionItem(postmortem=postmortem, created_at=now)
                session.add(row)
            row.position, row.text = position, item["text"]
            row.owner_id, row.due_on = item.get("owner_id"), item.get("due_date")
            _set_done(row, bool(item.get("done")), user_id=user_id, now=now)
            if row.id is not None:
                keep.add(row.id)
        for item_id, row in existing.items():
            if item_id not in keep:
                session.delete(row)
    if state != postmortem.state:
        postmortem.state = state
        postmortem.published_at = now if state == PUBLISHED else None
        events.record(session, incident, kind="postmortem", now=now, user_id=user_id, detail={
            "message": "Postmortem published." if state == PUBLISHED else "Postmortem back to draft."})
    postmortem.updated_at, postmortem.updated_by_id = now, user_id
    session.flush()
    session.expire(postmortem, ["action_items"])
    return postmortem


def _refusals(session: Session, incident: Incident, postmortem: Postmortem, data: dict,
              existing: dict[int, ActionItem], state: str) -> dict:
    """What the database's rules refuse in `data`, by field (action items by their index), before anything
    is written."""
    fields: dict = {}
    if state == PUBLISHED:
        fields |= {s: ["Needed before the postmortem is published."] for s in REQUIRED_TO_PUBLISH
                   if not (data.get(s, getattr(postmortem, s)) or "").strip()}
    items = data.get("action_items") or []
    owners = {i["owner_id"] for i in items if i.get("owner_id") is not None}
    members = set(session.scalars(select(TeamMember.user_id).where(
        TeamMember.team_id == incident.team_id, TeamMember.user_id.in_(owners)))) if owners else set()
    rows = {}
    for n, item in enumerate(items):
        problems = {}
        if item.get("id") is not None and item["id"] not in existing:
            problems["id"] = ["Not an action item of this postmortem."]
        if item.get("owner_id") is not None and item["owner_id"] not in members:
            problems["owner_id"] = ["Choose a member of the incident's team."]
        if problems:
            rows[n] = problems
    if rows:
        fields["action_items"] = rows
    return fields


def _set_done(row: ActionItem, done: bool, *, user_id: int, now: datetime) -> None:
    if done and row.done_at is None:
        row.done_at, row.done_by_id = now, user_id
    elif not done and row.done_at is not None:
        row.done_at = row.done_by_id = None


def get_action_item(session: Session, item_id: int) -> ActionItem:
    item = session.get(ActionItem, item_id)
    if item is None:
        raise NotFound(f"action item {item_id} does not exist")
    return item


def set_item_done(session: Session, *, item: ActionItem, done: bool, user: User, now: datetime) -> ActionItem:
    """Close (or reopen) one action item; closing records who and when."""
    _set_done(item, done, user_id=user.id, now=now)
    session.flush()
    return item


def item_team_id(session: Session, item: ActionItem) -> int:
    return session.scalar(select(Incident.team_id).join(Postmortem, Postmortem.incident_id == Incident.id)
                          .where(Postmortem.id == item.postmortem_id))


# --- reading, as plain data --------------------------------------------------------------------------------

def body(session: Session, incident: Incident, postmortem: Postmortem, *, public_url: str) -> dict:
    """The API's answer (and the form's data): the postmortem, its incident's date and duration, its items."""
    items = list(postmortem.action_items)
    names = _names(session, {i.owner_id for i in items} | {i.done_by_id for i in items})
    return {
        "incident_id": incident.id, "title": postmortem.title, "state": postmortem.state,
        "date": incident.created_at.astimezone(document.UTC).date(),
        "duration": document.duration_text(incident.created_at, incident.resolved_at),
        **{s: getattr(postmortem, s) for s in SECTIONS},
        "action_items": [{"id": i.id, "text": i.text, "owner_id": i.owner_id, "owner": names.get(i.owner_id),
                          "due_date": i.due_on, "done": i.done, "done_at": i.done_at, "done_by_id": i.done_by_id,
                          "done_by": names.get(i.done_by_id)} for i in items],
        "created_at": postmortem.created_at, "updated_at": postmortem.updated_at,
        "updated_by_id": postmortem.updated_by_id, "published_at": postmortem.published_at,
        "url": postmortem_url(public_url, incident.id), "markdown_url": f"{public_url}/api/v1/incidents/{incident.id}/postmortem.md",
    }


def render_markdown(session: Session, incident: Incident, postmortem: Postmortem) -> str:
    items = list(postmortem.action_items)
    names = _names(session, {i.owner_id for i in items})
    return document.render(
        title=postmortem.title, on=incident.created_at.astimezone(document.UTC).date(),
        duration=document.duration_text(incident.created_at, incident.resolved_at),
        sections={s: getattr(postmortem, s) for s in SECTIONS},
        items=[document.ItemFact(i.text, names.get(i.owner_id), i.due_on, i.done) for i in items])


def _names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def follow_ups(session: Session, *, team: Team, now: datetime, public_url: str) -> list[dict]:
    """The team's late postmortems and overdue action items, as handoff watch items (postmortems/followups.py).
    Two queries."""
    missing = session.execute(
        select(Incident.id, Incident.severity, Incident.title, Incident.resolved_at)
        .outerjoin(Postmortem, Postmortem.incident_id == Incident.id)
        .where(Incident.team_id == team.id, Incident.status == RESOLVED,
               Incident.severity.in_(followups.POSTMORTEM_SEVERITIES),
               (Postmortem.id.is_(None)) | (Postmortem.state != PUBLISHED))).all()
    tz = ZoneInfo(team.time_zone)
    today = now.astimezone(tz).date()
    items = session.execute(
        select(ActionItem.id, ActionItem.text, ActionItem.due_on, User.name, Postmortem.incident_id)
        .join(Postmortem, Postmortem.id == ActionItem.postmortem_id)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .outerjoin(User, User.id == ActionItem.owner_id)
        .where(Incident.team_id == team.id, ActionItem.done_at.is_(None), ActionItem.due_on < today)).all()
    return followups.watch_entries(
        missing=[followups.MissingPostmortem(r.id, r.severity, r.title, r.resolved_at,
                                             postmortem_url(public_url, r.id)) for r in missing],
        items=[followups.OpenItem(r.id, r.incident_id, r.text, r.name, r.due_on,
                                  postmortem_url(public_url, r.incident_id)) for r in items],
        now=now, today=today, days=team.business_hours["days"], tz=tz)


def open_items_of(session: Session, *, user_id: int) -> list[dict]:
    """The action items a person owns and has not closed, soonest due first (the dashboard)."""
    rows = session.execute(
        select(ActionItem.id, ActionItem.text, ActionItem.due_on, Postmortem.incident_id, Incident.title)
        .join(Postmortem, Postmortem.id == ActionItem.postmortem_id)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .where(ActionItem.owner_id == user_id, ActionItem.done_at.is_(None))
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)).all()
    return [{"id": r.id, "text": r.text, "due_on": r.due_on, "incident_id": r.incident_id,
             "incident_title": r.title} for r in rows]
