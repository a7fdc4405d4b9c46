"""Operator expensive list (prises onéreuses) and unique open-period indexes on histories.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:00:13.004139
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operator_expensive",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("list_date", sa.Date(), nullable=False),
        sa.Column("identifiant_immeuble", sa.String(length=80), nullable=False),
        sa.Column("insee", sa.String(length=5), nullable=True),
        sa.Column("logements", sa.Integer(), nullable=False),
        sa.Column("motif", sa.String(length=200), nullable=True),
        sa.Column("cout_estime", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_operator_expensive_import_id_import_journal"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_expensive")),
    )
    op.create_index(
        op.f("ix_operator_expensive_identifiant_immeuble"),
        "operator_expensive",
        ["identifiant_immeuble"],
        unique=False,
    )
    op.create_index(
        "ix_operator_expensive_list",
        "operator_expensive",
        ["list_date", "identifiant_immeuble"],
        unique=True,
    )
    op.create_index(
        "ix_pm_history_open",
        "pm_history",
        ["pm_reference"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(
        "ix_premise_history_open",
        "premise_history",
        ["premise_id"],
        unique=True,
        postgresql_where=sa.text("valid_to IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_premise_history_open",
        table_name="premise_history",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_index(
        "ix_pm_history_open", table_name="pm_history", postgresql_where=sa.text("valid_to IS NULL")
    )
    op.drop_index("ix_operator_expensive_list", table_name="operator_expensive")
    op.drop_index(
        op.f("ix_operator_expensive_identifiant_immeuble"), table_name="operator_expensive"
    )
    op.drop_table("operator_expensive")
