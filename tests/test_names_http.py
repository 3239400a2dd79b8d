"""Every API endpoint that takes a name or free text refuses each bad character (tests/test_fields.py's
tables) with a 422 naming the field, and changes nothing; its valid request is accepted, so each refusal is
down to the one value changed. The web's forms load the same schemas: tests/web/test_names_in_forms.py."""
from dataclasses import dataclass
from typing import Callable

import pytest
from sqlalchemy import func, select

from oncall.handoffs.models import Handoff, WatchItem
from oncall.incidents.models import Incident, Integration, TimelineEvent
from oncall.people.models import ApiToken, Team, User
from oncall.schedules.models import Override, Rotation, TimeOff
from tests.test_fields import bad_names, bad_texts

LATER = {"start": "2030-03-10T00:00:00Z", "end": "2030-03-11T00:00:00Z"}


@dataclass
class Endpoint:
    method: str
    path: Callable  # ctx -> path
    body: Callable  # (ctx, value) -> JSON body
    field: tuple  # where the error is, in the error's "fields"
    max_length: int
    free_text: bool = False


ENDPOINTS = {
    "create user": Endpoint("post", lambda c: "/api/v1/users",
                            lambda c, v: {"name": v, "email": "new@example.com", "time_zone": "UTC"}, ("name",), 200),
    "rename user": Endpoint("patch", lambda c: f"/api/v1/users/{c['user']}", lambda c, v: {"name": v}, ("name",), 200),
    "create team": Endpoint("post", lambda c: "/api/v1/teams",
                            lambda c, v: {"name": v, "slug": "new-team", "time_zone": "UTC"}, ("name",), 200),
    "rename team": Endpoint("patch", lambda c: f"/api/v1/teams/{c['team']}", lambda c, v: {"name": v}, ("name",), 200),
    "create rotation": Endpoint("post", lambda c: "/api/v1/rotations", lambda c, v: {
        "team_id": c["team"], "name": v, "time_zone": "UTC", "handoff_time": "09:00",
        "shift_length": {"unit": "weeks", "count": 1}, "start_date": "2030-01-07", "participant_ids": [c["user"]]},
        ("name",), 200),
    "rename rotation": Endpoint("patch", lambda c: f"/api/v1/rotations/{c['rotation']}", lambda c, v: {"name": v},
                                ("name",), 200),
    "create token": Endpoint("post", lambda c: "/api/v1/tokens", lambda c, v: {"name": v}, ("name",), 200),
    "create integration": Endpoint("post", lambda c: f"/api/v1/teams/{c['team']}/integrations",
                                   lambda c, v: {"type": "alertmanager", "name": v}, ("name",), 200),
    "incident title": Endpoint("post", lambda c: "/api/v1/incidents",
                               lambda c, v: {"team_id": c["team"], "severity": "SEV3", "title": v}, ("title",), 500),
    "incident chat": Endpoint("post", lambda c: "/api/v1/incidents", lambda c, v: {
        "team_id": c["team"], "severity": "SEV3", "title": "Checkout down", "links": {"chat": v}}, ("links", "chat"), 200),
    "add watch item": Endpoint("post", lambda c: f"/api/v1/teams/{c['team']}/watch-items", lambda c, v: {"text": v},
                               ("text",), 500),
    "edit watch item": Endpoint("patch", lambda c: f"/api/v1/teams/{c['team']}/watch-items/{c['watch_item']}",
                                lambda c, v: {"text": v}, ("text",), 500),
    "incident description": Endpoint("post", lambda c: "/api/v1/incidents", lambda c, v: {
        "team_id": c["team"], "severity": "SEV3", "title": "Checkout down", "description": v}, ("description",),
        20000, free_text=True),
    "incident note": Endpoint("post", lambda c: f"/api/v1/incidents/{c['incident']}/notes", lambda c, v: {"text": v},
                              ("text",), 5000, free_text=True),
    "override reason": Endpoint("post", lambda c: f"/api/v1/rotations/{c['rotation']}/overrides",
                                lambda c, v: {"user_id": c["user"], **LATER, "reason": v}, ("reason",), 2000,
                                free_text=True),
    "time off reason": Endpoint("post", lambda c: f"/api/v1/users/{c['user']}/time-off",
                                lambda c, v: {**LATER, "reason": v}, ("reason",), 2000, free_text=True),
}


def snapshot(session) -> tuple:
    session.expire_all()
    counts = tuple(session.scalar(select(func.count()).select_from(m)) for m in (
        User, Team, Rotation, ApiToken, Integration, Incident, TimelineEvent, WatchItem, Handoff, Override, TimeOff))
    names = tuple(tuple(session.execute(select(m.id, column).order_by(m.id))) for m, column in (
        (User, User.name), (Team, Team.name), (Rotation, Rotation.name), (WatchItem, WatchItem.text)))
    return counts, names


def named(fields: dict, path: tuple) -> bool:
    # Schemas nest messages ({"links": {"chat": [...]}}); the body check that runs before them (NUL, lone
    # surrogates: oncall.bodies) names the field by its dotted path.
    if ".".join(path) in fields:
        return True
    for key in path:
        if not isinstance(fields, dict) or key not in fields:
            return False
        fields = fields[key]
    return bool(fields)


@pytest.fixture()
def ctx(api, make_user, make_team, make_rotation) -> dict:
    team = make_team()
    user = make_user()["id"]
    api.put(f"/api/v1/teams/{team['id']}/members", json={"user_ids": [user]})
    rotation = make_rotation(participants=[user], team_id=team["id"])
    item = api.post(f"/api/v1/teams/{team['id']}/watch-items", json={"text": "Deploy Friday"})
    incident = api.post("/api/v1/incidents", json={"team_id": team["id"], "severity": "SEV3", "title": "Slow"})
    assert item.status_code == incident.status_code == 201, (item.json, incident.json)
    return {"team": team["id"], "user": user, "rotation": rotation["id"], "watch_item": item.json["id"],
            "incident": incident.json["id"]}


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_bad_names_and_texts_are_refused_naming_the_field(name, api, ctx, session):
    endpoint = ENDPOINTS[name]
    call = getattr(api, endpoint.method)
    before = snapshot(session)
    bad = bad_texts(endpoint.max_length) if endpoint.free_text else bad_names(endpoint.max_length)
    for what, value in bad.items():
        response = call(endpoint.path(ctx), json=endpoint.body(ctx, value))
        assert response.status_code == 422, (what, response.json)
        assert named(response.json["error"]["fields"], endpoint.field), (what, response.json)
    assert snapshot(session) == before
    accepted = call(endpoint.path(ctx), json=endpoint.body(ctx, "Valid name\nsecond line" if endpoint.free_text
                                                            else "  Valid name  "))
    assert accepted.status_code in (200, 201), accepted.json
