"""Alembic environment: targets oncall.db.Base.metadata through Flask-Migrate."""
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
    engine = current_app.extensions["migrate"].db.engine
    conf_args = current_app.extensions["migrate"].configure_args
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=_metadata(), **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
