"""known errors: the known-error database with its full-text index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 16:00:00

The full-text objects are outside `tables.metadata` (see `tables.include_name`): on SQLite an FTS5
external-content table over `known_error` kept in step by triggers (so every write path, including a
plain DELETE, keeps the index right), on PostgreSQL a GIN index on the same `to_tsvector` expression
that `storage.known_errors` queries. Both stem English (Porter / Snowball).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from troubleflow.storage.tables import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = UtcDateTime(timezone=True)

# Keep in step with storage/known_errors.py (the query must name the indexed expression exactly).
PG_DOCUMENT = (
    "to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || coalesce(symptom, '') || ' ' "
    "|| coalesce(product, ''))"
)
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE known_error_fts USING fts5(title, symptom, product, content='known_error', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 0')",
    "CREATE TRIGGER known_error_fts_ai AFTER INSERT ON known_error BEGIN "
    "INSERT INTO known_error_fts(rowid, title, symptom, product) "
    "VALUES (new.id, new.title, new.symptom, new.product); END",
    "CREATE TRIGGER known_error_fts_ad AFTER DELETE ON known_error BEGIN "
    "INSERT INTO known_error_fts(known_error_fts, rowid, title, symptom, product) "
    "VALUES ('delete', old.id, old.title, old.symptom, old.product); END",
    "CREATE TRIGGER known_error_fts_au AFTER UPDATE OF title, symptom, product ON known_error BEGIN "
    "INSERT INTO known_error_fts(known_error_fts, rowid, title, symptom, product) "
    "VALUES ('delete', old.id, old.title, old.symptom, old.product); "
    "INSERT INTO known_error_fts(rowid, title, symptom, product) "
    "VALUES (new.id, new.title, new.symptom, new.product); END",
]


def upgrade() -> None:
    op.create_table(
        "known_error",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("symptom", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("product", sa.String(length=200), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("workaround", sa.Text(), nullable=False),
        sa.Column("permanent_fix_status", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("change_request", sa.String(length=200), nullable=True),
        sa.Column("source_ticket_id", sa.String(length=40), nullable=True),
        sa.Column("created", _UTC, nullable=False),
        sa.Column("updated", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_error")),
    )
    op.create_index(
        op.f("ix_known_error_source_ticket_id"), "known_error", ["source_ticket_id"], unique=False
    )
    op.create_index(
        op.f("ix_known_error_status_category_id"), "known_error", ["status", "category", "id"], unique=False
    )
    op.create_table(
        "known_error_hit",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("known_error_id", _ID, nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_error_hit")),
    )
    op.create_index(
        op.f("ix_known_error_hit_known_error_id"), "known_error_hit", ["known_error_id"], unique=False
    )
    op.create_index(op.f("ix_known_error_hit_ticket_id"), "known_error_hit", ["ticket_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_known_error_search ON known_error USING gin ({PG_DOCUMENT})")
    else:
        for statement in SQLITE_FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS known_error_fts")  # its triggers go with known_error
    op.drop_table("known_error_hit")
    op.drop_table("known_error")
