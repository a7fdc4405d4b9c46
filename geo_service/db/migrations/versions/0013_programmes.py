"""The programmes beside fibre at the depth of fibre: ANFR stations, supports and emitters;
mobile sites with every stage dated and their links to ANFR stations; named polygon layers (the
regional natural park); WiFi bornes with their lifecycle and monthly usage; MED cabinets with
their NRA, blocking cause and computed opening; the import kinds of the new public files.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

# Frozen here so this revision replays the same way later on.
KINDS_BEFORE = ("ipe", "gracethd", "sites", "bornes", "med", "onereuses", "reference", "adresses")
KINDS_AFTER = (*KINDS_BEFORE, "anfr", "dcc", "arcep-sites", "couche", "wifi-stats")
SITE_STAGES_BEFORE = ("ZONE_SIGNALEE", "CARENCE_CONFIRMEE", "ARRETE", "EN_SERVICE", "ABANDONNE")
SITE_STAGES_AFTER = (
    "ZONE_SIGNALEE",
    "CARENCE_CONFIRMEE",
    "RETENU",
    "ARRETE",
    "EN_CONSTRUCTION",
    "EN_SERVICE",
    "ABANDONNE",
)
BORNE_STAGES = ("DELIBERATION_RECUE", "PROGRAMMEE", "INSTALLEE", "EN_SERVICE", "RETIREE")


def _check(table: str, name: str, column: str, values: tuple[str, ...], *, drop: bool) -> None:
    if drop:
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, f"{column} IN ({listed})")


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anfr_station",
        sa.Column("sta_nm_anfr", sa.String(length=20), nullable=False),
        sa.Column("exploitant", sa.String(length=120), nullable=True),
        sa.Column("date_implantation", sa.Date(), nullable=True),
        sa.Column("date_modif", sa.Date(), nullable=True),
        sa.Column("date_en_service", sa.Date(), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_anfr_station_import_id_import_journal"),
        ),
        sa.PrimaryKeyConstraint("sta_nm_anfr", name=op.f("pk_anfr_station")),
    )
    op.create_index(
        op.f("ix_anfr_station_exploitant"), "anfr_station", ["exploitant"], unique=False
    )
    op.create_geospatial_table(
        "anfr_support",
        sa.Column("sup_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("nature", sa.String(length=120), nullable=True),
        sa.Column("proprietaire", sa.String(length=120), nullable=True),
        sa.Column("hauteur_m", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column("adresse", sa.String(length=400), nullable=True),
        sa.Column("code_postal", sa.String(length=5), nullable=True),
        sa.Column("insee", sa.String(length=5), nullable=True),
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
            name=op.f("fk_anfr_support_import_id_import_journal"),
        ),
        sa.PrimaryKeyConstraint("sup_id", name=op.f("pk_anfr_support")),
    )
    op.create_geospatial_index(
        "idx_anfr_support_geom",
        "anfr_support",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_anfr_support_insee"), "anfr_support", ["insee"], unique=False)
    op.create_geospatial_table(
        "named_layer",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("nom", sa.String(length=40), nullable=False),
        sa.Column("feature_no", sa.BigInteger(), nullable=False),
        sa.Column("libelle", sa.String(length=200), nullable=True),
        sa.Column("attributs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
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
            name=op.f("fk_named_layer_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territory.code"],
            name=op.f("fk_named_layer_territory_code_territory"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_named_layer")),
        sa.UniqueConstraint("territory_code", "nom", "feature_no", name="feature"),
    )
    op.create_geospatial_index(
        "idx_named_layer_geom",
        "named_layer",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_named_layer_territory_code"), "named_layer", ["territory_code"], unique=False
    )
    op.create_table(
        "anfr_emetteur",
        sa.Column("emr_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sta_nm_anfr", sa.String(length=20), nullable=False),
        sa.Column("systeme", sa.String(length=60), nullable=False),
        sa.Column("technologie", sa.String(length=5), nullable=False),
        sa.Column("aer_id", sa.BigInteger(), nullable=True),
        sa.Column("date_service", sa.Date(), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "technologie IN ('2G', '3G', '4G', '5G', 'AUTRE')",
            name=op.f("ck_anfr_emetteur_technologie"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_anfr_emetteur_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["sta_nm_anfr"],
            ["anfr_station.sta_nm_anfr"],
            name=op.f("fk_anfr_emetteur_sta_nm_anfr_anfr_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("emr_id", name=op.f("pk_anfr_emetteur")),
    )
    op.create_index(
        op.f("ix_anfr_emetteur_sta_nm_anfr"), "anfr_emetteur", ["sta_nm_anfr"], unique=False
    )
    op.create_table(
        "anfr_station_support",
        sa.Column("sta_nm_anfr", sa.String(length=20), nullable=False),
        sa.Column("sup_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sta_nm_anfr"],
            ["anfr_station.sta_nm_anfr"],
            name=op.f("fk_anfr_station_support_sta_nm_anfr_anfr_station"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sup_id"],
            ["anfr_support.sup_id"],
            name=op.f("fk_anfr_station_support_sup_id_anfr_support"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sta_nm_anfr", "sup_id", name=op.f("pk_anfr_station_support")),
    )
    op.create_index(
        op.f("ix_anfr_station_support_sup_id"), "anfr_station_support", ["sup_id"], unique=False
    )
    op.create_table(
        "mobile_site_station",
        sa.Column("site_code", sa.String(length=40), nullable=False),
        sa.Column("sta_nm_anfr", sa.String(length=20), nullable=False),
        sa.Column("methode", sa.String(length=12), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "methode IN ('ARCEP', 'PROXIMITE', 'REGISTRE')",
            name=op.f("ck_mobile_site_station_methode"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_mobile_site_station_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["site_code"],
            ["mobile_site.code"],
            name=op.f("fk_mobile_site_station_site_code_mobile_site"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_code", "sta_nm_anfr", name=op.f("pk_mobile_site_station")),
    )
    op.create_index(
        op.f("ix_mobile_site_station_sta_nm_anfr"),
        "mobile_site_station",
        ["sta_nm_anfr"],
        unique=False,
    )
    op.create_table(
        "wifi_usage",
        sa.Column("borne_code", sa.String(length=40), nullable=False),
        sa.Column("mois", sa.Date(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("utilisateurs", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("extract(day FROM mois) = 1", name=op.f("ck_wifi_usage_mois")),
        sa.CheckConstraint(
            "sessions >= 0 AND utilisateurs >= 0", name=op.f("ck_wifi_usage_positifs")
        ),
        sa.ForeignKeyConstraint(
            ["borne_code"],
            ["wifi_borne.code"],
            name=op.f("fk_wifi_usage_borne_code_wifi_borne"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_wifi_usage_import_id_import_journal"),
        ),
        sa.PrimaryKeyConstraint("borne_code", "mois", name=op.f("pk_wifi_usage")),
    )
    op.add_column("med_site", sa.Column("nra", sa.String(length=20), nullable=True))
    op.add_column(
        "med_site",
        sa.Column("ouverture_calculee", sa.Boolean(), server_default="false", nullable=False),
    )
    op.add_column("med_site", sa.Column("cause_blocage", sa.String(length=500), nullable=True))
    op.add_column("mobile_site", sa.Column("op_leader", sa.String(length=40), nullable=True))
    op.add_column("mobile_site", sa.Column("date_carence", sa.Date(), nullable=True))
    op.add_column("mobile_site", sa.Column("date_retenue", sa.Date(), nullable=True))
    op.add_column("mobile_site", sa.Column("num_arrete", sa.String(length=60), nullable=True))
    op.add_column("mobile_site", sa.Column("date_construction", sa.Date(), nullable=True))
    op.add_column("mobile_site", sa.Column("date_abandon", sa.Date(), nullable=True))
    op.add_column("mobile_site", sa.Column("nom_zone", sa.String(length=200), nullable=True))
    op.add_column("mobile_site", sa.Column("proprietaire", sa.String(length=120), nullable=True))
    op.add_column("mobile_site", sa.Column("date_fin_iru", sa.Date(), nullable=True))
    op.add_column(
        "mobile_site", sa.Column("renouvellement_iru", sa.String(length=200), nullable=True)
    )
    op.add_column("mobile_site", sa.Column("date_dernier_controle", sa.Date(), nullable=True))
    op.add_column("mobile_site", sa.Column("opposition", sa.String(length=1000), nullable=True))
    op.add_column(
        "mobile_site", sa.Column("nom_site_operateurs", sa.String(length=40), nullable=True)
    )
    op.create_index(
        op.f("ix_mobile_site_nom_site_operateurs"), "mobile_site", ["nom_site_operateurs"]
    )
    op.add_column(
        "mobile_site", sa.Column("source_mise_en_service", sa.String(length=8), nullable=True)
    )
    op.add_column(
        "wifi_borne",
        sa.Column("etat", sa.String(length=20), server_default="EN_SERVICE", nullable=False),
    )
    op.add_column("wifi_borne", sa.Column("operateur", sa.String(length=120), nullable=True))
    op.add_column("wifi_borne", sa.Column("contrat", sa.String(length=120), nullable=True))
    op.add_column("wifi_borne", sa.Column("adresse", sa.String(length=300), nullable=True))
    op.add_column("wifi_borne", sa.Column("date_deliberation", sa.Date(), nullable=True))
    op.add_column("wifi_borne", sa.Column("date_programmation", sa.Date(), nullable=True))
    op.add_column("wifi_borne", sa.Column("date_mise_en_service", sa.Date(), nullable=True))
    op.add_column("wifi_borne", sa.Column("date_fin_contrat", sa.Date(), nullable=True))
    op.add_column("wifi_borne", sa.Column("date_retrait", sa.Date(), nullable=True))
    op.alter_column("wifi_borne", "rayon_m", server_default="150")
    # existing bornes were installed and in service (the register knew no other state)
    op.execute("UPDATE wifi_borne SET date_mise_en_service = date_installation")
    _check("wifi_borne", "etat", "etat", BORNE_STAGES, drop=False)
    _check("mobile_site", "etat", "etat", SITE_STAGES_AFTER, drop=True)
    _check("import_journal", "kind", "kind", KINDS_AFTER, drop=True)


def downgrade() -> None:
    op.execute(
        "UPDATE mobile_site SET etat = CASE etat WHEN 'RETENU' THEN 'CARENCE_CONFIRMEE' "
        "WHEN 'EN_CONSTRUCTION' THEN 'ARRETE' ELSE etat END"
    )
    _check("mobile_site", "etat", "etat", SITE_STAGES_BEFORE, drop=True)
    op.drop_constraint(op.f("ck_wifi_borne_etat"), "wifi_borne", type_="check")
    op.alter_column("wifi_borne", "rayon_m", server_default=None)
    op.drop_column("wifi_borne", "date_retrait")
    op.drop_column("wifi_borne", "date_fin_contrat")
    op.drop_column("wifi_borne", "date_mise_en_service")
    op.drop_column("wifi_borne", "date_programmation")
    op.drop_column("wifi_borne", "date_deliberation")
    op.drop_column("wifi_borne", "adresse")
    op.drop_column("wifi_borne", "contrat")
    op.drop_column("wifi_borne", "operateur")
    op.drop_column("wifi_borne", "etat")
    op.drop_column("mobile_site", "source_mise_en_service")
    op.drop_index(op.f("ix_mobile_site_nom_site_operateurs"), table_name="mobile_site")
    op.drop_column("mobile_site", "nom_site_operateurs")
    op.drop_column("mobile_site", "opposition")
    op.drop_column("mobile_site", "date_dernier_controle")
    op.drop_column("mobile_site", "renouvellement_iru")
    op.drop_column("mobile_site", "date_fin_iru")
    op.drop_column("mobile_site", "proprietaire")
    op.drop_column("mobile_site", "nom_zone")
    op.drop_column("mobile_site", "date_abandon")
    op.drop_column("mobile_site", "date_construction")
    op.drop_column("mobile_site", "num_arrete")
    op.drop_column("mobile_site", "date_retenue")
    op.drop_column("mobile_site", "date_carence")
    op.drop_column("mobile_site", "op_leader")
    op.drop_column("med_site", "cause_blocage")
    op.drop_column("med_site", "ouverture_calculee")
    op.drop_column("med_site", "nra")
    op.drop_table("wifi_usage")
    op.drop_index(op.f("ix_mobile_site_station_sta_nm_anfr"), table_name="mobile_site_station")
    op.drop_table("mobile_site_station")
    op.drop_index(op.f("ix_anfr_station_support_sup_id"), table_name="anfr_station_support")
    op.drop_table("anfr_station_support")
    op.drop_index(op.f("ix_anfr_emetteur_sta_nm_anfr"), table_name="anfr_emetteur")
    op.drop_table("anfr_emetteur")
    op.drop_index(op.f("ix_named_layer_territory_code"), table_name="named_layer")
    op.drop_geospatial_index(
        "idx_named_layer_geom",
        table_name="named_layer",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("named_layer")
    op.drop_index(op.f("ix_anfr_support_insee"), table_name="anfr_support")
    op.drop_geospatial_index(
        "idx_anfr_support_geom",
        table_name="anfr_support",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("anfr_support")
    op.drop_index(op.f("ix_anfr_station_exploitant"), table_name="anfr_station")
    op.drop_table("anfr_station")
    # after the tables that refer to these entries; rows they wrote stay, without their import
    new_kinds = "(SELECT id FROM import_journal WHERE kind IN ('anfr', 'dcc', 'arcep-sites', 'couche', 'wifi-stats'))"
    for table in ("mobile_site", "wifi_borne", "med_site", "asset_change"):
        op.execute(f"UPDATE {table} SET import_id = NULL WHERE import_id IN {new_kinds}")
    op.execute(
        "DELETE FROM import_journal WHERE kind IN ('anfr', 'dcc', 'arcep-sites', 'couche', 'wifi-stats')"
    )
    _check("import_journal", "kind", "kind", KINDS_BEFORE, drop=True)
