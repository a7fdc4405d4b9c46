"""The state cube indexed by commune and date: a unit's series (an élu page) reads its own
communes' rows instead of every row of the territory at each date — at national scale 130 000
rows per date for one commune's page.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 00:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_state_cube_insee_as_of", "state_cube", ["insee", "as_of"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_state_cube_insee_as_of", table_name="state_cube")
