"""Keep the state cube (as-of aggregates) and its sums per unit in step with the premise
history, per territory, stored by validity interval: an import writes the spans that change,
not the whole territory again."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Engine, text

from geo_service.sql import statements

# a span's key and the figures that must be equal for a stored span to go on
_CUBE_KEYS = ("pm_reference", "insee", "amii", "etat")
_COUNTS = ("immeubles", "logements", "locaux_pro")
_ROLLUP_KEYS = ("level", "code", "amii")
_ROLLUP_VALUES = (
    "nom", "immeubles", "immeubles_raccordables", "logements", "raccordables",
    "raccordables_demande", "en_cours", "cibles", "abandonnes", "locaux_pro",
)  # fmt: skip


def refresh_cube(conn: Connection, from_date: date, territory: str) -> None:
    """Recompute the territory's cube, and its sums per unit, from `from_date` on."""
    sql = statements("cube")
    params = {"from_date": from_date, "t": territory}
    newest = conn.execute(text(sql["newest"]), {"t": territory}).scalar_one_or_none()
    # the usual import: no history after its date, the current state holds from it on (also
    # when the file changed nothing: no need to read the history from its date)
    current = newest is None or newest <= from_date
    spans = sql["fill_current"] if current else sql["fill"]
    _stage(conn, "new_cube", spans, "state_cube", _CUBE_KEYS, _COUNTS, params)
    # the rollup's plan reads the new spans' statistics (the cube's do not know the new date)
    conn.execute(text("ANALYZE new_cube (territory_code, valid_to, pm_reference, insee)"))
    _rollup(conn, territory, from_date, cube="new_cube", current=current)
    _glue(conn, "state_cube", "new_cube", _CUBE_KEYS + _COUNTS, params)
    conn.execute(text("DROP TABLE new_cube"))


def refresh_rollup(conn: Connection, territory: str, from_date: date = date.min) -> None:
    """Sum the territory's cube per unit again from `from_date` on (all of it by default: after
    the units' mapping or names changed)."""
    _rollup(conn, territory, from_date, cube="state_cube")


def _rollup(
    conn: Connection, territory: str, from_date: date, *, cube: str, current: bool = False
) -> None:
    params = {"from_date": from_date, "t": territory}
    sql = statements("cube")
    running = sql["rollup_current" if current else "rollup_running"]
    spans = sql["rollup_fill"].format(cube=cube, running=running)
    _stage(conn, "new_rollup", spans, "state_rollup", _ROLLUP_KEYS, _ROLLUP_VALUES, params)
    _glue(conn, "state_rollup", "new_rollup", _ROLLUP_KEYS + _ROLLUP_VALUES, params)
    conn.execute(text("DROP TABLE new_rollup"))


def _stage(
    conn: Connection,
    staged: str,
    spans: str,
    table: str,
    keys: tuple[str, ...],
    values: tuple[str, ...],
    params: dict,
) -> None:
    """The spans of `spans` in the temporary table `staged`, each starting at the refresh date
    matched to the stored span of `table` it continues (same key and figures, alive the day
    before): prior, its id, and prior_to, its end."""
    same_key = " AND ".join(
        # (a PM reference may be missing: compared so that a hash join still applies)
        f"COALESCE(o.{k}, '') = COALESCE(n.{k}, '')" if k == "pm_reference" else f"o.{k} = n.{k}"
        for k in keys
    )
    same_values = " AND ".join(f"o.{v} IS NOT DISTINCT FROM n.{v}" for v in values)
    conn.execute(text(f"DROP TABLE IF EXISTS {staged}"))
    conn.execute(
        text(
            f"CREATE TEMP TABLE {staged} ON COMMIT DROP AS "
            f"SELECT n.*, o.id AS prior, o.valid_to AS prior_to FROM ({spans}) n "
            f"LEFT JOIN {table} o ON n.valid_from = :from_date AND o.territory_code = :t "
            "AND o.valid_from < :from_date "
            "AND (o.valid_to IS NULL OR o.valid_to >= :from_date) "
            f"AND {same_key} AND {same_values}"
        ),
        params,
    )


def _glue(
    conn: Connection, table: str, staged: str, columns: tuple[str, ...], params: dict
) -> None:
    """Write the staged spans into `table` (their key and figures: `columns`), only those that
    differ from the stored ones."""
    sql = statements("cube")
    columns = ", ".join(("territory_code", "valid_from", "valid_to", *columns))
    for name in ("glue", "glue_extend", "glue_close", "glue_insert"):
        statement = sql[name].format(table=table, staged=staged, columns=columns)
        conn.execute(text(statement), params)


def analyze_cube(engine: Engine) -> None:
    """Fresh statistics on the cube after an import committed: the as-of reads that follow
    plan on them (a national as-of total took 4× longer until autovacuum analysed the new
    rows). Outside the import's transaction, so that imports of two territories do not wait on
    each other's ANALYZE."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE state_cube, state_rollup"))
