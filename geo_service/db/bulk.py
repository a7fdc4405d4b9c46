"""Bulk loads: build secondary indexes and check foreign keys once, after the rows are in.

Inserting many rows into a table keeps every index up to date row by row and fires one
foreign-key check per row and per key; building the index afterwards (sorted, in one pass) and
validating each foreign key with one join is several times faster. PostgreSQL's documentation
recommends exactly this for large loads ("Populating a Database"). Everything happens inside the
caller's transaction: a failure rolls the indexes and constraints back with the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

_INDEXES = """
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS ddl
FROM pg_index i
WHERE i.indrelid = ANY(CAST(:tables AS regclass[]))
  AND NOT i.indisprimary AND NOT i.indisunique AND NOT i.indisexclusion
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY 1
"""
_FOREIGN_KEYS = """
SELECT k.conrelid::regclass::text AS tbl, k.conname AS name, pg_get_constraintdef(k.oid) AS ddl
FROM pg_constraint k
WHERE k.contype = 'f' AND k.conrelid = ANY(CAST(:tables AS regclass[]))
ORDER BY 1, 2
"""


@dataclass(frozen=True)
class _Deferred:
    indexes: list[tuple[str, str]]
    foreign_keys: list[tuple[str, str, str]]


@contextmanager
def deferred_indexes(conn: Connection, tables: list[str]) -> Iterator[None]:
    """Drop the secondary (non-unique) indexes and the foreign keys of `tables`, let the caller
    load its rows, then create the same indexes and constraints again (each foreign key is
    validated over the whole table by one query). Primary keys and unique indexes stay: they
    guard the load itself."""
    params = {"tables": tables}
    deferred = _Deferred(
        indexes=[(r.name, r.ddl) for r in conn.execute(text(_INDEXES), params)],
        foreign_keys=[(r.tbl, r.name, r.ddl) for r in conn.execute(text(_FOREIGN_KEYS), params)],
    )
    for table, name, _ddl in deferred.foreign_keys:
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ddl in deferred.indexes:
        conn.execute(text(f"DROP INDEX {name}"))
    yield
    conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _name, ddl in deferred.indexes:
        conn.execute(text(ddl))
    for table, name, ddl in deferred.foreign_keys:
        conn.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}'))


def settle(engine: Engine, tables: list[str]) -> None:
    """VACUUM `tables` after a bulk load has committed (outside any transaction, as VACUUM
    must be): their rows marked committed and their pages all-visible now, once, rather than by
    the first query that reads each row (a sequential scan of freshly loaded rows writes every
    page back; the next import's comparison of 2.5 M lines with the premises took ~45 % longer
    on the table just loaded)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM " + ", ".join(tables)))
