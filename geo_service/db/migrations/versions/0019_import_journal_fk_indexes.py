"""Every column referring to an import has its index: an import ends by deleting its marker row
of `import_journal`, and PostgreSQL then checks that no row of the 25 referring tables points to
it — without an index, by reading the whole of `premise` (twice), `reference_address`, the ANFR
tables… at every import of anything (0.13 s at 1 % of France, growing with the tables).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 03:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COLUMNS = [
    ("anfr_emetteur", "import_id"),
    ("anfr_station", "import_id"),
    ("anfr_support", "import_id"),
    ("audit_log", "import_id"),
    ("med_site", "import_id"),
    ("mobile_site", "import_id"),
    ("mobile_site_station", "import_id"),
    ("named_layer", "import_id"),
    ("nro", "import_id"),
    ("operator_expensive", "import_id"),
    ("pm", "import_id"),
    ("premise", "first_import_id"),
    ("premise", "last_import_id"),
    ("reference_address", "import_id"),
    ("wifi_borne", "import_id"),
    ("wifi_usage", "import_id"),
]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
