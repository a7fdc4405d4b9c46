"""State cube per territory: each row names its territory, so that an IPE import refreshes the
cube of its own territory only (loading a second territory's history no longer recomputes the
first one's at every snapshot) and each territory's as-of figures read its own snapshot dates.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("state_cube", sa.Column("territory_code", sa.String(length=3), nullable=True))
    # the rows already there hold every territory's state at each date: each keeps its own
    op.execute(
        "UPDATE state_cube q SET territory_code = c.territory_code FROM commune c "
        "WHERE c.insee = q.insee"
    )
    op.execute("DELETE FROM state_cube WHERE territory_code IS NULL")
    op.alter_column("state_cube", "territory_code", nullable=False)
    op.drop_index("ix_state_cube_as_of", table_name="state_cube")
    op.create_index(
        "ix_state_cube_territory_as_of", "state_cube", ["territory_code", "as_of"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_state_cube_territory_as_of", table_name="state_cube")
    op.create_index("ix_state_cube_as_of", "state_cube", ["as_of"], unique=False)
    op.drop_column("state_cube", "territory_code")
