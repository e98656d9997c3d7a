"""workgroup load: open tasks per workgroup as signed deltas (what task assignment compares)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workgroup_load",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("workgroup", sa.String(length=100), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workgroup_load")),
    )
    op.create_index(op.f("ix_workgroup_load_workgroup"), "workgroup_load", ["workgroup"])
    # Backfill from the open tasks already stored.
    op.execute(
        "INSERT INTO workgroup_load (workgroup, n) SELECT workgroup, count(*) FROM task "
        "WHERE workgroup IS NOT NULL AND state IN ('waiting', 'ready', 'inProgress') GROUP BY workgroup"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_workgroup_load_workgroup"), table_name="workgroup_load")
    op.drop_table("workgroup_load")
