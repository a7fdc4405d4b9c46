"""An import's journal row may say INTERROMPU: the import started (its EN_COURS marker was
committed) and its session ended before it finished (killed, crashed, server restarted).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BEFORE = ("EN_COURS", "OK", "PARTIEL", "REJETE")
AFTER = (*BEFORE, "INTERROMPU")


def _status_check(values: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_import_journal_status"), "import_journal", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(
        op.f("ck_import_journal_status"), "import_journal", f"status IN ({listed})"
    )


def upgrade() -> None:
    _status_check(AFTER)


def downgrade() -> None:
    # interrupted imports changed nothing and nothing refers to their rows
    op.execute("DELETE FROM import_journal WHERE status = 'INTERROMPU'")
    _status_check(BEFORE)
