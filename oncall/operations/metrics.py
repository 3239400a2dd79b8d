"""GET /metrics: Prometheus text exposition for the whole service, whichever web process answers.

Two sources, so that the answer covers every process:
- what lives in the database (the outbox, escalations, notifications' outcomes, worker heartbeats) is read at
  scrape time, with ages on the database's clock: it covers every worker process on every host;
- what each web process measures itself (request durations) goes through prometheus_client's multiprocess
  mode, which sums the files every process of this server writes under PROMETHEUS_MULTIPROC_DIR
  (see multiproc.py for how that directory is chosen).
"""
import hmac
from time import perf_counter

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Histogram, disable_created_metrics, multiprocess
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from oncall.operations import health
from oncall.paging.models import CANCELLED, CHANNELS, FAILED, SENT, Notification

# `_created` series exist only outside multiprocess mode; keep one shape of exposition in both modes.
disable_created_metrics()
# This process's own metrics when no multiprocess directory is in use (one process serves everything).
PROCESS = CollectorRegistry(auto_describe=True)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
REQUEST_SECONDS = Histogram(
    "oncall_http_request_duration_seconds", "Time to answer an HTTP request, by route template (never the raw "
    "path, which may hold a secret), method and status.", ["method", "route", "status"], registry=PROCESS)
OUTCOMES = (SENT, FAILED, CANCELLED)  # notifications' final states: counts only ever grow


class DatabaseCollector:
    """Reads the service's state at scrape time. A database that does not answer yields only
    oncall_database_up 0 (alert on that; the other series go absent rather than lie)."""

    def __init__(self, read_sessions: sessionmaker, *, worker_seconds: float) -> None:
        self.read_sessions, self.worker_seconds = read_sessions, worker_seconds

    def collect(self):
        up = GaugeMetricFamily("oncall_database_up", "1 when the database answered this scrape, else 0.")
        try:
            with self.read_sessions() as session:
                facts = health.gather(session)
                outcomes = dict(((channel, state), count) for channel, state, count in session.execute(
                    select(Notification.channel, Notification.state, func.count())
                    .where(Notification.state.in_(OUTCOMES))
                    .group_by(Notification.channel, Notification.state)))
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        notifications = CounterMetricFamily(
            "oncall_notifications", "Pages (notifications) that reached a final state, by channel and state.",
            labels=["channel", "state"])
        for channel in CHANNELS:
            for state in OUTCOMES:
                notifications.add_metric([channel, state], outcomes.get((channel, state), 0))
        yield notifications
        yield GaugeMetricFamily("oncall_outbox_pending", "Notifications not sent yet (pending or in flight).",
                                value=facts.outbox_pending)
        yield GaugeMetricFamily(
            "oncall_outbox_oldest_pending_seconds", "How long the oldest due, unsent page has been due (0: none).",
            value=health.age_seconds(facts.now, facts.oldest_due_page_at))
        yield GaugeMetricFamily(
            "oncall_escalation_lag_seconds", "How long the oldest due escalation step has waited to fire (0: none).",
            value=health.age_seconds(facts.now, facts.oldest_due_step_at))
        freshest = max((w.last_seen_at for w in facts.workers), default=None)
        yield GaugeMetricFamily(
            "oncall_worker_heartbeat_age_seconds", "Seconds since any worker process last stamped its heartbeat "
            "(+Inf: no worker on record).",
            value=float("inf") if freshest is None else health.age_seconds(facts.now, freshest))
        yield GaugeMetricFamily(
            "oncall_workers_alive", "Worker processes whose heartbeat is at most HEALTH_WORKER_SECONDS old.",
            value=sum(1 for w in facts.workers if health.age_seconds(facts.now, w.last_seen_at) <= self.worker_seconds))


class _ProcessCollector:
    """This process's own registry, when it is the only process (no multiprocess directory)."""

    def collect(self):
        yield from PROCESS.collect()


def exposition(app: Flask, accept: str | None) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    directory = app.extensions["oncall_metrics"]["multiprocess_dir"]
    if directory:
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ProcessCollector())
    registry.register(DatabaseCollector(app.extensions["oncall_db"]["read_sessions"],
                                        worker_seconds=float(app.config["HEALTH_WORKER_SECONDS"])))
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def authorized() -> bool:
    """ONCALL_METRICS_TOKEN, when set, is required as a bearer token (Prometheus' `authorization` setting)."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), str(expected).encode())


def metrics_view():
    if not authorized():
        return Response("metrics need 'Authorization: Bearer <ONCALL_METRICS_TOKEN>'\n", status=401,
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'}, content_type="text/plain")
    body, content_type = exposition(current_app, request.headers.get("Accept"))
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def _start_timer() -> None:
    g.oncall_request_started = perf_counter()


def _observe(response: Response) -> Response:
    started = g.get("oncall_request_started")
    if started is not None:
        rule = request.url_rule
        method = request.method if request.method in METHODS else "other"  # methods are client-chosen text
        REQUEST_SECONDS.labels(method, rule.rule if rule is not None else "unmatched",
                               str(response.status_code)).observe(perf_counter() - started)
    return response


def init_app(app: Flask, multiprocess_dir: str | None) -> None:
    app.extensions["oncall_metrics"] = {"multiprocess_dir": multiprocess_dir}
    # First of all before_request hooks, so that time in authentication and CSRF checks counts, and requests
    # they refuse are observed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
