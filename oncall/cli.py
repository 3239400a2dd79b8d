"""The `oncall` console script: a Flask CLI group with run, worker, db, check, demo and token commands."""
import os
import re

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from oncall import create_app
from oncall.clock import isoformat_z, utcnow
from oncall.db import get_sessionmaker


def _create_app():
    from oncall.instance import ConfigurationError
    from oncall.operations import logs

    try:
        logs.configure()  # before the app exists, so that nothing logs in another format meanwhile
        return create_app()
    except (ConfigurationError, ValueError) as exc:  # a sentence naming the setting, not a traceback
        raise click.ClickException(str(exc)) from exc


class OncallGroup(FlaskGroup):
    """Flask's CLI group without its plugin commands: an extension left in a virtualenv (Flask-Migrate's own
    `db`, from an older install) must not replace this program's commands."""

    def _load_plugin_commands(self) -> None:
        self._loaded_plugin_commands = True


@click.group(cls=OncallGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """oncall: on-call scheduling, paging and handoffs."""


def _upgrade_database() -> None:
    from oncall import schema

    schema.upgrade()


def _require_schema_head() -> None:
    """A process whose code expects another schema than the database's must not start (rolling upgrades)."""
    from oncall import schema

    try:
        schema.require_head()
    except schema.SchemaMismatch as exc:
        raise click.ClickException(f"not starting: {exc}") from exc


@main.group("db")
def db_group():
    """The database schema: the Alembic migrations shipped in the package."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str):
    """Apply migrations up to REVISION (default: the newest)."""
    from oncall import schema

    schema.upgrade(revision)


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str):
    """Undo migrations down to REVISION (e.g. 0017, or -1)."""
    from oncall import schema

    schema.downgrade(revision)


@db_group.command("current")
@with_appcontext
def db_current():
    """The database's revision and the one this code expects."""
    from oncall import schema
    from oncall.db import get_engine

    with get_engine().connect() as connection:
        revision = schema.database_revision(connection)
    click.echo(f"database: {revision or 'no schema'}")
    click.echo(f"code:     {schema.code_head()}")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does (names its file).")
@click.option("--autogenerate", is_flag=True, help="Draft it from the difference between the models and the database.")
@with_appcontext
def db_revision(message: str, autogenerate: bool):
    """Write a new migration file in migrations/versions (for developers, in a checkout)."""
    from alembic import command

    from oncall import schema

    command.revision(schema.alembic_config(), message=message, autogenerate=autogenerate)


@main.command("check", with_appcontext=False)  # it reports what create_app would refuse
def check_command():
    """What is set and what is missing: settings, database, migrations, Twilio. Exits 1 if anything is."""
    import flask

    from oncall import create_app
    from oncall.config import Config
    from oncall.db import get_engine, make_engine
    from oncall.instance import ConfigurationError
    from oncall.operations import readiness

    # The settings as create_app layers them, read even when it would refuse them.
    config = flask.Config(os.getcwd())
    config.from_object(Config)
    config.from_prefixed_env("ONCALL")
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        config[name] = os.environ.get(name, config.get(name))
    findings = readiness.settings(config)
    try:
        app = create_app()
    except (ConfigurationError, ValueError) as exc:
        findings.append(readiness.Finding(readiness.BAD, "startup", str(exc)))
        engine = make_engine(config["DATABASE_URL"]) if config.get("DATABASE_URL") else None
    else:
        engine = get_engine(app)
    if engine is not None:
        findings += readiness.database(engine)
        engine.dispose()
    click.echo(readiness.render(findings))
    problems = sum(1 for finding in findings if finding.problem)
    click.echo(f"{problems} problem(s)" if problems else "ready")
    raise SystemExit(1 if problems else 0)


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
    if not demo:
        _require_schema_head()
    else:
        _upgrade_database()
        from oncall.demo import demo_api_token, load_demo

        with get_sessionmaker().begin() as session:
            created = load_demo(session, now=utcnow())
            token, kept_in = demo_api_token(session, instance_path=app.instance_path, now=utcnow())
        click.echo("Demo data " + ("loaded." if created else "already present."))
        click.echo(f"API token for alice@example.com (admin), kept in {kept_in}: {token}")
        click.echo(f"Try: curl -H 'Authorization: Bearer {token}' http://{host}:{port}/api/v1/teams/1/oncall")
        from oncall.web.demo import sign_in_lines

        for line in sign_in_lines(f"http://{host}:{port}"):
            click.echo(line)
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
    _require_schema_head()
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
    """API tokens: create, list, revoke."""


_DURATION = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _expiry(expires_in: str | None, expires_at: str | None, now):
    """--expires-in 90d / 12h / 30m / 2w, or --expires-at an RFC 3339 instant with its offset."""
    from datetime import timedelta

    from marshmallow import ValidationError

    from oncall.schedules.schemas import UTCDateTime

    if expires_in and expires_at:
        raise click.UsageError("give --expires-in or --expires-at, not both")
    if expires_in:
        match = _DURATION.match(expires_in.strip())
        if not match or int(match.group(1)) == 0:
            raise click.BadParameter("a positive number and a unit: 30m, 12h, 90d or 2w", param_hint="--expires-in")
        return (now + timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})).replace(microsecond=0)
    if expires_at:
        try:
            at = UTCDateTime().deserialize(expires_at)
        except ValidationError as exc:
            raise click.BadParameter("an RFC 3339 instant with its offset, e.g. 2027-01-31T00:00:00Z",
                                     param_hint="--expires-at") from exc
        if at <= now:
            raise click.BadParameter("must be in the future", param_hint="--expires-at")
        return at
    return None


def _load_one(schema, field: str, value: str, hint: str):
    from marshmallow import ValidationError

    try:
        return schema.load({field: value})[field]
    except ValidationError as exc:
        raise click.BadParameter(" ".join(exc.messages[field]), param_hint=hint) from exc


@token_group.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None, help="The user's name, when the user is created.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--token-name", default="cli", show_default=True, help="What the token is for (shown by `token list`).")
@click.option("--expires-in", default=None, help="Lifetime: 30m, 12h, 90d or 2w (default: never expires).")
@click.option("--expires-at", default=None, help="Expiry as an RFC 3339 instant, e.g. 2027-01-31T00:00:00Z.")
@with_appcontext
def token_create(email: str, name: str | None, admin: bool, token_name: str, expires_in: str | None,
                 expires_at: str | None):
    """Create the user if needed and print a new API token (shown once) as the last line."""
    from marshmallow import ValidationError, fields

    from oncall.people.schemas import NewApiTokenSchema, UserUpdateSchema
    from oncall.people.service import ensure_user
    from oncall.people.tokens import issue_token

    try:
        fields.Email().deserialize(email)
    except ValidationError as exc:
        raise click.BadParameter("not a valid email address", param_hint="--email") from exc
    # The API's own fields, so a name no API call could store cannot come in this way either.
    if name is not None:
        name = _load_one(UserUpdateSchema(), "name", name, "--name")
    token_name = _load_one(NewApiTokenSchema(), "name", token_name, "--token-name")
    now = utcnow()
    expiry = _expiry(expires_in, expires_at, now)
    with get_sessionmaker().begin() as session:
        _require_migrated(session)
        user = ensure_user(session, email=email, name=name, admin=admin)
        record, token = issue_token(session, user=user, name=token_name, expires_at=expiry, now=now)
        until = f", expires {isoformat_z(expiry)}" if expiry else ""
        click.echo(f"Token {record.id} for {user.email} (user {user.id}{', admin' if user.is_admin else ''}{until}); "
                   "it is not shown again:")
    click.echo(token)


@token_group.command("list")
@click.option("--email", default=None, help="Only this person's tokens.")
@with_appcontext
def token_list(email: str | None):
    """Every API token (never the token itself): id, owner, name, created, last used, expiry."""
    from oncall.people.models import User
    from oncall.people.tokens import list_tokens

    now = utcnow()
    with get_sessionmaker().begin() as session:
        _require_migrated(session)
        user_id = _user_id(session, email) if email else None
        rows = [(t, session.get(User, t.user_id).email) for t in list_tokens(session, user_id=user_id)]
    if not rows:
        click.echo("No API tokens." if email is None else f"No API tokens for {email}.")
        return
    click.echo(f"{'ID':>6}  {'USER':<30}  {'NAME':<20}  {'CREATED':<20}  {'LAST USED':<20}  EXPIRES")
    for token, owner in rows:
        expires = "never" if token.expires_at is None else isoformat_z(token.expires_at)
        if token.expires_at is not None and token.expires_at <= now:
            expires += " (expired)"
        click.echo(f"{token.id:>6}  {owner:<30}  {(token.name or '')[:20]:<20}  {_minute(token.created_at):<20}  "
                   f"{_minute(token.last_used_at) if token.last_used_at else 'never':<20}  {expires}")


@token_group.command("revoke")
@click.argument("token_ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--email", default=None, help="Revoke every token of this person.")
@with_appcontext
def token_revoke(token_ids: tuple[int, ...], email: str | None):
    """Revoke tokens by id (see `oncall token list`), or all of one person's with --email."""
    from oncall.errors import NotFound
    from oncall.people.tokens import get_token, list_tokens, revoke

    if bool(token_ids) == bool(email):
        raise click.UsageError("give token ids or --email (not both)")
    with get_sessionmaker().begin() as session:
        _require_migrated(session)
        if email:
            targets = list_tokens(session, user_id=_user_id(session, email))
        else:
            try:
                targets = [get_token(session, token_id) for token_id in dict.fromkeys(token_ids)]
            except NotFound as exc:
                raise click.ClickException(f"{exc}; nothing was revoked") from exc
        for token in targets:
            revoke(session, token)
    click.echo(f"Revoked {len(targets)} token(s)" + (f": {', '.join(str(t.id) for t in targets)}." if targets else "."))


def _user_id(session, email: str) -> int:
    from sqlalchemy import func, select

    from oncall.people.models import User

    user_id = session.scalar(select(User.id).where(func.lower(User.email) == email.strip().lower()))
    if user_id is None:
        raise click.BadParameter(f"no user with email {email}", param_hint="--email")
    return user_id


def _minute(at) -> str:
    return at.strftime("%Y-%m-%d %H:%M") + "Z"


def _require_migrated(session) -> None:
    # A fresh machine's first command is often this one: say what to run instead of a missing-table traceback.
    from sqlalchemy import inspect

    if not inspect(session.connection()).has_table("api_tokens"):
        raise click.ClickException("the database has no tables yet; run `oncall db upgrade` first")
