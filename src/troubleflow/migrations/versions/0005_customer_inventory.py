"""customer inventory (partners, customers, products, services) and major-outage scope/children

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import troubleflow.storage.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_partner",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("restoration_time", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_partner")),
    )
    op.create_table(
        "inventory_customer",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=True),
        sa.Column("sla_class", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_customer")),
    )
    op.create_table(
        "inventory_product",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("offering", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("partner_id", sa.String(length=100), nullable=True),
        sa.Column("sla_class", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["inventory_customer.id"],
            name=op.f("fk_inventory_product_customer_id_inventory_customer"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["inventory_partner.id"],
            name=op.f("fk_inventory_product_partner_id_inventory_partner"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_product")),
    )
    op.create_index(
        op.f("ix_inventory_product_customer_id"), "inventory_product", ["customer_id"], unique=False
    )
    op.create_table(
        "inventory_service",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("product_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("specification", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_service_product_id_inventory_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_service")),
    )
    op.create_index(
        op.f("ix_inventory_service_product_id"), "inventory_service", ["product_id"], unique=False
    )
    op.create_table(
        "outage_scope",
        sa.Column("master_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("master_id", "kind", "entity_id", name=op.f("pk_outage_scope")),
    )
    op.create_index(
        op.f("ix_outage_scope_kind_entity_id_master_id"),
        "outage_scope",
        ["kind", "entity_id", "master_id"],
        unique=False,
    )
    op.create_table(
        "outage_child",
        sa.Column("master_id", sa.String(length=40), nullable=False),
        sa.Column("child_id", sa.String(length=40), nullable=False),
        sa.Column("linked_at", troubleflow.storage.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("master_id", "child_id", name=op.f("pk_outage_child")),
    )


def downgrade() -> None:
    op.drop_table("outage_child")
    op.drop_index(op.f("ix_outage_scope_kind_entity_id_master_id"), table_name="outage_scope")
    op.drop_table("outage_scope")
    op.drop_index(op.f("ix_inventory_service_product_id"), table_name="inventory_service")
    op.drop_table("inventory_service")
    op.drop_index(op.f("ix_inventory_product_customer_id"), table_name="inventory_product")
    op.drop_table("inventory_product")
    op.drop_table("inventory_customer")
    op.drop_table("inventory_partner")
