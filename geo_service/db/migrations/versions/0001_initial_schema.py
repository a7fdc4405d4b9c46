"""Initial schema: territory, communes, EPCI, network with history, assets, import journal.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:53:29.989074
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostGIS for geometry, unaccent + pg_trgm for the address search (kept on downgrade:
    # other objects of the database may use them).
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "import_journal",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=True),
        sa.Column("user_name", sa.String(length=120), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column(
            "counts", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "errors", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('ipe', 'gracethd', 'sites', 'bornes', 'med', 'onereuses', 'reference')",
            name=op.f("ck_import_journal_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('EN_COURS', 'OK', 'PARTIEL', 'REJETE')",
            name=op.f("ck_import_journal_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_journal")),
    )
    op.create_index(op.f("ix_import_journal_sha256"), "import_journal", ["sha256"], unique=False)
    op.create_geospatial_table(
        "territory",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("nom", sa.String(length=120), nullable=False),
        sa.Column("srid", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_version", sa.String(length=40), nullable=False),
        sa.Column("licence", sa.String(length=300), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
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
        sa.PrimaryKeyConstraint("code", name=op.f("pk_territory")),
    )
    op.create_geospatial_index(
        "idx_territory_geom",
        "territory",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "asset_change",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("object_key", sa.String(length=80), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_asset_change_import_id_import_journal"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_change")),
    )
    op.create_index(op.f("ix_asset_change_import_id"), "asset_change", ["import_id"], unique=False)
    op.create_index(
        op.f("ix_asset_change_object_key"), "asset_change", ["object_key"], unique=False
    )
    op.create_geospatial_table(
        "epci",
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("siren", sa.String(length=9), nullable=False),
        sa.Column("nom", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=True),
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
            ["territory_code"],
            ["territory.code"],
            name=op.f("fk_epci_territory_code_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("territory_code", "siren", name=op.f("pk_epci")),
    )
    op.create_geospatial_index(
        "idx_epci_geom", "epci", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_geospatial_table(
        "nro",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("nom", sa.String(length=200), nullable=True),
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("date_installation", sa.Date(), nullable=True),
        sa.Column("amii", sa.Boolean(), server_default="false", nullable=False),
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
            ),
            nullable=True,
        ),
        sa.Column(
            "zone",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=2154,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_journal.id"], name=op.f("fk_nro_import_id_import_journal")
        ),
        sa.ForeignKeyConstraint(
            ["territory_code"], ["territory.code"], name=op.f("fk_nro_territory_code_territory")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_nro")),
    )
    op.create_geospatial_index(
        "idx_nro_geom", "nro", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_geospatial_index(
        "idx_nro_zone", "nro", ["zone"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_nro_territory_code"), "nro", ["territory_code"], unique=False)
    op.create_geospatial_table(
        "commune",
        sa.Column("insee", sa.String(length=5), nullable=False),
        sa.Column("nom", sa.String(length=200), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("epci_siren", sa.String(length=9), nullable=False),
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("amii", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "mairie",
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
            ["territory_code", "epci_siren"],
            ["epci.territory_code", "epci.siren"],
            name=op.f("fk_commune_territory_code_epci"),
        ),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territory.code"],
            name=op.f("fk_commune_territory_code_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("insee", name=op.f("pk_commune")),
    )
    op.create_geospatial_index(
        "idx_commune_geom",
        "commune",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_commune_epci_siren"), "commune", ["epci_siren"], unique=False)
    op.create_index(op.f("ix_commune_territory_code"), "commune", ["territory_code"], unique=False)
    op.create_geospatial_table(
        "pm",
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("nro_code", sa.String(length=40), nullable=True),
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("code_zone", sa.String(length=60), nullable=True),
        sa.Column("etat", sa.String(length=30), nullable=False),
        sa.Column("date_installation", sa.Date(), nullable=True),
        sa.Column("date_mes_commerciale", sa.Date(), nullable=True),
        sa.Column("date_prevue", sa.Date(), nullable=True),
        sa.Column("doe_etat", sa.String(length=20), server_default="NON_DU", nullable=False),
        sa.Column("nb_logements_prevus", sa.Integer(), nullable=True),
        sa.Column("amii", sa.Boolean(), server_default="false", nullable=False),
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
            ),
            nullable=True,
        ),
        sa.Column(
            "zone",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=2154,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "doe_etat IN ('NON_DU', 'A_DEPOSER', 'DEPOSE', 'VALIDE', 'REFUSE')",
            name=op.f("ck_pm_doe_etat"),
        ),
        sa.CheckConstraint(
            "etat IN ('PLANIFIE', 'EN COURS DE DEPLOIEMENT', 'DEPLOYE', 'ABANDONNE')",
            name=op.f("ck_pm_etat"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_journal.id"], name=op.f("fk_pm_import_id_import_journal")
        ),
        sa.ForeignKeyConstraint(["nro_code"], ["nro.code"], name=op.f("fk_pm_nro_code_nro")),
        sa.ForeignKeyConstraint(
            ["territory_code"], ["territory.code"], name=op.f("fk_pm_territory_code_territory")
        ),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_pm")),
    )
    op.create_geospatial_index(
        "idx_pm_geom", "pm", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_geospatial_index(
        "idx_pm_zone", "pm", ["zone"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_index(op.f("ix_pm_nro_code"), "pm", ["nro_code"], unique=False)
    op.create_index(op.f("ix_pm_territory_code"), "pm", ["territory_code"], unique=False)
    op.create_geospatial_table(
        "med_site",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("nom", sa.String(length=200), nullable=False),
        sa.Column("insee", sa.String(length=5), nullable=True),
        sa.Column("foyers", sa.Integer(), nullable=False),
        sa.Column("date_alimentation", sa.Date(), nullable=True),
        sa.Column("date_enedis", sa.Date(), nullable=True),
        sa.Column("date_reception_dalle", sa.Date(), nullable=True),
        sa.Column("date_pose_armoire", sa.Date(), nullable=True),
        sa.Column("date_recette", sa.Date(), nullable=True),
        sa.Column("date_reception_orange", sa.Date(), nullable=True),
        sa.Column("date_ouverture", sa.Date(), nullable=True),
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
            ["import_id"], ["import_journal.id"], name=op.f("fk_med_site_import_id_import_journal")
        ),
        sa.ForeignKeyConstraint(
            ["insee"], ["commune.insee"], name=op.f("fk_med_site_insee_commune")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_med_site")),
    )
    op.create_geospatial_index(
        "idx_med_site_geom",
        "med_site",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_med_site_insee"), "med_site", ["insee"], unique=False)
    op.create_geospatial_table(
        "mobile_site",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("nom", sa.String(length=200), nullable=False),
        sa.Column("insee", sa.String(length=5), nullable=True),
        sa.Column("programme", sa.String(length=20), nullable=False),
        sa.Column("etat", sa.String(length=20), nullable=False),
        sa.Column("operateurs", sa.String(length=200), nullable=True),
        sa.Column("date_signalement", sa.Date(), nullable=True),
        sa.Column("date_arrete", sa.Date(), nullable=True),
        sa.Column("date_mise_en_service", sa.Date(), nullable=True),
        sa.Column("anfr", sa.String(length=40), nullable=True),
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
        sa.CheckConstraint(
            "etat IN ('ZONE_SIGNALEE', 'CARENCE_CONFIRMEE', 'ARRETE', 'EN_SERVICE', 'ABANDONNE')",
            name=op.f("ck_mobile_site_etat"),
        ),
        sa.CheckConstraint(
            "programme IN ('NEW_DEAL', 'CENTRE_BOURG', 'TDF_IRU', 'AUTRE')",
            name=op.f("ck_mobile_site_programme"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_mobile_site_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["insee"], ["commune.insee"], name=op.f("fk_mobile_site_insee_commune")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_mobile_site")),
    )
    op.create_geospatial_index(
        "idx_mobile_site_geom",
        "mobile_site",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_mobile_site_insee"), "mobile_site", ["insee"], unique=False)
    op.create_table(
        "pm_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("pm_reference", sa.String(length=40), nullable=False),
        sa.Column("etat", sa.String(length=30), nullable=False),
        sa.Column("date_installation", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.CheckConstraint(
            "etat IN ('PLANIFIE', 'EN COURS DE DEPLOIEMENT', 'DEPLOYE', 'ABANDONNE')",
            name=op.f("ck_pm_history_etat"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_pm_history_period")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_pm_history_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["pm_reference"],
            ["pm.reference"],
            name=op.f("fk_pm_history_pm_reference_pm"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pm_history")),
    )
    op.create_index(op.f("ix_pm_history_import_id"), "pm_history", ["import_id"], unique=False)
    op.create_index(
        "ix_pm_history_pm_period", "pm_history", ["pm_reference", "valid_from"], unique=False
    )
    op.create_geospatial_table(
        "premise",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("identifiant_immeuble", sa.String(length=80), nullable=False),
        sa.Column("code_oi", sa.String(length=10), nullable=True),
        sa.Column("code_adresse", sa.String(length=80), nullable=True),
        sa.Column("insee", sa.String(length=5), nullable=False),
        sa.Column("code_postal", sa.String(length=5), nullable=True),
        sa.Column("commune_nom", sa.String(length=200), nullable=True),
        sa.Column("numero", sa.String(length=20), nullable=True),
        sa.Column("complement", sa.String(length=20), nullable=True),
        sa.Column("type_voie", sa.String(length=40), nullable=True),
        sa.Column("nom_voie", sa.String(length=200), nullable=True),
        sa.Column("batiment", sa.String(length=60), nullable=True),
        sa.Column("logements", sa.Integer(), nullable=False),
        sa.Column("locaux_pro", sa.Integer(), server_default="0", nullable=False),
        sa.Column("etat", sa.String(length=30), nullable=False),
        sa.Column("pm_reference", sa.String(length=40), nullable=True),
        sa.Column("date_signature", sa.Date(), nullable=True),
        sa.Column("date_mes_commerciale", sa.Date(), nullable=True),
        sa.Column("type_pbo", sa.String(length=40), nullable=True),
        sa.Column("type_racco", sa.String(length=40), nullable=True),
        sa.Column("raccordement_long", sa.Boolean(), nullable=True),
        sa.Column("amii", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("first_import_id", sa.BigInteger(), nullable=True),
        sa.Column("last_import_id", sa.BigInteger(), nullable=True),
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
        sa.CheckConstraint(
            "etat IN ('CIBLE', 'SIGNE', 'EN COURS DE DEPLOIEMENT', 'DEPLOYE', 'ABANDONNE', 'RACCORDABLE DEMANDE', 'RAD EN COURS DE DEPLOIEMENT')",
            name=op.f("ck_premise_etat"),
        ),
        sa.CheckConstraint("locaux_pro >= 0", name=op.f("ck_premise_locaux_pro_positive")),
        sa.CheckConstraint("logements >= 0", name=op.f("ck_premise_logements_positive")),
        sa.ForeignKeyConstraint(
            ["first_import_id"],
            ["import_journal.id"],
            name=op.f("fk_premise_first_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["insee"], ["commune.insee"], name=op.f("fk_premise_insee_commune")
        ),
        sa.ForeignKeyConstraint(
            ["last_import_id"],
            ["import_journal.id"],
            name=op.f("fk_premise_last_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["pm_reference"], ["pm.reference"], name=op.f("fk_premise_pm_reference_pm")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_premise")),
        sa.UniqueConstraint("identifiant_immeuble", name=op.f("uq_premise_identifiant_immeuble")),
    )
    op.create_geospatial_index(
        "idx_premise_geom",
        "premise",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_premise_code_oi"), "premise", ["code_oi"], unique=False)
    op.create_index(op.f("ix_premise_insee"), "premise", ["insee"], unique=False)
    op.create_index(op.f("ix_premise_pm_reference"), "premise", ["pm_reference"], unique=False)
    op.create_geospatial_table(
        "wifi_borne",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("nom", sa.String(length=200), nullable=False),
        sa.Column("insee", sa.String(length=5), nullable=True),
        sa.Column("emplacement", sa.String(length=12), nullable=False),
        sa.Column("rayon_m", sa.Integer(), nullable=False),
        sa.Column("date_installation", sa.Date(), nullable=True),
        sa.Column("connexions_mois", sa.Integer(), nullable=True),
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
        sa.CheckConstraint(
            "emplacement IN ('INTERIEUR', 'EXTERIEUR')", name=op.f("ck_wifi_borne_emplacement")
        ),
        sa.CheckConstraint("rayon_m > 0 AND rayon_m <= 300", name=op.f("ck_wifi_borne_rayon")),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_wifi_borne_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["insee"], ["commune.insee"], name=op.f("fk_wifi_borne_insee_commune")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_wifi_borne")),
    )
    op.create_geospatial_index(
        "idx_wifi_borne_geom",
        "wifi_borne",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_wifi_borne_insee"), "wifi_borne", ["insee"], unique=False)
    op.create_table(
        "premise_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("premise_id", sa.BigInteger(), nullable=False),
        sa.Column("etat", sa.String(length=30), nullable=False),
        sa.Column("logements", sa.Integer(), nullable=False),
        sa.Column("locaux_pro", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pm_reference", sa.String(length=40), nullable=True),
        sa.Column("removed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.CheckConstraint(
            "etat IN ('CIBLE', 'SIGNE', 'EN COURS DE DEPLOIEMENT', 'DEPLOYE', 'ABANDONNE', 'RACCORDABLE DEMANDE', 'RAD EN COURS DE DEPLOIEMENT')",
            name=op.f("ck_premise_history_etat"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_premise_history_period")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_journal.id"],
            name=op.f("fk_premise_history_import_id_import_journal"),
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"],
            ["premise.id"],
            name=op.f("fk_premise_history_premise_id_premise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_premise_history")),
    )
    op.create_index(
        op.f("ix_premise_history_import_id"), "premise_history", ["import_id"], unique=False
    )
    op.create_index(
        "ix_premise_history_period", "premise_history", ["valid_from", "valid_to"], unique=False
    )
    op.create_index(
        "ix_premise_history_premise_period",
        "premise_history",
        ["premise_id", "valid_from"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_premise_history_premise_period", table_name="premise_history")
    op.drop_index("ix_premise_history_period", table_name="premise_history")
    op.drop_index(op.f("ix_premise_history_import_id"), table_name="premise_history")
    op.drop_table("premise_history")
    op.drop_index(op.f("ix_wifi_borne_insee"), table_name="wifi_borne")
    op.drop_geospatial_index(
        "idx_wifi_borne_geom", table_name="wifi_borne", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("wifi_borne")
    op.drop_index(op.f("ix_premise_pm_reference"), table_name="premise")
    op.drop_index(op.f("ix_premise_insee"), table_name="premise")
    op.drop_index(op.f("ix_premise_code_oi"), table_name="premise")
    op.drop_geospatial_index(
        "idx_premise_geom", table_name="premise", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("premise")
    op.drop_index("ix_pm_history_pm_period", table_name="pm_history")
    op.drop_index(op.f("ix_pm_history_import_id"), table_name="pm_history")
    op.drop_table("pm_history")
    op.drop_index(op.f("ix_mobile_site_insee"), table_name="mobile_site")
    op.drop_geospatial_index(
        "idx_mobile_site_geom",
        table_name="mobile_site",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("mobile_site")
    op.drop_index(op.f("ix_med_site_insee"), table_name="med_site")
    op.drop_geospatial_index(
        "idx_med_site_geom", table_name="med_site", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("med_site")
    op.drop_index(op.f("ix_pm_territory_code"), table_name="pm")
    op.drop_index(op.f("ix_pm_nro_code"), table_name="pm")
    op.drop_geospatial_index(
        "idx_pm_zone", table_name="pm", postgresql_using="gist", column_name="zone"
    )
    op.drop_geospatial_index(
        "idx_pm_geom", table_name="pm", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("pm")
    op.drop_index(op.f("ix_commune_territory_code"), table_name="commune")
    op.drop_index(op.f("ix_commune_epci_siren"), table_name="commune")
    op.drop_geospatial_index(
        "idx_commune_geom", table_name="commune", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("commune")
    op.drop_index(op.f("ix_nro_territory_code"), table_name="nro")
    op.drop_geospatial_index(
        "idx_nro_zone", table_name="nro", postgresql_using="gist", column_name="zone"
    )
    op.drop_geospatial_index(
        "idx_nro_geom", table_name="nro", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("nro")
    op.drop_geospatial_index(
        "idx_epci_geom", table_name="epci", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("epci")
    op.drop_index(op.f("ix_asset_change_object_key"), table_name="asset_change")
    op.drop_index(op.f("ix_asset_change_import_id"), table_name="asset_change")
    op.drop_table("asset_change")
    op.drop_geospatial_index(
        "idx_territory_geom", table_name="territory", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("territory")
    op.drop_index(op.f("ix_import_journal_sha256"), table_name="import_journal")
    op.drop_table("import_journal")
