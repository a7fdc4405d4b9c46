"""follow-up tables and address search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:14:48.264190
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


KINDS_BEFORE = "'ipe', 'gracethd', 'sites', 'bornes', 'med', 'onereuses', 'reference'"
KINDS_AFTER = KINDS_BEFORE + ", 'adresses'"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_import_journal_kind"), "import_journal", type_="check")
    op.create_check_constraint("kind", "import_journal", f"kind IN ({KINDS_AFTER})")
    op.create_table(
        "rad_procedure",
        sa.Column("identifiant_immeuble", sa.String(length=80), nullable=False),
        sa.Column("etape", sa.String(length=20), nullable=False),
        sa.Column("date_avenant", sa.Date(), nullable=True),
        sa.Column("date_demande", sa.Date(), nullable=True),
        sa.Column("date_construction", sa.Date(), nullable=True),
        sa.Column("commentaire", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "etape IN ('CANDIDAT', 'LISTE_AVENANT', 'DEMANDE', 'CONSTRUIT')",
            name=op.f("ck_rad_procedure_etape"),
        ),
        sa.PrimaryKeyConstraint("identifiant_immeuble", name=op.f("pk_rad_procedure")),
    )
    op.create_geospatial_table(
        "signalement",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("adresse", sa.String(length=300), nullable=False),
        sa.Column("insee", sa.String(length=5), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("statut", sa.String(length=20), nullable=False),
        sa.Column("premise_identifiant", sa.String(length=80), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=2154,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "statut IN ('NOUVEAU', 'EN_COURS', 'RESOLU', 'REJETE')",
            name=op.f("ck_signalement_statut"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signalement")),
    )
    op.create_geospatial_index(
        "idx_signalement_geom",
        "signalement",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "contract_target",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("raccordables", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territory.code"],
            name=op.f("fk_contract_target_territory_code_territory"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_target")),
    )
    op.create_index(
        op.f("ix_contract_target_territory_code"),
        "contract_target",
        ["territory_code"],
        unique=False,
    )
    op.create_geospatial_table(
        "reference_address",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("numero", sa.String(length=20), nullable=True),
        sa.Column("rep", sa.String(length=20), nullable=True),
        sa.Column("nom_voie", sa.String(length=200), nullable=True),
        sa.Column("code_postal", sa.String(length=5), nullable=True),
        sa.Column("insee", sa.String(length=5), nullable=False),
        sa.Column("nom_commune", sa.String(length=200), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=2154,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_reference_address_import_id_import_journal"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_address")),
    )
    op.create_geospatial_index(
        "idx_reference_address_geom",
        "reference_address",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_reference_address_insee"), "reference_address", ["insee"], unique=False
    )
    op.add_column("premise", sa.Column("search_text", sa.String(length=400), nullable=True))
    # Addresses already imported get their search text (new imports fill it themselves).
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


def downgrade() -> None:
    op.drop_constraint(op.f("ck_import_journal_kind"), "import_journal", type_="check")
    op.create_check_constraint("kind", "import_journal", f"kind IN ({KINDS_BEFORE})")
    op.drop_index(
        "ix_premise_search_text",
        table_name="premise",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_column("premise", "search_text")
    op.drop_index(op.f("ix_reference_address_insee"), table_name="reference_address")
    op.drop_geospatial_index(
        "idx_reference_address_geom",
        table_name="reference_address",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("reference_address")
    op.drop_index(op.f("ix_contract_target_territory_code"), table_name="contract_target")
    op.drop_table("contract_target")
    op.drop_geospatial_index(
        "idx_signalement_geom",
        table_name="signalement",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("signalement")
    op.drop_table("rad_procedure")
