"""The State's files beside the operator's: ARCEP's building-level "Carte fibre" per quarter
(for the cross-check), the copper switch-off calendar by building, and the BAN import kind.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

# Frozen here so this revision replays the same way later on.
KINDS_BEFORE = (
    *("ipe", "gracethd", "sites", "bornes", "med", "onereuses", "reference", "adresses"),
    *("anfr", "dcc", "arcep-sites", "couche", "wifi-stats"),
)
KINDS_AFTER = (*KINDS_BEFORE, "arcep-immeubles", "ban", "fermeture-cuivre")


def _kinds(values: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_import_journal_kind"), "import_journal", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(
        op.f("ck_import_journal_kind"), "import_journal", f"kind IN ({listed})"
    )


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table(
        "arcep_immeuble",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("date_etat", sa.Date(), nullable=False),
        sa.Column("imb_id", sa.String(length=80), nullable=False),
        sa.Column("imb_etat", sa.String(length=40), nullable=True),
        sa.Column("pm_ref", sa.String(length=80), nullable=True),
        sa.Column("pm_etat", sa.String(length=40), nullable=True),
        sa.Column("code_insee", sa.String(length=5), nullable=True),
        sa.Column("adresse", sa.String(length=400), nullable=True),
        sa.Column("type_imb", sa.String(length=40), nullable=True),
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
            name=op.f("fk_arcep_immeuble_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territory.code"],
            name=op.f("fk_arcep_immeuble_territory_code_territory"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arcep_immeuble")),
        sa.UniqueConstraint("territory_code", "date_etat", "imb_id", name="immeuble"),
    )
    op.create_geospatial_index(
        "idx_arcep_immeuble_geom",
        "arcep_immeuble",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_arcep_immeuble_code_insee"), "arcep_immeuble", ["code_insee"], unique=False
    )
    op.create_index(
        op.f("ix_arcep_immeuble_import_id"), "arcep_immeuble", ["import_id"], unique=False
    )
    op.create_table(
        "fermeture_cuivre",
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("immeuble_id", sa.String(length=80), nullable=False),
        sa.Column("num_lot_fz", sa.String(length=40), nullable=True),
        sa.Column("fermeture_technique", sa.Date(), nullable=True),
        sa.Column("fermeture_com_zone", sa.Date(), nullable=True),
        sa.Column("fermeture_com_addr", sa.Date(), nullable=True),
        sa.Column("elig_fo", sa.String(length=20), nullable=True),
        sa.Column("annee_ft", sa.Integer(), nullable=True),
        sa.Column("code_insee", sa.String(length=5), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_fermeture_cuivre_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territory.code"],
            name=op.f("fk_fermeture_cuivre_territory_code_territory"),
        ),
        sa.PrimaryKeyConstraint("territory_code", "immeuble_id", name=op.f("pk_fermeture_cuivre")),
    )
    op.create_index(
        op.f("ix_fermeture_cuivre_import_id"), "fermeture_cuivre", ["import_id"], unique=False
    )
    op.create_index(
        op.f("ix_fermeture_cuivre_code_insee"), "fermeture_cuivre", ["code_insee"], unique=False
    )
    # BAN: each reference address filed under its street of the address search
    op.add_column("reference_address", sa.Column("street_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_reference_address_street_id_address_street"),
        "reference_address",
        "address_street",
        ["street_id"],
        ["id"],
    )
    op.create_index(
        op.f("ix_reference_address_street_id"), "reference_address", ["street_id"], unique=False
    )
    _kinds(KINDS_AFTER)


def downgrade() -> None:
    op.drop_index(op.f("ix_reference_address_street_id"), table_name="reference_address")
    op.drop_constraint(
        op.f("fk_reference_address_street_id_address_street"),
        "reference_address",
        type_="foreignkey",
    )
    op.drop_column("reference_address", "street_id")
    op.drop_index(op.f("ix_fermeture_cuivre_code_insee"), table_name="fermeture_cuivre")
    op.drop_index(op.f("ix_fermeture_cuivre_import_id"), table_name="fermeture_cuivre")
    op.drop_table("fermeture_cuivre")
    op.drop_index(op.f("ix_arcep_immeuble_import_id"), table_name="arcep_immeuble")
    op.drop_index(op.f("ix_arcep_immeuble_code_insee"), table_name="arcep_immeuble")
    op.drop_geospatial_index(
        "idx_arcep_immeuble_geom",
        table_name="arcep_immeuble",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("arcep_immeuble")
    # after the tables that refer to these entries
    op.execute(
        "DELETE FROM import_journal WHERE kind IN ('arcep-immeubles', 'ban', 'fermeture-cuivre')"
    )
    _kinds(KINDS_BEFORE)
