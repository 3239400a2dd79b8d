"""The pager's own health: worker heartbeats, GET /healthz, GET /metrics, `oncall status`, and logging."""

from flask import Flask


def init_app(app: Flask) -> None:
    from oncall.operations import health, heartbeats, logs, multiproc

    logs.init_app(app)  # request ids, one access line per request, secrets never logged

    # Before anything imports prometheus_client: the library picks its mode at import.
    multiprocess_dir = multiproc.prepare()

    from oncall.operations import metrics
    from oncall.operations.cli import status_command
    from oncall.operations.views import bp

    # Every threshold can be shortened through ONCALL_* (tests do); the defaults are PRODUCT.md's.
    app.config.setdefault("HEALTH_WORKER_SECONDS", health.WORKER_SECONDS)
    app.config.setdefault("HEALTH_PAGE_SECONDS", health.PAGE_SECONDS)
    app.config.setdefault("HEARTBEAT_SECONDS", heartbeats.HEARTBEAT_SECONDS)
    app.register_blueprint(bp)
    metrics.init_app(app, multiprocess_dir)
    app.cli.add_command(status_command)
