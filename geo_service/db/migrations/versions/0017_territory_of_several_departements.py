"""A territory is a named set of départements: territory codes up to 16 characters (a région
syndicat is not a département number), the territory's départements, and each commune's own
département (an élu page per département inside a région territory, and an IPE delivery of one
département that says nothing about the others).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# every column holding a territory code (the registers' `perimetre` is DSP/AMII, not a code)
CODE_COLUMNS = [
    ("territory", "code"),
    ("abonnes_releve", "territory_code"),
    ("app_user", "territory_code"),
    ("arcep_immeuble", "territory_code"),
    ("commune", "territory_code"),
    ("contract_target", "territory_code"),
    ("controle_pm", "territory_code"),
    ("echange_frontalier", "territory_code"),
    ("epci", "territory_code"),
    ("fermeture_cuivre", "territory_code"),
    ("incident", "territory_code"),
    ("named_layer", "territory_code"),
    ("nro", "territory_code"),
    ("pm", "territory_code"),
    ("state_cube", "territory_code"),
]
DEPARTEMENT_OF_INSEE = "CASE WHEN insee LIKE '97%' THEN left(insee, 3) ELSE left(insee, 2) END"


def upgrade() -> None:
    for table, column in CODE_COLUMNS:
        op.alter_column(table, column, type_=sa.String(length=16), existing_type=sa.String(3))
    # computed from the INSEE code: always right, whoever writes the commune
    op.add_column(
        "commune",
        sa.Column(
            "departement",
            sa.String(length=3),
            sa.Computed(DEPARTEMENT_OF_INSEE, persisted=True),
            nullable=True,
        ),
    )
    op.create_index("ix_commune_departement", "commune", ["departement"])
    # empty: a territory written without it (by hand) is the département of its code
    op.add_column(
        "territory",
        sa.Column(
            "departements", sa.ARRAY(sa.String(length=3)), nullable=True, server_default="{}"
        ),
    )
    op.execute(
        "UPDATE territory t SET departements = COALESCE((SELECT array_agg(DISTINCT c.departement "
        "ORDER BY c.departement) FROM commune c WHERE c.territory_code = t.code), ARRAY[t.code])"
    )
    op.alter_column("territory", "departements", nullable=False)


def downgrade() -> None:
    op.drop_column("territory", "departements")
    op.drop_index("ix_commune_departement", table_name="commune")
    op.drop_column("commune", "departement")
    for table, column in reversed(CODE_COLUMNS):
        op.alter_column(table, column, type_=sa.String(length=3), existing_type=sa.String(16))
