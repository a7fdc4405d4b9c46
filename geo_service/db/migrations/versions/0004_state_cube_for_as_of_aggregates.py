"""State cube: as-of aggregates of logements by state per PM and commune, filled for the
history already imported.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:49:29.528147
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_cube",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("pm_reference", sa.String(length=40), nullable=True),
        sa.Column("insee", sa.String(length=5), nullable=False),
        sa.Column("amii", sa.Boolean(), nullable=False),
        sa.Column("etat", sa.String(length=30), nullable=False),
        sa.Column("immeubles", sa.Integer(), nullable=False),
        sa.Column("logements", sa.Integer(), nullable=False),
        sa.Column("locaux_pro", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "etat IN ('CIBLE', 'SIGNE', 'EN COURS DE DEPLOIEMENT', 'DEPLOYE', 'ABANDONNE', 'RACCORDABLE DEMANDE', 'RAD EN COURS DE DEPLOIEMENT')",
            name=op.f("ck_state_cube_etat"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_cube")),
    )
    op.create_index("ix_state_cube_as_of", "state_cube", ["as_of"], unique=False)
    op.execute(
        "INSERT INTO state_cube (as_of, pm_reference, insee, amii, etat, immeubles, logements, "
        "locaux_pro) SELECT d.as_of, h.pm_reference, p.insee, p.amii, h.etat, count(*), "
        "sum(h.logements), sum(h.locaux_pro) FROM (SELECT DISTINCT valid_from AS as_of "
        "FROM premise_history) d JOIN premise_history h ON h.valid_from <= d.as_of "
        "AND (h.valid_to IS NULL OR h.valid_to > d.as_of) AND NOT h.removed "
        "JOIN premise p ON p.id = h.premise_id GROUP BY d.as_of, h.pm_reference, p.insee, p.amii, h.etat"
    )


def downgrade() -> None:
    op.drop_index("ix_state_cube_as_of", table_name="state_cube")
    op.drop_table("state_cube")
