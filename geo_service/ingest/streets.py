"""Keep the street table of the address search in step with the premises: its streets and the
premises written with each (run by each IPE import; cheap when nothing is new)."""

from __future__ import annotations

from contextlib import nullcontext

from sqlalchemy import Connection, text

from geo_service.db.bulk import deferred_indexes
from geo_service.sql import statements


def refresh_streets(conn: Connection, *, staged: bool = False, bulk: bool = False) -> int:
    """Add the streets of the premises that the street table lacks (and the premises its lists
    lack) and return how many streets were added. With `staged`, look only at the premises of the
    lines an IPE import staged (`stage_ipe`: a premise comes to a street with a new or changed
    line), not at every premise. `bulk` (a first load) builds the trigram index once the
    streets are in."""
    sql = statements("streets")
    with deferred_indexes(conn, ["address_street"]) if bulk else nullcontext():
        added = conn.execute(text(sql["refresh_staged" if staged else "refresh"])).scalar_one()
        return int(added)
