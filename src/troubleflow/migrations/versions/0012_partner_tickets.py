"""partner tickets and the B2B hand-off outbox; the partner's TMF621 endpoint in the inventory

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from troubleflow.storage.tables import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("inventory_partner") as batch:
        batch.add_column(sa.Column("endpoint", sa.String(length=2000), nullable=True))
    op.create_table(
        "handoff",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("ticket_id", sa.String(length=40), nullable=True),
        sa.Column("record_id", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("leased_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff")),
    )
    op.create_index(op.f("ix_handoff_state_next_attempt_at"), "handoff", ["state", "next_attempt_at"])
    op.create_index(op.f("ix_handoff_ticket_id"), "handoff", ["ticket_id"])
    op.create_table(
        "partner_ticket",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("partner_id", sa.String(length=100), nullable=False),
        sa.Column("endpoint", sa.String(length=2000), nullable=False),
        sa.Column("partner_ticket_id", sa.String(length=200), nullable=True),
        sa.Column("partner_href", sa.String(length=2000), nullable=True),
        sa.Column("partner_status", sa.String(length=20), nullable=True),
        sa.Column("hub_id", sa.String(length=200), nullable=True),
        sa.Column("commitment", UtcDateTime(), nullable=True),
        sa.Column("expected_resolution", UtcDateTime(), nullable=True),
        sa.Column("last_heard_at", UtcDateTime(), nullable=True),
        sa.Column("silence_escalated_at", UtcDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_ticket")),
    )
    op.create_index(
        op.f("ix_partner_ticket_ticket_id_partner_id"),
        "partner_ticket",
        ["ticket_id", "partner_id"],
        unique=True,
    )
    op.create_index(
        op.f("ix_partner_ticket_partner_id_partner_ticket_id"),
        "partner_ticket",
        ["partner_id", "partner_ticket_id"],
    )


def downgrade() -> None:
    op.drop_table("partner_ticket")
    op.drop_table("handoff")
    with op.batch_alter_table("inventory_partner") as batch:
        batch.drop_column("endpoint")
