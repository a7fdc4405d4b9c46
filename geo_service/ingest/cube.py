"""Keep the state cube (as-of aggregates) in step with the premise history."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from geo_service.sql import statements


def refresh_cube(conn: Connection, from_date: date) -> None:
    """Recompute the cube for every change date on or after `from_date`."""
    sql = statements("cube")
    conn.execute(text(sql["clear"]), {"from_date": from_date})
    newest = conn.execute(text("SELECT max(valid_from) FROM premise_history")).scalar_one()
    if newest == from_date:  # the usual import: its date is the newest, read the current state
        conn.execute(text(sql["fill_current"]), {"from_date": from_date})
    else:
        conn.execute(text(sql["fill"]), {"from_date": from_date})
