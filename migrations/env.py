"""Alembic environment: targets oncall.db.Base.metadata, on the engine of the Flask app in context
(oncall/schema.py runs it; `oncall db upgrade` from the command line)."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _metadata():
    # Importing the models registers every table on Base.metadata.
    import oncall.models  # noqa: F401
    from oncall.db import Base

    return Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=current_app.config["DATABASE_URL"], target_metadata=_metadata(), literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    from oncall.db import get_engine

    with get_engine().connect() as connection:
        # Batch mode: SQLite alters a table by copying it, which plain ALTER cannot do there.
        context.configure(connection=connection, target_metadata=_metadata(), render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
