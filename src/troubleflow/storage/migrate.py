"""Schema migrations: `upgrade(db)` brings any database to the newest Alembic revision."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from troubleflow.storage.db import Database


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "troubleflow:migrations")
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    with db.engine.begin() as conn:
        command.upgrade(_config(conn), revision)


def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def make_revision(db: Database, message: str) -> None:
    """Developer helper: autogenerate a revision from `tables.metadata` (review it before committing)."""
    with db.engine.begin() as conn:
        command.revision(_config(conn), message=message, autogenerate=True)
