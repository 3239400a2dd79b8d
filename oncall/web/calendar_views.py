"""Week and month calendars of shifts: on the rotation page (one lane) and the team calendar (a lane per
rotation), in the reader's zone or, one click away, the rotation's or team's own."""
from __future__ import annotations

from datetime import date

from flask import render_template, request

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.people.service import get_team
from oncall.schedules import service as schedules
from oncall.schedules.models import Rotation
from oncall.web import overview, permissions, timefmt
from oncall.web.session import login_required, web_user
from oncall.web.views import bp

VIEWS = ("week", "month")


def calendar_context(rotations: list[Rotation], home_zone: str, endpoint: str, **args) -> dict:
    """`cal` for the calendar partial, from ?view=week|month, ?start=YYYY-MM-DD (any day of the week or month;
    default today) and ?zone=home (the rotation's or team's zone; default the reader's)."""
    reader_zone = web_user().time_zone or "UTC"
    zone = home_zone if request.args.get("zone") == "home" else reader_zone
    view = request.args.get("view", "week")
    view = view if view in VIEWS else "week"
    try:
        anchor = timefmt.parse_date(request.args.get("start", "")) or None
    except ValueError:
        anchor = None
    if anchor is None or not date(1900, 1, 1) <= anchor <= date(8999, 12, 1):
        anchor = timefmt.local_date(utcnow(), zone)
    cal = overview.calendar_view(get_session(), rotations, view=view, anchor=anchor, zone=zone)
    return {"cal": cal, "cal_endpoint": endpoint, "cal_args": args, "cal_home_zone": home_zone, "cal_reader_zone": reader_zone,
            "cal_zone_arg": "home" if zone == home_zone and request.args.get("zone") == "home" else None,
            "today": timefmt.local_date(utcnow(), zone)}


@bp.get("/teams/<int:team_id>/calendar", endpoint="team_calendar")
@login_required
def team_calendar(team_id: int):
    session = get_session()
    team = get_team(session, team_id)
    permissions.require_visible(web_user(), team.id, "team")
    rotations = schedules.list_rotations(session, team_id=team.id)
    return render_template("schedules/team_calendar.html", team=team,
                           **calendar_context(rotations, team.time_zone, "web.team_calendar", team_id=team.id))
