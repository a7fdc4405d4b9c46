"""The address search walks the streets nearest by trigram distance: a GiST trigram index on
the streets' search text replaces the GIN one (whose matches for a short or common text were
nearly all streets, each compared again from its text).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_address_street_search_text_gist",
        "address_street",
        ["search_text"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={"search_text": "gist_trgm_ops"},
    )
    op.drop_index(
        "ix_address_street_search_text",
        table_name="address_street",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.create_index(
        "ix_address_street_search_text",
        "address_street",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index(
        "ix_address_street_search_text_gist",
        table_name="address_street",
        postgresql_using="gist",
        postgresql_ops={"search_text": "gist_trgm_ops"},
    )
