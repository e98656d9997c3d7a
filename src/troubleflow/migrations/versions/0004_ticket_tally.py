"""ticket tally: counts per (status, severity, priority, ticket_type) for X-Total-Count

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_tally",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.String(length=100), nullable=True),
        sa.Column("ticket_type", sa.String(length=100), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_tally")),
    )
    # Backfill from the tickets already stored.
    op.execute(
        "INSERT INTO ticket_tally (status, severity, priority, ticket_type, n) "
        "SELECT status, severity, priority, ticket_type, count(*) FROM trouble_ticket "
        "GROUP BY status, severity, priority, ticket_type"
    )


def downgrade() -> None:
    op.drop_table("ticket_tally")
