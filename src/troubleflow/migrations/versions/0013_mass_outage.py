"""mass outages: causes, their affected children, chunked outage jobs, customer notifications

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from troubleflow.storage.tables import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "mass_outage",
        sa.Column("cause_id", sa.String(length=200), nullable=False),
        sa.Column("cause_href", sa.String(length=2000), nullable=True),
        sa.Column("cause_name", sa.String(length=500), nullable=True),
        sa.Column("cause_type", sa.String(length=100), nullable=False),
        sa.Column("master_id", sa.String(length=40), nullable=False),
        sa.Column("services", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("declared_at", UtcDateTime(), nullable=False),
        sa.Column("restored_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("cause_id", name=op.f("pk_mass_outage")),
    )
    op.create_index(op.f("ix_mass_outage_master_id"), "mass_outage", ["master_id"])
    op.create_table(
        "mass_outage_child",
        sa.Column("cause_id", sa.String(length=200), nullable=False),
        sa.Column("service_id", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=True),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("linked_at", UtcDateTime(), nullable=False),
        sa.Column("cleared_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("cause_id", "service_id", name=op.f("pk_mass_outage_child")),
    )
    op.create_index(op.f("ix_mass_outage_child_ticket_id"), "mass_outage_child", ["ticket_id"])
    op.create_index(op.f("ix_mass_outage_child_cause_id_state"), "mass_outage_child", ["cause_id", "state"])
    op.create_table(
        "outage_job",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("master_id", sa.String(length=40), nullable=False),
        sa.Column("cause_id", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("cursor", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outage_job")),
    )
    op.create_index(op.f("ix_outage_job_state_id"), "outage_job", ["state", "id"])
    op.create_table(
        "customer_notification",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("cause_id", sa.String(length=200), nullable=True),
        sa.Column("customer_id", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("leased_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_notification")),
    )
    op.create_index(
        op.f("ix_customer_notification_ticket_id_kind_ref"),
        "customer_notification",
        ["ticket_id", "kind", "ref"],
        unique=True,
    )
    op.create_index(
        op.f("ix_customer_notification_cause_id_kind"), "customer_notification", ["cause_id", "kind"]
    )
    op.create_index(
        op.f("ix_customer_notification_state_next_attempt_at"),
        "customer_notification",
        ["state", "next_attempt_at"],
    )
    op.create_index("ix_inventory_service_specification_id", "inventory_service", ["specification", "id"])


def downgrade() -> None:
    op.drop_index("ix_inventory_service_specification_id", table_name="inventory_service")
    op.drop_table("customer_notification")
    op.drop_table("outage_job")
    op.drop_table("mass_outage_child")
    op.drop_table("mass_outage")
