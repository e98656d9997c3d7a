"""external service problem managers: the remote TMF656 problem each mirror stands for

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from troubleflow.storage.tables import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_service_problem",
        sa.Column("problem_id", sa.String(length=40), nullable=False),
        sa.Column("domain_id", sa.String(length=100), nullable=False),
        sa.Column("endpoint", sa.String(length=2000), nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=True),
        sa.Column("remote_id", sa.String(length=200), nullable=True),
        sa.Column("remote_href", sa.String(length=2000), nullable=True),
        sa.Column("remote_status", sa.String(length=20), nullable=True),
        sa.Column("hub_id", sa.String(length=200), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("last_heard_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("problem_id", name=op.f("pk_external_service_problem")),
    )
    op.create_index(
        op.f("ix_external_service_problem_domain_id_remote_id"),
        "external_service_problem",
        ["domain_id", "remote_id"],
    )


def downgrade() -> None:
    op.drop_table("external_service_problem")
