"""A team's integrations page: connect Alertmanager (the token shown once, with a ready-to-paste receiver block
for alertmanager.yml on this server's public URL), list, revoke, and send a test alert. Team admins change them,
members see the list; the same service and schemas as /api/v1/teams/{id}/integrations."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import NotFound, OncallError
from oncall.incidents import service as incidents
from oncall.incidents.schemas import IntegrationCreateSchema
from oncall.incidents.test_alerts import send_test_alert
from oncall.web import forms
from oncall.web.session import login_required, web_user
from oncall.web.teams import admin_team, visible_team
from oncall.web.views import bp, status_of


def receiver_block(*, name: str, url: str, token: str) -> str:
    """The alertmanager.yml receiver for this integration (Alertmanager's webhook_config, bearer credentials in
    http_config.authorization); add it under `receivers:` and route alerts to it."""
    return (f"receivers:\n"
            f"  - name: {name}\n"
            f"    webhook_configs:\n"
            f"      - url: {url}\n"
            f"        send_resolved: true\n"
            f"        http_config:\n"
            f"          authorization:\n"
            f"            type: Bearer\n"
            f"            credentials: {token}\n")


def _url(kind: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/api/v1/integrations/{kind}"


def _render(team, status: int = 200, **extra):
    context = {"team": team, "integrations": incidents.list_integrations(get_session(), team_id=team.id),
               "errors": {}, "form": {}, "alertmanager_url": _url("alertmanager")} | extra
    return render_template("incidents/integrations.html", **context), status


@bp.get("/teams/<int:team_id>/integrations")
@login_required
def integrations(team_id: int):
    return _render(visible_team(team_id))


@bp.post("/teams/<int:team_id>/integrations")
@login_required
def create_integration(team_id: int):
    team = admin_team(team_id)
    session = get_session()
    form = request.form
    try:
        data = forms.load(IntegrationCreateSchema(), {"type": (form.get("type") or "alertmanager").strip(),
                                                      "name": (form.get("name") or "").strip() or None})
        integration, token = incidents.create_integration(session, team_id=team.id, created_by_id=web_user().id,
                                                          now=utcnow(), **data)
    except OncallError as exc:
        session.rollback()
        return _render(team, status_of(exc), errors=exc.fields or {"_": [str(exc)]}, message=str(exc),
                       form=form.to_dict())
    session.commit()
    block = receiver_block(name=f"oncall-{team.slug}", url=_url(integration.type), token=token)
    return _render(team, 201, new={"integration": integration, "token": token, "block": block})


def _integration(team_id: int, integration_id: int):
    found = next((i for i in incidents.list_integrations(get_session(), team_id=team_id) if i.id == integration_id),
                 None)
    if found is None:
        raise NotFound(f"integration {integration_id} does not exist for team {team_id}")
    return found


@bp.post("/teams/<int:team_id>/integrations/<int:integration_id>/revoke")
@login_required
def revoke_integration(team_id: int, integration_id: int):
    admin_team(team_id)
    session = get_session()
    incidents.delete_integration(session, team_id=team_id, integration_id=integration_id)
    session.commit()
    flash("Integration revoked: its token stops working at once.")
    return redirect(url_for("web.integrations", team_id=team_id), 303)


@bp.post("/teams/<int:team_id>/integrations/<int:integration_id>/test")
@login_required
def test_integration(team_id: int, integration_id: int):
    admin_team(team_id)
    session = get_session()
    incident = send_test_alert(session, integration=_integration(team_id, integration_id), now=utcnow())
    session.commit()
    flash(f"Test alert sent: incident {incident.id} opened and resolved.")
    return redirect(url_for("web.incident", incident_id=incident.id), 303)
