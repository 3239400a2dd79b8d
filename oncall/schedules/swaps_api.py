"""/api/v1 shift swaps: ask (POST /rotations/{id}/swap-requests), answer (POST /swap-requests/{id}/accept or
/decline) and list a team's (GET /teams/{id}/swap-requests?state=open)."""
from flask import current_app
from flask_smorest import Blueprint

from oncall.auth import current_user
from oncall.clock import utcnow
from oncall.db import get_session
from oncall.schedules import swaps
from oncall.schedules.models import SwapRequest
from oncall.schedules.schemas import (
    SwapRequestCreateSchema, SwapRequestListSchema, SwapRequestQuerySchema, SwapRequestSchema,
)

bp = Blueprint("swaps_api", __name__, url_prefix="/api/v1", description="Shift swaps")


def swap_body(swap: SwapRequest, now) -> dict:
    body = {c: getattr(swap, c) for c in ("id", "rotation_id", "team_id", "requester_id", "to_user_id", "start_at",
                                         "end_at", "reason", "created_at", "decided_at", "decided_by_id",
                                         "override_id")}
    body["state"] = swap.state_at(now)
    return body


def _after_commit() -> None:
    from oncall import worker

    worker.nudge()  # the texts are in the outbox; send them now when the worker runs in this process


@bp.post("/rotations/<int:rotation_id>/swap-requests")
@bp.arguments(SwapRequestCreateSchema)
@bp.response(201, SwapRequestSchema)
def create_swap_request(data, rotation_id: int):
    """Ask a teammate (`to_user_id`) or, without one, the whole team to take [start, end) of this rotation.
    Only whoever is on call for all of it, or a team admin, may ask; it must lie ahead. The asked are texted."""
    session = get_session()
    now = utcnow()
    swap = swaps.create(session, rotation_id=rotation_id, requester=current_user(), now=now,
                        public_url=current_app.config["PUBLIC_URL"], **data)
    session.commit()
    _after_commit()
    return swap_body(swap, now)


def _answer(swap_id: int, action) -> dict:
    session = get_session()
    now = utcnow()
    swap = action(session, swap_id=swap_id, user=current_user(), now=now)
    session.commit()
    _after_commit()
    return swap_body(swap, now)


@bp.post("/swap-requests/<int:swap_id>/accept")
@bp.response(200, SwapRequestSchema)
def accept_swap_request(swap_id: int):
    """Take the time asked (the person asked; anyone else in the team when the team was asked): an override
    puts you on call for it and the requester is texted. 409 once answered or expired, or when the time
    overlaps another override."""
    return _answer(swap_id, swaps.accept)


@bp.post("/swap-requests/<int:swap_id>/decline")
@bp.response(200, SwapRequestSchema)
def decline_swap_request(swap_id: int):
    """Decline (who may accept may decline); the requester is texted. 409 once answered or expired."""
    return _answer(swap_id, swaps.decline)


@bp.get("/teams/<int:team_id>/swap-requests")
@bp.arguments(SwapRequestQuerySchema, location="query")
@bp.response(200, SwapRequestListSchema)
def list_swap_requests(args, team_id: int):
    """The team's swap requests, soonest first; ?state=open (the default: not answered, not started),
    accepted, declined, expired or all."""
    from oncall.people.service import get_team

    session = get_session()
    get_team(session, team_id)
    now = utcnow()
    state = args["state"] or "open"
    rows = swaps.list_for_team(session, team_id=team_id, state=None if state == "all" else state, now=now)
    return {"swap_requests": [swap_body(s, now) for s in rows]}
