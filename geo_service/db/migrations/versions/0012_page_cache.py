"""Rendered public pages and tiles shared by every worker process, keyed by data version.

UNLOGGED: a cache, rebuilt on demand — no WAL to write, emptied by PostgreSQL after a crash.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_cache",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("data_version", sa.String(length=60), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("kind", "key", "data_version", name=op.f("pk_page_cache")),
        prefixes=["UNLOGGED"],
    )
    op.create_index(op.f("ix_page_cache_data_version"), "page_cache", ["data_version"])


def downgrade() -> None:
    op.drop_index(op.f("ix_page_cache_data_version"), table_name="page_cache")
    op.drop_table("page_cache")
