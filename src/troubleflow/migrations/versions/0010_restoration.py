"""restoration: a report's restoration trail and the items a restoration opens (Correct & Recover
Customer Problem, 1.3.7.6)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from troubleflow.storage.tables import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "restoration_record",
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["trouble_ticket.id"],
            name=op.f("fk_restoration_record_ticket_id_trouble_ticket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "seq", name=op.f("pk_restoration_record")),
    )
    op.create_table(
        "restoration_item",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("target_process", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=12), nullable=True),
        sa.Column("product_id", sa.String(length=100), nullable=True),
        sa.Column("known_error_id", _ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restoration_item")),
    )
    op.create_index(op.f("ix_restoration_item_ticket_id_kind"), "restoration_item", ["ticket_id", "kind"])
    op.create_index(op.f("ix_restoration_item_kind_state"), "restoration_item", ["kind", "state"])


def downgrade() -> None:
    op.drop_table("restoration_item")
    op.drop_table("restoration_record")
