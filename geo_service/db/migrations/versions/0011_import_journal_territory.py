"""Each import journal entry names its territory, so that several territories share one
database: the date-order check, "already imported" and removals are judged per territory.

Existing entries are backfilled from the data: the only territory of a one-territory database,
else the territory of the PM, NRO or premises the entry wrote; the rest stay NULL (an entry of
no known territory, counted for every territory).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Frozen here so this revision replays the same way later on.
BACKFILL = (
    """
UPDATE import_journal SET territory_code = (SELECT min(code) FROM territory)
WHERE territory_code IS NULL AND (SELECT count(*) FROM territory) = 1
""",
    """
UPDATE import_journal j SET territory_code = s.territory_code
FROM (SELECT import_id, min(territory_code) AS territory_code FROM pm
      WHERE import_id IS NOT NULL GROUP BY import_id HAVING count(DISTINCT territory_code) = 1) s
WHERE j.territory_code IS NULL AND j.id = s.import_id
""",
    """
UPDATE import_journal j SET territory_code = s.territory_code
FROM (SELECT import_id, min(territory_code) AS territory_code FROM nro
      WHERE import_id IS NOT NULL GROUP BY import_id HAVING count(DISTINCT territory_code) = 1) s
WHERE j.territory_code IS NULL AND j.id = s.import_id
""",
    """
UPDATE import_journal j SET territory_code = s.territory_code
FROM (SELECT p.last_import_id AS import_id, min(c.territory_code) AS territory_code
      FROM premise p JOIN commune c ON c.insee = p.insee
      WHERE p.last_import_id IS NOT NULL GROUP BY p.last_import_id
      HAVING count(DISTINCT c.territory_code) = 1) s
WHERE j.territory_code IS NULL AND j.id = s.import_id
""",
)


def upgrade() -> None:
    op.add_column("import_journal", sa.Column("territory_code", sa.String(length=10)))
    op.create_index(op.f("ix_import_journal_territory_code"), "import_journal", ["territory_code"])
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index(op.f("ix_import_journal_territory_code"), table_name="import_journal")
    op.drop_column("import_journal", "territory_code")
