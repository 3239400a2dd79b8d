"""/api/v1/incidents/{id}/postmortem: read and write a postmortem, and its Markdown in the seed's template."""
from flask import Response, current_app
from flask_smorest import Blueprint

from oncall.auth import current_user, require_team_member
from oncall.clock import utcnow
from oncall.db import get_session
from oncall.incidents import service as incidents
from oncall.postmortems import service
from oncall.postmortems.schemas import PostmortemSchema, PostmortemUpdateSchema

bp = Blueprint("postmortems_api", __name__, url_prefix="/api/v1", description="Postmortems")


def _public_url() -> str:
    return current_app.config["PUBLIC_URL"]


@bp.get("/incidents/<int:incident_id>/postmortem")
@bp.response(200, PostmortemSchema)
def get_postmortem(incident_id: int):
    """The incident's postmortem (a resolved SEV1 or SEV2 has a draft from its resolve on); 404 without one."""
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    return service.body(session, incident, service.get_postmortem(session, incident), public_url=_public_url())


@bp.put("/incidents/<int:incident_id>/postmortem")
@bp.arguments(PostmortemUpdateSchema)
@bp.response(200, PostmortemSchema)
def put_postmortem(data, incident_id: int):
    """Write the postmortem (team members; created if the incident has none). 409 while the incident is open;
    422 naming the field for an owner outside the team, an unknown item id, or publishing without a summary
    and root cause, and then nothing is changed."""
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    me = current_user()
    require_team_member(me, incident.team_id)
    postmortem = service.save(session, incident, data, user_id=me.id, now=utcnow())
    session.commit()
    return service.body(session, incident, postmortem, public_url=_public_url())


@bp.get("/incidents/<int:incident_id>/postmortem.md")
@bp.response(200, content_type="text/markdown")
def get_postmortem_markdown(incident_id: int):
    """The postmortem as Markdown: `# Incident Postmortem: TITLE DATE`, Summary, Impact, Timeline, Root Cause,
    What Went Well, What Went Poorly, Action Items (`| Action | Owner | Due Date |`), Lessons Learned."""
    session = get_session()
    incident = incidents.get_incident(session, incident_id)
    text = service.render_markdown(session, incident, service.get_postmortem(session, incident))
    return Response(text, mimetype="text/markdown", content_type="text/markdown; charset=utf-8")
