"""The operating registers of issue #14: incidents (pannes), PM conformity controls, take-up
(abonnés per commune or PM and date) and border exchanges, each scoped by territory and, where
the délégataire reports for its whole DSP, marked `perimetre = 'dsp'`; four new import kinds.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Frozen here (0014's list, then ours) so this revision replays the same way later on.
KINDS_BEFORE = (
    *("ipe", "gracethd", "sites", "bornes", "med", "onereuses", "reference", "adresses"),
    *("anfr", "dcc", "arcep-sites", "couche", "wifi-stats"),
    *("arcep-immeubles", "ban", "fermeture-cuivre"),
)
NEW_KINDS = ("incidents", "controles-pm", "abonnes", "echanges-frontaliers")
KINDS_AFTER = (*KINDS_BEFORE, *NEW_KINDS)
PERIMETRE = "perimetre = 'dsp' OR perimetre = territory_code"

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _kinds(values: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_import_journal_kind"), "import_journal", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(
        op.f("ck_import_journal_kind"), "import_journal", f"kind IN ({listed})"
    )


def _common(table: str) -> list[Any]:
    """id, territory and import columns with their keys, as every register table has them."""
    return [
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territory.code"],
            name=op.f(f"fk_{table}_territory_code_territory"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_journal.id"], name=op.f(f"fk_{table}_import_id_import_journal")
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "incident",
        *_common("incident"),
        sa.Column("perimetre", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("pm_reference", sa.String(length=40), nullable=True),
        sa.Column("insee", sa.String(length=5), nullable=True),
        sa.Column("categorie", sa.String(length=40), nullable=False),
        sa.Column("ouverture", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retablissement", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cause", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.CheckConstraint(PERIMETRE, name=op.f("ck_incident_perimetre")),
        sa.CheckConstraint(
            "retablissement IS NULL OR retablissement >= ouverture",
            name=op.f("ck_incident_periode"),
        ),
        sa.CheckConstraint(
            "source IN ('SIGNALEMENT', 'DELEGATAIRE')", name=op.f("ck_incident_source")
        ),
        sa.UniqueConstraint(
            "territory_code", "perimetre", "reference", name="uq_incident_reference"
        ),
    )
    op.create_index("ix_incident_territory_ouverture", "incident", ["territory_code", "ouverture"])
    op.create_index(op.f("ix_incident_import_id"), "incident", ["import_id"])
    op.create_table(
        "controle_pm",
        *_common("controle_pm"),
        sa.Column("perimetre", sa.String(length=3), nullable=False),
        sa.Column("campagne", sa.Integer(), nullable=False),
        sa.Column("pm_reference", sa.String(length=40), nullable=False),
        sa.Column("date_controle", sa.Date(), nullable=False),
        sa.Column("resultat", sa.String(length=20), nullable=False),
        sa.Column("remarques", sa.Text(), nullable=True),
        sa.CheckConstraint(PERIMETRE, name=op.f("ck_controle_pm_perimetre")),
        sa.CheckConstraint(
            "resultat IN ('CONFORME', 'NON CONFORME', 'RESERVES')",
            name=op.f("ck_controle_pm_resultat"),
        ),
        sa.UniqueConstraint(
            "territory_code", "perimetre", "campagne", "pm_reference", name="uq_controle_pm_cle"
        ),
    )
    op.create_index(op.f("ix_controle_pm_import_id"), "controle_pm", ["import_id"])
    op.create_table(
        "abonnes_releve",
        *_common("abonnes_releve"),
        sa.Column("perimetre", sa.String(length=3), nullable=False),
        sa.Column("date_releve", sa.Date(), nullable=False),
        sa.Column("maille", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("abonnes", sa.Integer(), nullable=False),
        sa.Column("raccordables_declares", sa.Integer(), nullable=True),
        sa.Column(
            "fai",
            postgresql.ARRAY(sa.String(length=60)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.CheckConstraint(PERIMETRE, name=op.f("ck_abonnes_releve_perimetre")),
        sa.CheckConstraint("abonnes >= 0", name=op.f("ck_abonnes_releve_abonnes_positive")),
        sa.CheckConstraint(
            "maille IN ('commune', 'pm', 'total')", name=op.f("ck_abonnes_releve_maille")
        ),
        sa.UniqueConstraint(
            "territory_code",
            "perimetre",
            "date_releve",
            "maille",
            "code",
            name="uq_abonnes_releve_cle",
        ),
    )
    op.create_index(op.f("ix_abonnes_releve_import_id"), "abonnes_releve", ["import_id"])
    op.create_table(
        "echange_frontalier",
        *_common("echange_frontalier"),
        sa.Column("secteur", sa.String(length=120), nullable=False),
        sa.Column("voisin", sa.String(length=120), nullable=False),
        sa.Column("sens", sa.String(length=30), nullable=False),
        sa.Column("identifiant_immeuble", sa.String(length=80), nullable=False),
        sa.Column("adresse", sa.String(length=300), nullable=True),
        sa.Column("insee", sa.String(length=5), nullable=True),
        sa.Column("pm_reference", sa.String(length=40), nullable=True),
        sa.Column("pb_reference", sa.String(length=40), nullable=True),
        sa.Column("lien", sa.String(length=80), nullable=True),
        sa.Column("longueur_m", sa.Float(), nullable=True),
        sa.Column("mode", sa.String(length=20), nullable=True),
        sa.Column("statut_lien", sa.String(length=20), nullable=True),
        sa.Column("date_cosignature", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "sens IN ('SERVI_PAR_VOISIN', 'SERVI_PAR_DELEGATAIRE')",
            name=op.f("ck_echange_frontalier_sens"),
        ),
        sa.CheckConstraint(
            "mode IS NULL OR mode IN ('AERIEN', 'SOUTERRAIN')",
            name=op.f("ck_echange_frontalier_mode"),
        ),
        sa.CheckConstraint(
            "statut_lien IS NULL OR statut_lien IN "
            "('EXISTANT', 'A CREER', 'EN TRAVAUX', 'EN SERVICE', 'ABANDONNE')",
            name=op.f("ck_echange_frontalier_statut_lien"),
        ),
        sa.CheckConstraint(
            "longueur_m IS NULL OR longueur_m >= 0",
            name=op.f("ck_echange_frontalier_longueur_positive"),
        ),
        sa.UniqueConstraint(
            "territory_code", "secteur", "identifiant_immeuble", name="uq_echange_frontalier_cle"
        ),
    )
    op.create_index(op.f("ix_echange_frontalier_import_id"), "echange_frontalier", ["import_id"])
    _kinds(KINDS_AFTER)


def downgrade() -> None:
    for table in ("echange_frontalier", "abonnes_releve", "controle_pm", "incident"):
        op.drop_table(table)
    # after the tables that refer to these entries
    op.execute(
        "DELETE FROM asset_change WHERE table_name IN "
        "('incident', 'controle_pm', 'abonnes_releve', 'echange_frontalier')"
    )
    op.execute(
        "DELETE FROM import_journal WHERE kind IN "
        "('incidents', 'controles-pm', 'abonnes', 'echanges-frontaliers')"
    )
    _kinds(KINDS_BEFORE)
