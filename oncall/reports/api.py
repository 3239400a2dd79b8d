"""GET /api/v1/teams/{id}/reports/load and /reports/response (the team's members and site admins)."""
import csv
import io

from flask import Response
from flask_smorest import Blueprint

from oncall.auth import current_user, require_team_member
from oncall.clock import utcnow
from oncall.db import get_session
from oncall.fields import require
from oncall.people import service as people
from oncall.reports import service
from oncall.reports.schemas import LoadQuerySchema, LoadReportSchema, PeriodQuerySchema, ResponseReportSchema

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1", description="Team reports: load and response")

CSV_COLUMNS = ("user_id", "name", "oncall_hours", "night_hours", "weekend_hours", "pages", "night_pages")


def period_of(args: dict) -> service.Period:
    """The period a query asks for: by default the four weeks up to now; one end alone keeps four weeks."""
    end = args["end"] or (args["start"] + service.DEFAULT_PERIOD if args["start"] else utcnow())
    start = args["start"] or end - service.DEFAULT_PERIOD
    require(end > start, "end", "Must be after start.")
    return service.Period(start, end)


def _team(team_id: int) -> None:
    require_team_member(current_user(), team_id)
    people.get_team(get_session(), team_id)


def load_body(team_id: int, period: service.Period) -> dict:
    session = get_session()
    rows = [p.to_json() for p in service.load_report(session, team_id, period)]
    names = service.names(session, {r["user_id"] for r in rows})
    return {"team_id": team_id, "start": period.start, "end": period.end,
            "people": [{"user_id": r["user_id"], "name": names.get(r["user_id"], "")} | r for r in rows]}


@bp.get("/teams/<int:team_id>/reports/load")
@bp.arguments(LoadQuerySchema, location="query")
@bp.response(200, LoadReportSchema)
@bp.alt_response(200, description="The same as CSV with ?format=csv (one row per person).", content_type="text/csv",
                 success=True)
def load_report(args, team_id: int):
    """Per person: hours on call, night hours (22:00-07:00) and weekend hours (Saturday, Sunday), both in the
    person's own zone, pages received and pages at night, from final shifts and the pages sent."""
    _team(team_id)
    body = load_body(team_id, period_of(args))
    if args["format"] == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(body["people"])
        return Response(out.getvalue(), content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="team-{team_id}-load.csv"'})
    return body


@bp.get("/teams/<int:team_id>/reports/response")
@bp.arguments(PeriodQuerySchema, location="query")
@bp.response(200, ResponseReportSchema)
def response_report(args, team_id: int):
    """Per severity: incidents opened in the period, how many were acknowledged within the target (SEV1 300 s,
    SEV2 900, SEV3 3600, SEV4 3600 from the next business-hours start), median and p90 seconds to acknowledge
    (an incident resolved without acknowledgement counts its resolve), median seconds to resolve."""
    _team(team_id)
    period = period_of(args)
    return {"team_id": team_id, "start": period.start, "end": period.end,
            "severities": service.response_report(get_session(), team_id, period)}
