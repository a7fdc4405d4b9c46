"""Staff accounts (users, API tokens), the audit trail, and a version on every editable object
(optimistic concurrency); signalements gain their territory, assignee, answer and closing time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

EDITABLE = ("pm", "rad_procedure", "contract_target", "signalement")


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("nom", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("territory_code", sa.String(length=3), nullable=False),
        sa.Column("commune_insee", sa.String(length=5), nullable=True),
        sa.Column("epci_siren", sa.String(length=9), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("role IN ('elu', 'technicien', 'admin')", name=op.f("ck_app_user_role")),
        sa.CheckConstraint(
            "(role = 'elu' AND ((commune_insee IS NULL) <> (epci_siren IS NULL)))"
            " OR (role <> 'elu' AND commune_insee IS NULL AND epci_siren IS NULL)",
            name=op.f("ck_app_user_elu_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territory.code"],
            name=op.f("fk_app_user_territory_code_territory"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("nom", name=op.f("uq_app_user_nom")),
    )
    op.create_index(op.f("ix_app_user_territory_code"), "app_user", ["territory_code"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_api_token_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_token_token_sha256")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("territory_code", sa.String(length=10), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("user_name", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "source IN ('api', 'console', 'cli', 'import')", name=op.f("ck_audit_log_source")
        ),
        sa.CheckConstraint("outcome IN ('ok', 'refuse')", name=op.f("ck_audit_log_outcome")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_audit_log_user_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_journal.id"], name=op.f("fk_audit_log_import_id_import_journal")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_user_name"), "audit_log", ["user_name"])
    op.create_index(op.f("ix_audit_log_territory_code"), "audit_log", ["territory_code"])
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_key"])
    for table in EDITABLE:
        op.add_column(table, sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.alter_column(
        "signalement",
        "description",
        type_=sa.String(length=2000),
        existing_type=sa.Text(),
        postgresql_using="left(description, 2000)",
    )
    op.add_column("signalement", sa.Column("territory_code", sa.String(length=10), nullable=True))
    op.add_column("signalement", sa.Column("assigned_to", sa.String(length=80), nullable=True))
    op.add_column("signalement", sa.Column("reponse", sa.String(length=2000), nullable=True))
    op.add_column("signalement", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_signalement_territory_code"), "signalement", ["territory_code"])
    # reports made before territories were recorded: the territory of their commune
    op.execute(
        "UPDATE signalement s SET territory_code = c.territory_code FROM commune c "
        "WHERE c.insee = s.insee"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_signalement_territory_code"), table_name="signalement")
    for column in ("closed_at", "reponse", "assigned_to", "territory_code"):
        op.drop_column("signalement", column)
    op.alter_column(
        "signalement", "description", type_=sa.Text(), existing_type=sa.String(length=2000)
    )
    for table in EDITABLE:
        op.drop_column(table, "version")
    op.drop_table("audit_log")
    op.drop_table("api_token")
    op.drop_table("app_user")
