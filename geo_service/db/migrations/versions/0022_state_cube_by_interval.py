"""The state cube and its sums per unit stored by validity interval (valid_from, valid_to) as
the history is, instead of one copy of every key at each of the territory's dates.

An import wrote the whole cube again for its date (51 000 cube rows and 37 650 sums per unit at
1 % of France, whatever changed): it now writes the spans that change. The rows already stored
are turned into spans here: each row holds until the territory's next date, and the rows of a
key that follow each other with the same figures become one.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = {
    "state_cube": (
        ("pm_reference", "insee", "amii", "etat"),
        ("immeubles", "logements", "locaux_pro"),
    ),
    "state_rollup": (
        ("level", "code", "amii"),
        (
            "nom", "immeubles", "immeubles_raccordables", "logements", "raccordables",
            "raccordables_demande", "en_cours", "cibles", "abandonnes", "locaux_pro",
        ),
    ),
}  # fmt: skip


def _to_spans(table: str, keys: tuple[str, ...], values: tuple[str, ...]) -> None:
    op.execute(
        f"""
        UPDATE {table} q SET valid_to = d.next_day
        FROM (SELECT territory_code, day,
                     lead(day) OVER (PARTITION BY territory_code ORDER BY day) AS next_day
              FROM (SELECT DISTINCT territory_code, valid_from AS day FROM {table}) s) d
        WHERE d.territory_code = q.territory_code AND d.day = q.valid_from
        """
    )
    key = ", ".join(keys)
    same = " AND ".join(f"lag({v}) OVER k = {v}" for v in values)
    op.execute(
        f"""
        CREATE TEMP TABLE merged ON COMMIT DROP AS
        SELECT min(id) FILTER (WHERE head) AS keep,
               (array_agg(valid_to ORDER BY valid_from DESC))[1] AS ends,
               array_agg(id) FILTER (WHERE NOT head) AS gone
        FROM (SELECT *, count(*) FILTER (WHERE head) OVER i AS island
              FROM (SELECT id, territory_code, {key}, valid_from, valid_to,
                           NOT COALESCE(lag(valid_to) OVER k = valid_from AND {same}, false)
                               AS head
                    FROM {table}
                    WINDOW k AS (PARTITION BY territory_code, {key} ORDER BY valid_from)) m
              WINDOW i AS (PARTITION BY territory_code, {key} ORDER BY valid_from)) g
        GROUP BY territory_code, {key}, island
        """
    )
    op.execute(
        f"UPDATE {table} q SET valid_to = m.ends FROM merged m "
        "WHERE q.id = m.keep AND q.valid_to IS DISTINCT FROM m.ends"
    )
    op.execute(
        f"DELETE FROM {table} WHERE id IN (SELECT unnest(gone) FROM merged WHERE gone IS NOT NULL)"
    )
    op.execute("DROP TABLE merged")


def upgrade() -> None:
    op.drop_index("ix_state_cube_territory_as_of", table_name="state_cube")
    op.drop_index("ix_state_cube_insee_as_of", table_name="state_cube")
    op.drop_index("ix_state_rollup_territory_as_of", table_name="state_rollup")
    for table, (keys, values) in TABLES.items():
        op.alter_column(table, "as_of", new_column_name="valid_from")
        op.add_column(table, sa.Column("valid_to", sa.Date(), nullable=True))
        _to_spans(table, keys, values)
    op.create_index("ix_state_cube_territory_from", "state_cube", ["territory_code", "valid_from"])
    op.create_index("ix_state_cube_territory_to", "state_cube", ["territory_code", "valid_to"])
    op.create_index("ix_state_cube_insee_from", "state_cube", ["insee", "valid_from"])
    op.create_index(
        "ix_state_rollup_territory_level_from",
        "state_rollup",
        ["territory_code", "level", "valid_from"],
    )
    op.create_index("ix_state_rollup_territory_to", "state_rollup", ["territory_code", "valid_to"])


def downgrade() -> None:
    # back to one copy of every key at each date the territory's spans start or end
    for index, table in (
        ("ix_state_cube_territory_from", "state_cube"),
        ("ix_state_cube_territory_to", "state_cube"),
        ("ix_state_cube_insee_from", "state_cube"),
        ("ix_state_rollup_territory_level_from", "state_rollup"),
        ("ix_state_rollup_territory_to", "state_rollup"),
    ):
        op.drop_index(index, table_name=table)
    for table, (keys, values) in TABLES.items():
        columns = ("territory_code", *keys, *values)
        op.execute(
            f"""
            INSERT INTO {table} (valid_from, valid_to, {", ".join(columns)})
            SELECT d.day, d.day, {", ".join(f"q.{c}" for c in columns)}
            FROM {table} q
            JOIN (SELECT DISTINCT territory_code, day
                  FROM {table}, LATERAL (VALUES (valid_from), (valid_to)) v(day)
                  WHERE day IS NOT NULL) d
              ON d.territory_code = q.territory_code AND d.day > q.valid_from
             AND (q.valid_to IS NULL OR d.day < q.valid_to)
            """
        )
        op.drop_column(table, "valid_to")
        op.alter_column(table, "valid_from", new_column_name="as_of")
    op.create_index("ix_state_cube_territory_as_of", "state_cube", ["territory_code", "as_of"])
    op.create_index("ix_state_cube_insee_as_of", "state_cube", ["insee", "as_of"])
    op.create_index(
        "ix_state_rollup_territory_as_of", "state_rollup", ["territory_code", "as_of", "level"]
    )
