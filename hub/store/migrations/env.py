"""Alembic environment: runs against the connection the hub hands over (``hub.store.migrate``)."""

from __future__ import annotations

from alembic import context

from hub.settings import resolve_database_url
from hub.store._engine import make_engine
from hub.store._tables import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # Run by hand (``alembic upgrade head``): the store every other entry point opens.
        engine = make_engine(resolve_database_url(config.get_main_option("sqlalchemy.url")))
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
