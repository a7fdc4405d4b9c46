"""Keep the state cube (as-of aggregates) in step with the premise history, per territory."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Engine, text

from geo_service.sql import statements

_CUBE_COLUMNS = (
    "territory_code, as_of, pm_reference, insee, amii, etat, immeubles, logements, locaux_pro"
)


def refresh_cube(conn: Connection, from_date: date, territory: str) -> None:
    """Recompute the territory's cube, and its sums per unit, for every change date on or after
    `from_date`."""
    sql = statements("cube")
    params = {"from_date": from_date, "t": territory}
    conn.execute(text(sql["clear"]), params)
    newest = conn.execute(text(sql["newest"]), {"t": territory}).scalar_one_or_none()
    # the usual import: its date is the newest, read the current state
    rows = sql["fill_current"] if newest == from_date else sql["fill"]
    conn.execute(text("DROP TABLE IF EXISTS new_cube"))
    conn.execute(text(f"CREATE TEMP TABLE new_cube ON COMMIT DROP AS {rows}"), params)
    conn.execute(text("ANALYZE new_cube"))
    conn.execute(
        text(f"INSERT INTO state_cube ({_CUBE_COLUMNS}) SELECT {_CUBE_COLUMNS} FROM new_cube")
    )
    refresh_rollup(conn, territory, from_date, cube="new_cube")
    conn.execute(text("DROP TABLE new_cube"))


def refresh_rollup(
    conn: Connection, territory: str, from_date: date = date.min, *, cube: str = "state_cube"
) -> None:
    """Sum the territory's cube per unit again for every date on or after `from_date` (all of
    them by default: after the units' mapping changed), from `cube` (state_cube or the rows
    refresh_cube just wrote to it)."""
    sql = statements("cube")
    params = {"from_date": from_date, "t": territory}
    conn.execute(text(sql["rollup_clear"]), params)
    conn.execute(text(sql["rollup_fill"].format(cube=cube)), params)


def analyze_cube(engine: Engine) -> None:
    """Fresh statistics on the cube after an import committed: the as-of reads that follow
    plan on them (a national as-of total took 4× longer until autovacuum analysed the new
    rows). Outside the import's transaction, so that imports of two territories do not wait on
    each other's ANALYZE."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE state_cube, state_rollup"))
