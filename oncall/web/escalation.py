"""Escalation policy pages: a team's four severities side by side with whom each step would page now, and the
form that edits one severity's steps (team admins, PolicySchema and escalation.service.set_policy, as PUT
/api/v1/teams/{id}/escalation-policies/{severity}). Works without JavaScript: the form always has one blank step
to add, and a remove box on each."""
from __future__ import annotations

from marshmallow import ValidationError
from flask import flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import Invalid, OncallError
from oncall.escalation import service as escalation
from oncall.escalation.policy import CHANNELS, MAX_STEPS, ROTATION, TEAM, USER
from oncall.escalation.schemas import PolicySchema
from oncall.schedules import service as schedules
from oncall.web import forms
from oncall.web.session import login_required, web_user
from oncall.web.teams import admin_team, visible_team
from oncall.web.views import bp, status_of


def target_value(target) -> str:
    return TEAM if target.type == TEAM else f"{target.type}:{target.id}"


def _target(value: str) -> dict:
    """A checkbox value ('rotation:3', 'user:7', 'team') as the API's target; anything else goes to the schema
    as it is, to be refused with its message."""
    kind, _, ident = value.partition(":")
    if kind == TEAM and not ident:
        return {"type": TEAM}
    return {"type": kind, "id": forms.integer(ident)}


def kept_steps(form) -> list[int]:
    """Form indices of the steps the policy keeps: a step whose remove box is ticked, or that has no delay and no
    target (the blank one offered for adding), is left out."""
    kept = []
    for i in range(MAX_STEPS + 1):
        if f"step-{i}-delay" not in form:
            break
        if form.get(f"step-{i}-remove") or not ((form.get(f"step-{i}-delay") or "").strip()
                                                 or form.getlist(f"step-{i}-target")):
            continue
        kept.append(i)
    return kept


def steps_from_form(form) -> dict:
    """The form as the API's PUT body (the kept steps, in order)."""
    steps = []
    for i in kept_steps(form):
        delay = (form.get(f"step-{i}-delay") or "").strip()
        steps.append({"delay_minutes": forms.integer(delay) if delay else 0,
                      "targets": [_target(v) for v in form.getlist(f"step-{i}-target")],
                      "channels": form.getlist(f"step-{i}-channel")})
    return {"repeat": forms.integer((form.get("repeat") or "0").strip()), "steps": steps}


def _load_policy(form) -> dict:
    """The form through the API's schema, its messages kept nested by step (forms.load would flatten them)."""
    try:
        return PolicySchema().load(steps_from_form(form))
    except ValidationError as exc:
        raise Invalid("The policy cannot be saved as typed; see the messages beside the steps.",
                      fields=exc.messages) from exc


def step_errors(fields: dict, kept: list[int]) -> tuple[dict[int, list[str]], dict]:
    """The API's messages about step N go beside the form's fieldset of that step; the others stay with the
    form. Returns ({form index: messages}, the rest in the API's shape)."""
    rest = {key: value for key, value in fields.items() if key != "steps"}
    beside: dict[int, list[str]] = {}
    steps = fields.get("steps")
    if isinstance(steps, dict):
        for key, messages in steps.items():
            if str(key).isdigit() and int(key) < len(kept):
                flat = forms.field_messages(messages, {})
                beside.setdefault(kept[int(key)], []).extend(
                    f"{name.replace('_', ' ')}: {m}" if name != "_" else m for name, ms in flat.items() for m in ms)
            else:
                rest.setdefault("steps", {})[key] = messages
    elif steps is not None:
        rest["steps"] = steps
    return beside, rest


def _choices(team) -> list[tuple[str, str]]:
    rotations = schedules.list_rotations(get_session(), team_id=team.id, archived=False)
    people = sorted((m.user for m in team.members), key=lambda u: u.name.lower())
    return ([(f"{ROTATION}:{r.id}", f"on call for {r.name}") for r in rotations] +
            [(f"{USER}:{u.id}", u.name) for u in people] + [(TEAM, "the whole team")])


@bp.get("/teams/<int:team_id>/escalation")
@login_required
def escalation_policies(team_id: int):
    team = visible_team(team_id)
    session = get_session()
    policies = escalation.policy_page(session, team_id=team.id, now=utcnow())
    labels = escalation.target_labels(session, team_id=team.id,
                                      steps=[s for p in policies for s in p["policy"].policy.steps])
    return render_template("escalation/policies.html", team=team, policies=policies, labels=labels)


def _render_edit(team, severity: str, status: int = 200, **extra):
    current = escalation.team_policy(get_session(), team_id=team.id, severity=severity)
    steps = [{"delay": s.delay_minutes, "targets": {target_value(t) for t in s.targets}, "channels": set(s.channels)}
             for s in current.policy.steps]
    context = {"team": team, "severity": severity, "current": current, "steps": steps, "choices": _choices(team),
               "channels": CHANNELS, "errors": {}, "step_errors": {}, "repeat": current.policy.repeat} | extra
    if len(context["steps"]) < MAX_STEPS:
        context["steps"] = context["steps"] + [{"delay": "", "targets": set(), "channels": {"sms", "voice"},
                                                 "blank": True}]
    return render_template("escalation/edit.html", **context), status


@bp.route("/teams/<int:team_id>/escalation/<string:severity>", methods=["GET", "POST"])
@login_required
def edit_escalation_policy(team_id: int, severity: str):
    team = admin_team(team_id)
    severity = escalation.parse_severity(severity)
    if request.method == "GET":
        return _render_edit(team, severity)
    session = get_session()
    form = request.form
    try:
        data = _load_policy(form)
        escalation.set_policy(session, team_id=team.id, severity=severity, data=data, user_id=web_user().id,
                              now=utcnow())
    except OncallError as exc:
        session.rollback()
        beside, rest = step_errors(exc.fields or {}, kept_steps(form))
        errors = forms.field_messages(rest, {}) if rest else ({} if beside else {"_": [str(exc)]})
        typed = [{"delay": form.get(f"step-{i}-delay", ""), "targets": set(form.getlist(f"step-{i}-target")),
                  "channels": set(form.getlist(f"step-{i}-channel"))}
                 for i in range(MAX_STEPS + 1) if f"step-{i}-delay" in form]
        return _render_edit(team, severity, status_of(exc), errors=errors, message=str(exc), steps=typed,
                            repeat=form.get("repeat", ""), step_errors=beside)
    session.commit()
    flash(f"{severity} policy saved. Incidents already open keep the policy they started with.")
    return redirect(url_for("web.escalation_policies", team_id=team_id) + f"#{severity.lower()}", 303)
