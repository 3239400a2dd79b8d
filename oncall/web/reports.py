"""The team's report page: who carried the pager (hours by day, night and weekend, and pages, per person) and
how fast each severity was answered against its target, month by month. The API's services, drawn as SVG."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import render_template, request

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.people.service import get_team
from oncall.reports import response, service as reports
from oncall.schedules.timeline import MAX_WINDOW, resolve_local
from oncall.web import permissions, report_charts, timefmt
from oncall.web.session import login_required, web_user
from oncall.web.views import bp

EARLIEST, LATEST = date(1900, 1, 1), date(9000, 1, 1)
PERIODS = {"4w": ("Last 4 weeks", timedelta(weeks=4)), "quarter": ("Last quarter", timedelta(days=91))}


def period_from(args, zone: str, now: datetime) -> tuple[str, reports.Period, str | None]:
    """(choice, period, error) from ?period=4w|quarter|custom&start=&end= (custom: whole days in `zone`)."""
    choice = args.get("period", "4w")
    if choice == "custom":
        try:
            first, last = timefmt.parse_date(args.get("start", "")), timefmt.parse_date(args.get("end", ""))
        except ValueError:
            first = last = None
        if first is None or last is None:
            return "4w", reports.Period(now - PERIODS["4w"][1], now), "Choose a start and an end date."
        if not (EARLIEST <= first <= LATEST and EARLIEST <= last <= LATEST):
            # Beyond these a day's midnight in some zones is no representable instant (a 500, not a report).
            return "4w", reports.Period(now - PERIODS["4w"][1], now), \
                f"Choose dates between {EARLIEST.isoformat()} and {LATEST.isoformat()}."
        start, end = resolve_local(first, datetime.min.time(), ZoneInfo(zone)), \
            resolve_local(last + timedelta(days=1), datetime.min.time(), ZoneInfo(zone))
        if end <= start or end - start > MAX_WINDOW:
            return "4w", reports.Period(now - PERIODS["4w"][1], now), \
                f"The end must be after the start, at most {MAX_WINDOW.days} days later."
        return "custom", reports.Period(start, end), None
    choice = choice if choice in PERIODS else "4w"
    return choice, reports.Period(now - PERIODS[choice][1], now), None


@bp.get("/teams/<int:team_id>/reports", endpoint="team_reports")
@login_required
def team_reports(team_id: int):
    session = get_session()
    team = get_team(session, team_id)
    permissions.require_visible(web_user(), team.id, "team")
    zone = web_user().time_zone or team.time_zone
    choice, period, error = period_from(request.args, zone, utcnow())
    people = reports.load_report(session, team.id, period)
    names = reports.names(session, {p.user_id for p in people})
    hours = [(names.get(p.user_id, f"#{p.user_id}"),
              [("night", _h(p.night)), ("weekend", _h(p.weekend - p.weekend_night)),
               ("day", _h(p.oncall - p.night - p.weekend + p.weekend_night))]) for p in people]
    pages = [(names.get(p.user_id, f"#{p.user_id}"),
              [("night-pages", float(p.night_pages)), ("pages", float(p.pages - p.night_pages))]) for p in people]
    incidents = reports.team_incidents(session, team.id, period)
    severities = response.response_report(incidents)
    monthly = response.monthly_medians(incidents)
    targets = [report_charts.against_target(row["severity"],
                                            [(m, None if v[row["severity"]] is None else v[row["severity"]] / 60)
                                             for m, v in monthly.items()],
                                            row["target_seconds"] / 60)
               for row in severities if row["incidents"]]
    return render_template("reports/team.html", team=team, choice=choice, periods=PERIODS, period=period,
                           error=error, zone=zone, people=people, names=names, severities=severities,
                           hours_chart=report_charts.stacked_bars(hours, "hours"),
                           pages_chart=report_charts.stacked_bars(pages, "pages"), target_charts=targets,
                           start_value=timefmt.local_input(period.start, zone)[:10],
                           end_value=timefmt.local_input(period.end - timedelta(seconds=1), zone)[:10])


def _h(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)
