"""Alembic environment: the URL and connection come from `storage/migrate.py`, never the environment."""

from __future__ import annotations

from alembic import context

from troubleflow.storage.tables import include_name, metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through troubleflow.storage.migrate.upgrade()")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
