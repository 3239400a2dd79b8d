"""GET /healthz: the service's own verdict on itself, for load balancers, uptime checks and people."""
from flask import Blueprint, current_app

from oncall.operations import health

bp = Blueprint("operations", __name__)


def check() -> health.Health:
    config = current_app.config
    return health.check(current_app.extensions["oncall_db"]["read_sessions"],
                        worker_seconds=float(config["HEALTH_WORKER_SECONDS"]),
                        page_seconds=float(config["HEALTH_PAGE_SECONDS"]))


@bp.get("/healthz")
def healthz():
    """200 for ok and degraded (the web itself works), 503 for down; no authentication, as checkers expect."""
    verdict = check()
    return verdict.to_json(), verdict.http_status, {"Cache-Control": "no-store"}
