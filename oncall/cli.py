"""The `oncall` console script: a Flask CLI group with run, worker, db, demo and token commands."""
import os

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from oncall import create_app
from oncall.clock import utcnow
from oncall.db import get_sessionmaker


def _create_app():
    from oncall.instance import ConfigurationError
    from oncall.operations import logs

    try:
        logs.configure()  # before the app exists, so that nothing logs in another format meanwhile
        return create_app()
    except (ConfigurationError, ValueError) as exc:  # a sentence naming the setting, not a traceback
        raise click.ClickException(str(exc)) from exc


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """oncall: on-call scheduling, paging and handoffs."""


def _upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade()


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Apply migrations, load demo data and run the worker in-process.")
@with_appcontext
def run_command(host: str, port: int, demo: bool):
    """Serve the web application and API."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    if "ONCALL_PUBLIC_URL" not in os.environ:
        # Links in pages and feeds should point at this server when nobody said otherwise.
        app.config["PUBLIC_URL"] = f"http://{host}:{port}"
    if demo:
        _upgrade_database()
        from oncall.demo import load_demo
        from oncall.people.service import ensure_user
        from oncall.people.tokens import create_api_token

        with get_sessionmaker().begin() as session:
            created = load_demo(session, now=utcnow())
            admin = ensure_user(session, email="alice@example.com", admin=True)
            token = create_api_token(session, user=admin, name="demo")
        click.echo("Demo data " + ("loaded." if created else "already present."))
        click.echo(f"API token for alice@example.com (admin): {token}")
        click.echo(f"Try: curl -H 'Authorization: Bearer {token}' http://{host}:{port}/api/v1/teams/1/oncall")
        from oncall.web.demo import DEMO_PASSWORD

        click.echo(f"Web: http://{host}:{port}/ (sign in as alice@example.com, password {DEMO_PASSWORD}; "
                   "every demo person has it)")
        app.config["RUN_WORKER_IN_WEB"] = True
    if app.config.get("RUN_WORKER_IN_WEB"):
        from oncall import worker

        worker.start_in_web(app)
    from oncall.operations.logs import DevServerRequestHandler

    run_simple(host, port, app, threaded=True, use_reloader=False, request_handler=DevServerRequestHandler)


@main.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, then exit (instead of running until SIGTERM).")
@with_appcontext
def worker_command(once: bool):
    """Run the escalation engine and notification dispatch (any number of these may run on PostgreSQL)."""
    from oncall import worker

    app = current_app._get_current_object()
    if once:
        fired, handled = worker.Worker(app).run_once()
        click.echo(f"escalated {fired} incident(s), handled {handled} notification(s)")
        return
    worker.run_forever(app)


@main.command("demo")
@with_appcontext
def demo_command():
    """Load demo data (teams, rotations, overrides, time off) unless present."""
    from oncall.demo import load_demo

    from oncall.web.demo import DEMO_PASSWORD

    with get_sessionmaker().begin() as session:
        created = load_demo(session, now=utcnow())
    click.echo("Demo data loaded." if created else "Demo data already present.")
    click.echo(f"Demo people (e.g. alice@example.com) sign in with the password {DEMO_PASSWORD}.")


@main.group("token")
def token_group():
    """API tokens."""


@token_group.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None, help="The user's name, when the user is created.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@with_appcontext
def token_create(email: str, name: str | None, admin: bool):
    """Create the user if needed and print a new API token (shown once) as the last line."""
    from marshmallow import ValidationError, fields

    from oncall.people.service import ensure_user
    from oncall.people.tokens import create_api_token

    try:
        fields.Email().deserialize(email)
    except ValidationError as exc:
        raise click.BadParameter("not a valid email address", param_hint="--email") from exc
    with get_sessionmaker().begin() as session:
        _require_migrated(session)
        user = ensure_user(session, email=email, name=name, admin=admin)
        token = create_api_token(session, user=user, name="cli")
        click.echo(f"Token for {user.email} (user {user.id}{', admin' if user.is_admin else ''}); it is not shown again:")
    click.echo(token)


def _require_migrated(session) -> None:
    # A fresh machine's first command is often this one: say what to run instead of a missing-table traceback.
    from sqlalchemy import inspect

    if not inspect(session.connection()).has_table("api_tokens"):
        raise click.ClickException("the database has no tables yet; run `oncall db upgrade` first")
