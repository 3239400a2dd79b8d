"""The API tokens page: a person's own tokens, created (the secret shown once), listed and revoked through
people/tokens.py, as /api/v1/tokens does."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from oncall.clock import utcnow
from oncall.db import get_session
from oncall.errors import OncallError
from oncall.people import tokens
from oncall.people.schemas import NewApiTokenSchema
from oncall.web import forms
from oncall.web.session import login_required, web_user
from oncall.web.views import bp, status_of


def _render(status: int = 200, **extra):
    now = utcnow()
    mine = [tokens.describe(t, now=now) for t in tokens.list_tokens(get_session(), user_id=web_user().id)]
    context = {"tokens": mine, "errors": {}, "form": {}, "now": now} | extra
    return render_template("people/tokens.html", **context), status


@bp.get("/tokens")
@login_required
def api_tokens():
    return _render()


@bp.post("/tokens")
@login_required
def create_api_token():
    session = get_session()
    me = web_user()
    form = request.form
    now = utcnow()
    try:
        data = forms.load(NewApiTokenSchema(), {
            "name": (form.get("name") or "").strip() or None,
            "expires_at": forms.local_instant("expires_at", form.get("expires_at"), me.time_zone),
        })
        record, secret = tokens.issue_token(session, user=me, name=data["name"], expires_at=data["expires_at"],
                                            now=now)
    except OncallError as exc:
        session.rollback()
        return _render(status_of(exc), errors=exc.fields or {"_": [str(exc)]}, message=str(exc), form=form.to_dict())
    session.commit()
    # Shown on this answer only: a redirect would have to carry the secret somewhere.
    return _render(201, new_token={"id": record.id, "name": record.name, "secret": secret})


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int):
    session = get_session()
    # Someone else's token does not exist for this page, site admins included: the API serves those.
    token = tokens.get_token(session, token_id, owner_id=web_user().id)
    name = token.name or f"token {token.id}"
    tokens.revoke(session, token)
    session.commit()
    flash(f"Revoked {name}: it stops working at once.")
    return redirect(url_for("web.api_tokens"), 303)
