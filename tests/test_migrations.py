"""The Alembic migrations build exactly the schema that `storage/tables.py` declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from troubleflow.storage.db import Database
from troubleflow.storage.tables import include_name, metadata


def test_migrated_database_matches_the_declared_tables(db: Database) -> None:
    with db.engine.connect() as conn:
        differences = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False, "include_name": include_name}),
            metadata,
        )

    assert differences == []
