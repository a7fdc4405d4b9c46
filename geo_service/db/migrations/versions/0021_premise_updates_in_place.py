"""Premises updated in place by the fortnightly import (HOT updates): `premise.last_import_id`
is no longer a foreign key nor indexed, and the table's pages keep 10 % free.

PostgreSQL rewrites a row without touching any index (a heap-only tuple) when no indexed
column changes and the row's page has room. Every changed line of an import writes
`last_import_id`: indexed for its foreign key (0019), it made each update insert a new entry in
all 8 indexes of `premise` (~45 % of the `UPDATE` at 1 % of France). The column stays, written
by every import and read by the removal step; nothing deletes an import's journal row once data
points to it (only the running import's own marker row is deleted, and no row points to it).
`first_import_id`, written once, keeps its key and index.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("fk_premise_last_import_id_import_journal", "premise", type_="foreignkey")
    op.drop_index("ix_premise_last_import_id", table_name="premise")
    # new pages only: existing ones gain room as rows move (or at the next VACUUM FULL)
    op.execute("ALTER TABLE premise SET (fillfactor = 90)")


def downgrade() -> None:
    op.execute("ALTER TABLE premise RESET (fillfactor)")
    op.create_index("ix_premise_last_import_id", "premise", ["last_import_id"], unique=False)
    op.create_foreign_key(
        "fk_premise_last_import_id_import_journal",
        "premise",
        "import_journal",
        ["last_import_id"],
        ["id"],
    )
