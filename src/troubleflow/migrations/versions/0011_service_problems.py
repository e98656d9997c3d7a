"""service problems (TMF656): problems, their links to reports, group/ungroup tasks; outbox and hub
subscriptions name the API whose resource an event concerns

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from troubleflow.storage.tables import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("outbox", "hub_subscription"):
        op.add_column(
            table, sa.Column("api", sa.String(length=40), nullable=False, server_default="troubleTicket")
        )
    op.create_table(
        "service_problem",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("creation_date", UtcDateTime(), nullable=False),
        sa.Column("last_update", UtcDateTime(), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_problem")),
    )
    op.create_index(
        op.f("ix_service_problem_status_creation_date_id"),
        "service_problem",
        ["status", "creation_date", "id"],
    )
    op.create_table(
        "service_problem_ticket",
        sa.Column("problem_id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("problem_id", "ticket_id", name=op.f("pk_service_problem_ticket")),
    )
    op.create_index(
        op.f("ix_service_problem_ticket_ticket_id_problem_id"),
        "service_problem_ticket",
        ["ticket_id", "problem_id"],
    )
    op.create_table(
        "service_problem_task",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_problem_task")),
    )
    op.create_index(
        op.f("ix_service_problem_task_kind_created_at_id"),
        "service_problem_task",
        ["kind", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_table("service_problem_task")
    op.drop_table("service_problem_ticket")
    op.drop_table("service_problem")
    with op.batch_alter_table("hub_subscription") as batch:
        batch.drop_column("api")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("api")
