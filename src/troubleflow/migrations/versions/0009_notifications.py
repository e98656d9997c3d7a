"""escalations and notifications: the steps taken per report and one notification per list recipient

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from troubleflow.storage.tables import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "escalation",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=100), nullable=True),
        sa.Column("workgroup", sa.String(length=100), nullable=True),
        sa.Column("list_id", sa.String(length=100), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation")),
    )
    op.create_index(op.f("ix_escalation_ticket_id_level"), "escalation", ["ticket_id", "level"], unique=True)
    op.create_index(op.f("ix_escalation_level_ticket_id"), "escalation", ["level", "ticket_id"])
    op.create_table(
        "notification",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("escalation_id", _ID, nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("leased_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalation.id"],
            name=op.f("fk_notification_escalation_id_escalation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index(
        op.f("ix_notification_ticket_id_level_channel_address"),
        "notification",
        ["ticket_id", "level", "channel", "address"],
        unique=True,
    )
    op.create_index(
        op.f("ix_notification_state_next_attempt_at"), "notification", ["state", "next_attempt_at"]
    )
    op.create_index(op.f("ix_notification_escalation_id"), "notification", ["escalation_id"])


def downgrade() -> None:
    op.drop_table("notification")
    op.drop_table("escalation")
