"""Responses computed once per data version and then served from memory.

The data version of a territory is the last import that changed data and the last manual edit
(every edit writes `asset_change`), plus today's date (pages show "today"). Every élu page and
the technical map compare a unit with the whole département, so any change of the network can
change any of them: one version per database is the rule, and a write invalidates by moving it
on — nothing to list by hand. Each worker process keeps its own bounded LRU."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import date

from sqlalchemy import Connection, text

_VERSION = text(
    "SELECT (SELECT COALESCE(max(id), 0) FROM import_journal WHERE status IN ('OK', 'PARTIEL')),"
    " (SELECT COALESCE(max(id), 0) FROM asset_change)"
)


def data_version(conn: Connection) -> str:
    """A short string that changes whenever an import or an edit changes the data (or the day)."""
    imports, edits = conn.execute(_VERSION).one()
    return f"{imports}.{edits}.{date.today():%Y%m%d}"


def etag_for(kind: str, key: str, version: str) -> str:
    digest = hashlib.blake2s(f"{kind}\x00{key}\x00{version}".encode(), digest_size=10).hexdigest()
    return f'"{digest}"'


class ResponseCache:
    """A thread-safe LRU of bodies, bounded in bytes; stale versions age out."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, key: str, version: str) -> bytes | None:
        with self._lock:
            body = self._items.get((kind, key, version))
            if body is None:
                self.misses += 1
                return None
            self._items.move_to_end((kind, key, version))
            self.hits += 1
            return body

    def put(self, kind: str, key: str, version: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop((kind, key, version), None)
            if old is not None:
                self.size -= len(old)
            self._items[(kind, key, version)] = body
            self.size += len(body)
            while self.size > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0
