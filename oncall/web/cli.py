"""`oncall user set-password`: give a person a password for the web interface."""
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from oncall.db import get_sessionmaker
from oncall.errors import Invalid
from oncall.people.models import User
from oncall.web.signin import set_password


@click.group("user")
def user_group():
    """People's web sign-in."""


@user_group.command("set-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@with_appcontext
def set_password_command(email: str, password_stdin: bool):
    """Set the web sign-in password of an existing user (prompted for, not echoed)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_sessionmaker().begin() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None:
            raise click.BadParameter(f"no user with email {email}", param_hint="--email")
        try:
            set_password(session, user=user, password=password)
        except Invalid as exc:
            raise click.BadParameter(str(exc), param_hint="password") from exc
    click.echo(f"Password set for {user.email}.")
