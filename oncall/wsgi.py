"""WSGI entry point of an installed service: `gunicorn 'oncall.wsgi:make_app()'` (a checkout's wsgi.py calls it too)."""
import gc

from flask import Flask


def make_app() -> Flask:
    """The application as a web server runs it: logging configured, the schema checked, the heap frozen."""
    from oncall import create_app, schema
    from oncall.operations import logs

    logs.configure()  # ONCALL_LOG_FORMAT=json for JSON lines; gunicorn's own access log is best left off
    app = create_app()
    # During a rolling upgrade, a web process of the old code must not serve a database the new code has migrated
    # (nor new code one not migrated yet): it refuses to start, and gunicorn's master with it.
    schema.require_head(app)
    # Everything built so far lives as long as the process: keep the collector from walking it again and
    # again (the pauses showed up as p99 spikes in bench/), and share it copy-on-write across forked workers.
    gc.freeze()
    return app
