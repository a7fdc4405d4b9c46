"""The streets of a territory held in memory for the address search: pg_trgm's similarity
computed for every street at once with numpy, where the trigram index of PostgreSQL walks
nearly all its pages for a typical query (10-15 ms for a whole address in the Lot, the main
cost of `quand ?` by address and of every suggestion).

The similarity is pg_trgm's: words are runs of letters and digits, each padded with two spaces
before and one after, cut into the set of their trigrams; similarity = shared / (|a| + |b| -
shared), in single precision as PostgreSQL computes it. The streets are read once per process
and territory, and again when the street table has rows the index lacks (the table only grows:
a smaller maximum id means a restored or rolled-back database, read again too). Candidates are
re-read from the table, so a street that vanished is simply not found. A territory with more
streets than `MAX_STREETS` keeps the search in PostgreSQL (memory stays bounded per worker).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, text

MAX_STREETS = 400_000  # ~15 trigrams per street: ~25 MB of postings at most per worker
_WORD = re.compile(r"[^\W_]+")

_STREETS = text(
    "SELECT a.id, a.search_text FROM address_street a "
    "JOIN commune c ON c.insee = a.insee AND c.territory_code = :t ORDER BY a.id"
)
_COUNT = text(
    "SELECT count(*) FROM address_street a "
    "JOIN commune c ON c.insee = a.insee AND c.territory_code = :t"
)


def trigrams(value: str) -> set[str]:
    """pg_trgm's trigram set of an already lower-cased text."""
    found: set[str] = set()
    for word in _WORD.findall(value):
        padded = f"  {word} "
        found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return found


@dataclass(frozen=True)
class StreetIndex:
    """Street ids and, per trigram, the rows (positions in `ids`) holding it."""

    max_id: int
    ids: np.ndarray  # int64, ascending
    sizes: np.ndarray  # number of trigrams per street
    postings: dict[str, np.ndarray]

    @classmethod
    def build(cls, rows: list[tuple[int, str]], max_id: int) -> StreetIndex:
        lists: dict[str, list[int]] = {}
        sizes = np.zeros(len(rows), dtype=np.int32)
        for row, (_id, search_text) in enumerate(rows):
            grams = trigrams(search_text or "")
            sizes[row] = len(grams)
            for gram in grams:
                lists.setdefault(gram, []).append(row)
        return cls(
            max_id=max_id,
            ids=np.array([r[0] for r in rows], dtype=np.int64),
            sizes=sizes,
            postings={g: np.array(v, dtype=np.int32) for g, v in lists.items()},
        )

    def best(self, query: str, *, threshold: float, count: int) -> list[tuple[int, float]]:
        """The `count` streets most similar to `query` (lower-cased and unaccented) scoring at
        least `threshold`, as (id, similarity), by similarity then id."""
        grams = trigrams(query)
        hits = [self.postings[g] for g in grams if g in self.postings]
        if not grams or not hits or not len(self.ids):
            return []
        shared = np.bincount(np.concatenate(hits), minlength=len(self.ids)).astype(np.float32)
        score = shared / (np.float32(len(grams)) + self.sizes.astype(np.float32) - shared)
        kept = np.flatnonzero(score >= np.float32(threshold))
        if not len(kept):
            return []
        # by score descending, then id ascending (ids ascend with the rows)
        order = np.lexsort((kept, -score[kept]))[:count]
        return [(int(self.ids[kept[i]]), float(score[kept[i]])) for i in order]


_lock = threading.Lock()
_indexes: dict[tuple[str, str], StreetIndex] = {}
_too_large: set[tuple[str, str]] = set()


def _database_key(conn: Connection) -> str:
    url = conn.engine.url
    return f"{url.host}:{url.port}/{url.database}"


def street_index(conn: Connection, territory: str, max_id: int) -> StreetIndex | None:
    """The territory's index, up to date with the table's `max_id`; None when the territory is
    too large for memory, or while another thread of this process reads the streets."""
    key = (_database_key(conn), territory)
    if key in _too_large:
        return None
    index = _indexes.get(key)
    if index is not None and index.max_id == max_id:
        return index
    if not _lock.acquire(blocking=False):
        return None  # being read by another request: this one searches in PostgreSQL
    try:
        index = _indexes.get(key)
        if index is not None and index.max_id == max_id:
            return index
        if conn.execute(_COUNT, {"t": territory}).scalar_one() > MAX_STREETS:
            _too_large.add(key)
            return None
        rows = [(int(r[0]), str(r[1] or "")) for r in conn.execute(_STREETS, {"t": territory})]
        index = StreetIndex.build(rows, max_id)
        _indexes[key] = index
        return index
    finally:
        _lock.release()


def forget() -> None:
    """Drop every index of this process (tests, or a database replaced under the app)."""
    with _lock:
        _indexes.clear()
        _too_large.clear()
