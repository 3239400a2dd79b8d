"""A new rotation for a team (team admins, as POST /api/v1/rotations): participants ordered by position numbers
typed beside each team member, so ordering works without JavaScript."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import OncallError
from oncall.schedules import service as schedules
from oncall.schedules.schemas import RotationSchema
from oncall.web import forms, timefmt
from oncall.web.forms import FormError
from oncall.web.profile import time_zones
from oncall.web.session import login_required
from oncall.web.teams import admin_team
from oncall.web.views import bp, status_of

_MAX_POSITION_DIGITS = 4


def ordered_participants(form, member_ids: list[int]) -> list[int]:
    """Team members in the order of the positions typed beside them (blank: not in the rotation). Two people at
    one position, or a position that is not a number, is an error naming the participants field."""
    positions: dict[int, int] = {}
    for uid in member_ids:
        text = (form.get(f"position_{uid}") or "").strip()
        if not text:
            continue
        if not text.isdigit() or len(text) > _MAX_POSITION_DIGITS or int(text) < 1:
            raise FormError("positions are whole numbers from 1",
                            fields={"participants": ["Positions are whole numbers: 1, 2, 3 ..."]})
        positions[uid] = int(text)
    taken = sorted(positions.values())
    if len(set(taken)) != len(taken):
        raise FormError("two people have the same position",
                        fields={"participants": ["Give each person their own position."]})
    return sorted(positions, key=positions.get)


def _render(team, status: int = 200, **extra):
    today = timefmt.local_input(utcnow(), team.time_zone)[:10]
    members = sorted((m.user for m in team.members), key=lambda u: u.name.lower())
    context = {"team": team, "members": members, "zones": time_zones(), "errors": {}, "form": {},
               "today": today} | extra
    return render_template("schedules/new_rotation.html", **context), status


@bp.route("/teams/<int:team_id>/rotations/new", methods=["GET", "POST"])
@login_required
def new_rotation(team_id: int):
    team = admin_team(team_id)
    if request.method == "GET":
        return _render(team)
    session = get_session()
    form = request.form
    try:
        data = forms.load(RotationSchema(), {
            "team_id": team.id,
            "name": (form.get("name") or "").strip(),
            "time_zone": (form.get("time_zone") or "").strip(),
            "handoff_time": (form.get("handoff_time") or "").strip(),
            "shift_length": {"unit": (form.get("shift_unit") or "").strip(),
                             "count": forms.integer(form.get("shift_count"))},
            "start_date": (form.get("start_date") or "").strip(),
            "participant_ids": ordered_participants(form, team.member_ids),
        }, names={"participant_ids": "participants", "shift_length.count": "shift_count",
                  "shift_length.unit": "shift_unit", "shift_length": "shift_count"})
        rotation = schedules.create_rotation(session, **data)
    except OncallError as exc:
        session.rollback()
        return _render(admin_team(team_id), status_of(exc), errors=exc.fields or {"_": [str(exc)]},
                       message=str(exc), form=form.to_dict())
    session.commit()
    flash(f"Rotation {rotation.name} created.")
    return redirect(url_for("web.rotation", rotation_id=rotation.id), 303)

