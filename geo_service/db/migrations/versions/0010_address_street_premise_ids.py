"""Each street lists the premises written with it, so the address search reads a street's
premises by id instead of all those of its commune (thousands in a town).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Frozen here (not read from sql/streets.sql) so this revision replays the same way later on.
FILL_PREMISE_IDS = """
UPDATE address_street a SET premise_ids = s.ids
FROM (
    SELECT insee, coalesce(type_voie, '') AS t, coalesce(nom_voie, '') AS v,
           coalesce(commune_nom, '') AS c, array_agg(id ORDER BY id) AS ids
    FROM premise
    GROUP BY 1, 2, 3, 4
) s
WHERE s.insee = a.insee AND s.t = coalesce(a.type_voie, '') AND s.v = coalesce(a.nom_voie, '')
  AND s.c = coalesce(a.commune_nom, '')
"""


def upgrade() -> None:
    op.add_column(
        "address_street",
        sa.Column(
            "premise_ids",
            postgresql.ARRAY(sa.BigInteger()),
            server_default=sa.text("'{}'::bigint[]"),
            nullable=False,
        ),
    )
    op.execute(FILL_PREMISE_IDS)
    op.execute("ANALYZE address_street")


def downgrade() -> None:
    op.drop_column("address_street", "premise_ids")
