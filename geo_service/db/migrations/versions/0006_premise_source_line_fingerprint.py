"""Premise source line: a hash of the IPE line (and of its file's header) a premise was last
read from, and the PM columns of that line, so that an import parses and compares only the lines
that changed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("premise", sa.Column("etat_pm", sa.String(length=30), nullable=True))
    op.add_column("premise", sa.Column("date_installation_pm", sa.Date(), nullable=True))
    op.add_column("premise", sa.Column("source_hash", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("premise", "source_hash")
    op.drop_column("premise", "date_installation_pm")
    op.drop_column("premise", "etat_pm")
