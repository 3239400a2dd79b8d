"""Team pages: the list of one's teams and a new team (site admins, as POST /api/v1/teams), a team's page with
its settings, members, invitations and warnings (team admins change it, as PATCH /api/v1/teams/{id} and PUT
.../members do). Everything about a team is invisible to people outside it, site admins excepted."""
from __future__ import annotations

import re

from flask import current_app, flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Forbidden, NotFound, OncallError
from oncall.people import phones, service as people
from oncall.people.models import WEEKDAYS
from oncall.people.schemas import TeamSchema, UserSchema
from oncall.schedules import service as schedules
from oncall.web import forms, permissions
from oncall.web.profile import time_zones
from oncall.web.session import login_required, web_user
from oncall.web.views import bp, status_of


def slug_from(name: str) -> str:
    """A slug for a team named `name` when none is typed: lowercase words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63]


def visible_team(team_id: int):
    """The team, if the signed-in person may see it: members and site admins. Anyone else gets a 404, as if it
    did not exist (its name is not theirs to learn)."""
    permissions.require_visible(web_user(), team_id, f"team {team_id}")
    return people.team_with_people(get_session(), team_id)


def admin_team(team_id: int):
    team = visible_team(team_id)
    permissions.require_team_admin(web_user(), team_id)
    return team


# --- the list and a new team -----------------------------------------------------------------------------

def _render_list(status: int = 200, **extra):
    context = {"teams": people.teams_visible_to(get_session(), web_user()), "errors": {}, "form": {},
               "zones": time_zones()} | extra
    return render_template("people/teams.html", **context), status


@bp.get("/teams")
@login_required
def teams():
    return _render_list()


@bp.post("/teams")
@login_required
def create_team():
    me = web_user()
    if not me.is_admin:
        raise Forbidden("Only site admins may create teams.")
    session = get_session()
    form = request.form
    name = (form.get("name") or "").strip()
    try:
        data = forms.load(TeamSchema(), {"name": name, "slug": (form.get("slug") or "").strip() or slug_from(name),
                                         "time_zone": (form.get("time_zone") or "").strip()})
        # The site admin manages it without joining it: a member would be paged by "whole team" steps.
        team = people.create_team(session, **data)
    except OncallError as exc:
        session.rollback()
        return _render_list(status_of(exc), errors=exc.fields or {"_": [str(exc)]}, message=str(exc),
                            form=form.to_dict())
    session.commit()
    flash(f"Team {team.name} created. Invite its people below and make one of them its admin.")
    return redirect(url_for("web.team", team_id=team.id), 303)


# --- a team's page -----------------------------------------------------------------------------------------

def _render_team(team, status: int = 200, **extra):
    session = get_session()
    now = utcnow()
    context = {
        "team": team, "members": sorted(team.members, key=lambda m: (m.role != "admin", m.user.name.lower())),
        "rotations": schedules.list_rotations(session, team_id=team.id, archived=False),
        "unreachable": phones.unverified_on_rotations(session, team_ids=[team.id], now=now).get(team.id, []),
        "weekdays": WEEKDAYS, "zones": time_zones(), "errors": {}, "form": {}, "section": None,
        "can_admin": permissions.is_team_admin(web_user(), team.id),
    } | extra
    return render_template("people/team.html", **context), status


def _refuse(team_id: int, section: str, exc: OncallError):
    session = get_session()
    session.rollback()
    return _render_team(people.team_with_people(session, team_id), status_of(exc), section=section,
                        errors=exc.fields or {"_": [str(exc)]}, message=str(exc), form=request.form.to_dict())


@bp.get("/teams/<int:team_id>")
@login_required
def team(team_id: int):
    return _render_team(visible_team(team_id))


@bp.post("/teams/<int:team_id>/settings")
@login_required
def team_settings(team_id: int):
    team = admin_team(team_id)
    session = get_session()
    form = request.form
    try:
        data = forms.load(TeamSchema(partial=True), {
            "name": (form.get("name") or "").strip(),
            "time_zone": (form.get("time_zone") or "").strip(),
            # Weekdays in calendar order; anything else is passed on for the schema to refuse.
            "business_hours": {"days": sorted(form.getlist("days"), key=lambda d: WEEKDAYS.index(d)
                                              if d in WEEKDAYS else len(WEEKDAYS)),
                               "start": (form.get("start") or "").strip(), "end": (form.get("end") or "").strip()},
        }, names={"business_hours.start": "start", "business_hours.end": "end", "business_hours.days": "days"})
        people.update_team(session, team, data)
    except (Forbidden, NotFound):
        raise
    except OncallError as exc:
        return _refuse(team_id, "settings", exc)
    session.commit()
    flash("Team settings saved.")
    return redirect(url_for("web.team", team_id=team_id), 303)


def _change_members(team, user_ids: list[int], admin_ids: list[int], message: str, section: str):
    session = get_session()
    try:
        people.change_members(session, team, actor=web_user(), user_ids=user_ids, admin_ids=admin_ids)
    except OncallError as exc:
        return _refuse(team.id, section, exc)
    session.commit()
    flash(message)
    return redirect(url_for("web.team", team_id=team.id), 303)


def _admins(team) -> list[int]:
    return [m.user_id for m in team.members if m.role == "admin"]


@bp.post("/teams/<int:team_id>/members")
@login_required
def add_member(team_id: int):
    team = admin_team(team_id)
    try:
        person = people.find_user_by_email(get_session(), request.form.get("email", ""))
    except OncallError as exc:
        return _refuse(team_id, "add", exc)
    if person.id in team.member_ids:
        flash(f"{person.name} is in the team already.")
        return redirect(url_for("web.team", team_id=team_id), 303)
    return _change_members(team, team.member_ids + [person.id], _admins(team), f"{person.name} added.", "add")


@bp.post("/teams/<int:team_id>/members/<int:user_id>/remove")
@login_required
def remove_member(team_id: int, user_id: int):
    team = admin_team(team_id)
    member = next((m for m in team.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound(f"user {user_id} is not in this team")
    return _change_members(team, [uid for uid in team.member_ids if uid != user_id],
                           [uid for uid in _admins(team) if uid != user_id], f"{member.user.name} removed.", "members")


@bp.post("/teams/<int:team_id>/members/<int:user_id>/role")
@login_required
def member_role(team_id: int, user_id: int):
    team = admin_team(team_id)
    member = next((m for m in team.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound(f"user {user_id} is not in this team")
    role = request.form.get("role")
    if role not in ("admin", "member"):
        return _refuse(team_id, "members", forms.FormError("role must be admin or member",
                                                           fields={"role": ["Admin or member."]}))
    admins = [uid for uid in _admins(team) if uid != user_id] + ([user_id] if role == "admin" else [])
    return _change_members(team, team.member_ids, admins, f"{member.user.name} is now a team {role}.", "members")


@bp.post("/teams/<int:team_id>/invite")
@login_required
def invite(team_id: int):
    """A new person in this team; their one-time sign-in link is shown to the inviter, once."""
    from oncall.web import signin

    team = admin_team(team_id)
    session = get_session()
    form = request.form
    try:
        data = forms.load(UserSchema(), {
            "name": (form.get("name") or "").strip(), "email": (form.get("email") or "").strip(),
            "phone": "".join((form.get("phone") or "").split()) or None,
            "time_zone": (form.get("time_zone") or "").strip() or team.time_zone,
        })
        person = people.invite_person(session, team=team, **data)
        secret = signin.make_sign_in_link(session, actor=web_user(), person=person, now=utcnow())
    except OncallError as exc:
        return _refuse(team_id, "invite", exc)
    session.commit()
    return _render_team(people.team_with_people(session, team_id), 201, invited=person,
                        sign_in_link=public_link("web.sign_in_link", secret=secret))


def public_link(endpoint: str, **values) -> str:
    """An absolute link on this server's public address (ONCALL_PUBLIC_URL), to copy and send to someone."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)


@bp.post("/teams/<int:team_id>/time-off")
@login_required
def member_time_off(team_id: int):
    """A team admin enters time off on behalf of a member (TimeOffSchema and add_time_off, as POST
    /api/v1/users/{id}/time-off, which team admins may use for their members too)."""
    from oncall.auth import require_time_off_manager
    from oncall.schedules.schemas import TimeOffSchema

    team = admin_team(team_id)
    session = get_session()
    me = web_user()
    form = request.form
    try:
        user_id = forms.integer(form.get("user_id"))
        member = next((m.user for m in team.members if m.user_id == user_id), None)
        if member is None:
            raise forms.FormError("choose a member of this team", fields={"user_id": ["Choose a member of this team."]})
        require_time_off_manager(me, member)
        data = forms.load(TimeOffSchema(), {
            "start": forms.local_instant("start", form.get("start"), me.time_zone),
            "end": forms.local_instant("end", form.get("end"), me.time_zone),
            "reason": (form.get("reason") or "").strip() or None,
        })
        schedules.add_time_off(session, user_id=member.id, now=utcnow(), **data)
    except (Forbidden, NotFound):
        raise
    except OncallError as exc:
        return _refuse(team_id, "time_off", exc)
    session.commit()
    flash(f"Time off saved for {member.name}: their shifts in it go to the next person free.")
    return redirect(url_for("web.team", team_id=team_id), 303)
