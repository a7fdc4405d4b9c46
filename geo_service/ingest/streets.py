"""Keep the street table of the address search in step with the premises (run by each IPE
import; cheap when no street is new)."""

from __future__ import annotations

from contextlib import nullcontext

from sqlalchemy import Connection, text

from geo_service.db.bulk import deferred_indexes
from geo_service.sql import statements


def refresh_streets(conn: Connection, *, import_id: int | None = None, bulk: bool = False) -> int:
    """Add the streets of the premises that the street table lacks and return how many were
    added. With `import_id`, look only at the premises that import wrote (a new street comes with
    a new or changed premise): no hashing of the whole premise table at each import. `bulk` (a
    first load) builds the trigram index once the streets are in."""
    sql = statements("streets")
    with deferred_indexes(conn, ["address_street"]) if bulk else nullcontext():
        if import_id is None:
            return max(conn.execute(text(sql["refresh"])).rowcount, 0)
        return max(conn.execute(text(sql["refresh_import"]), {"j": import_id}).rowcount, 0)
