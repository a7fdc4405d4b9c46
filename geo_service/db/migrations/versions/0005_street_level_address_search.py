"""Street-level address search: one trigram index on the streets instead of one on every premise
(the premise index cost about a second at each IPE import).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:05:12.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here (not read from sql/streets.sql) so this revision replays the same way later on.
FILL_STREETS = """
INSERT INTO address_street (insee, type_voie, nom_voie, commune_nom, search_text)
SELECT s.insee, s.type_voie, s.nom_voie, s.commune_nom,
       lower(unaccent(concat_ws(' ', s.type_voie, s.nom_voie, s.commune_nom)))
FROM (SELECT DISTINCT insee, type_voie, nom_voie, commune_nom FROM premise) s
ORDER BY s.insee, s.type_voie, s.nom_voie, s.commune_nom
"""


def upgrade() -> None:
    op.create_table(
        "address_street",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("insee", sa.String(length=5), nullable=False),
        sa.Column("type_voie", sa.String(length=40), nullable=True),
        sa.Column("nom_voie", sa.String(length=200), nullable=True),
        sa.Column("commune_nom", sa.String(length=200), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["insee"], ["commune.insee"], name=op.f("fk_address_street_insee_commune")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_street")),
    )
    # The streets of the premises already imported (new imports add theirs), indexed once filled.
    op.execute(FILL_STREETS)
    op.create_index(
        "ux_address_street_voie",
        "address_street",
        [
            "insee",
            sa.text("coalesce(type_voie, '')"),
            sa.text("coalesce(nom_voie, '')"),
            sa.text("coalesce(commune_nom, '')"),
        ],
        unique=True,
    )
    op.create_index(
        "ix_address_street_search_text",
        "address_street",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.execute("ANALYZE address_street")
    op.drop_index(
        "ix_premise_search_text",
        table_name="premise",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_column("premise", "search_text")


def downgrade() -> None:
    op.add_column("premise", sa.Column("search_text", sa.String(length=400), nullable=True))
    op.execute(
        "UPDATE premise SET search_text = lower(unaccent(concat_ws(' ', numero, complement, "
        "type_voie, nom_voie, commune_nom)))"
    )
    op.create_index(
        "ix_premise_search_text",
        "premise",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index(
        "ix_address_street_search_text",
        table_name="address_street",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ux_address_street_voie", table_name="address_street")
    op.drop_table("address_street")
