"""The database schema's version: the Alembic migrations shipped inside the package, applying them, and the
check that a process's code and its database agree on the head revision (rolling upgrades)."""
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import Connection

from oncall.db import get_read_engine

# Inside the package (in a checkout, oncall/migrations links to the top-level migrations/), so an installed
# wheel finds them from any working directory.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaMismatch(RuntimeError):
    """This process's code expects another schema revision than the database has."""


def alembic_config() -> AlembicConfig:
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def code_head() -> str:
    """The newest revision this code's migrations know (one linear history, so one head)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def database_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    # Alembic announces its dialect at INFO each time; this read runs at every start and every check.
    quiet = logging.getLogger("alembic.runtime.migration")
    level = quiet.level
    quiet.setLevel(max(level, logging.WARNING))
    try:
        return MigrationContext.configure(connection).get_current_revision()
    finally:
        quiet.setLevel(level)


def upgrade(revision: str = "head") -> None:
    """Apply migrations to the current app's database (migrations/env.py reads the engine from the app)."""
    command.upgrade(alembic_config(), revision)


def downgrade(revision: str) -> None:
    command.downgrade(alembic_config(), revision)


def require_head(app: Flask | None = None) -> None:
    """Refuse to run against a database whose schema is not the one this code was written for. During a rolling
    upgrade the new code migrates the database; an old worker started (or restarted) after that would read and
    write tables it does not understand, so it stops here instead, and the reverse holds for new code on a
    database not migrated yet."""
    expected = code_head()
    with get_read_engine(app or current_app).connect() as connection:  # reads only: no write lock on SQLite
        found = database_revision(connection)
    if found == expected:
        return
    if found is None:
        raise SchemaMismatch(f"the database has no schema yet (this code expects revision {expected}); "
                             "run `oncall db upgrade` first")
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if found in known:
        raise SchemaMismatch(f"the database is at revision {found} but this code expects {expected}; "
                             "run `oncall db upgrade` (with the new code) before starting it")
    raise SchemaMismatch(f"the database is at revision {found}, newer than this code knows (it expects "
                         f"{expected}); upgrade this process's code to the version that migrated the database")
