"""Responses computed once per data version, then served from two levels of cache.

The data version of a territory is the last import that changed data and the last manual edit
(every edit writes `asset_change`), plus today's date (pages show "today"). Every élu page and
the technical map compare a unit with the whole département, so any change of the network can
change any of them: one version per database is the rule, and a write invalidates by moving it
on — nothing to list by hand.

First level: each worker process's bounded LRU (`ResponseCache`). Second level: the UNLOGGED
table `page_cache`, shared by every worker and by `geo-service cache warm`, so an expensive page
is rendered once per version for the whole server, not once per process; its older versions
are purged when a newer one is written."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text

T = TypeVar("T")

_VERSION = text(
    "SELECT (SELECT COALESCE(max(id), 0) FROM import_journal WHERE status IN ('OK', 'PARTIEL')),"
    " (SELECT COALESCE(max(id), 0) FROM asset_change)"
)
_SHARED_GET = text(
    "SELECT body FROM page_cache WHERE kind = :kind AND key = :key AND data_version = :version"
)
_SHARED_PUT = text(
    "INSERT INTO page_cache (kind, key, data_version, body) "
    "VALUES (:kind, :key, :version, :body) ON CONFLICT DO NOTHING"
)
_SHARED_VERSIONS = text("SELECT DISTINCT data_version FROM page_cache")
_SHARED_SIZES = text(
    "SELECT kind, key, length(body) FROM page_cache WHERE data_version = :version "
    "ORDER BY created_at, kind, key"
)
_SHARED_BODIES = text(
    "SELECT key, body FROM page_cache WHERE data_version = :version AND kind = :kind "
    "AND key = ANY(CAST(:keys AS text[]))"
)
PRELOAD_SHARE = 0.75  # of a worker's memory cache, filled from the shared table at most
PRELOAD_BATCH = 50
_SHARED_PURGE = text(
    "DELETE FROM page_cache WHERE data_version = ANY(CAST(:versions AS text[])) "
    "OR created_at < now() - interval '2 days'"
)


@functools.cache
def code_version() -> str:
    """A digest of the package's code, templates and SQL: pages rendered by another release of
    the service are not served after an upgrade (the shared cache outlives the processes)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2s(digest_size=4)
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".html", ".sql", ".toml", ".js", ".css") and path.is_file():
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def data_version(conn: Connection) -> str:
    """A short string that changes whenever an import or an edit changes the data (or the day,
    or the service's code)."""
    imports, edits = conn.execute(_VERSION).one()
    return f"{imports}.{edits}.{date.today():%Y%m%d}.{code_version()}"


def version_order(version: str) -> tuple[int, int, int] | None:
    """(day, import, edit) of a version, to tell older ones; None for a malformed one."""
    parts = version.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        return None
    imports, edits, day = (int(p) for p in parts[:3])
    return day, imports, edits


def is_stale(stored: str, current: str) -> bool:
    """True when `stored` is older data than `current`, or was rendered by other code."""
    mine, theirs = version_order(current), version_order(stored)
    if mine is None:
        return False
    return (
        theirs is None or theirs < mine or stored.rsplit(".", 1)[-1] != current.rsplit(".", 1)[-1]
    )


def etag_for(kind: str, key: str, version: str) -> str:
    digest = hashlib.blake2s(f"{kind}\x00{key}\x00{version}".encode(), digest_size=10).hexdigest()
    return f'"{digest}"'


class ResponseCache:
    """A thread-safe LRU of bodies, bounded in bytes; stale versions age out. It also counts
    the second level's hits and remembers the last version purged there."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.shared_hits = 0
        self.renders = 0
        self.purged_version: str | None = None
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

    def holds(self, kind: str, key: str, version: str) -> bool:
        """Whether the body is here (not counted as a hit or a miss)."""
        with self._lock:
            return (kind, key, version) in self._items


def shared_get(conn: Connection, kind: str, key: str, version: str) -> bytes | None:
    """The body another process (or `cache warm`) stored for this version, if any."""
    body = conn.execute(_SHARED_GET, {"kind": kind, "key": key, "version": version}).scalar()
    return bytes(body) if body is not None else None


def shared_put(engine: Engine, rows: list[tuple[str, str, str, bytes]]) -> None:
    """Store (kind, key, version, body) rows for every process, in a transaction of their own
    (the request's is read-only and rolled back); a lost cache row costs a render, hence no
    wait for the WAL flush."""
    if not rows:
        return
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(
            _SHARED_PUT,
            [{"kind": k, "key": key, "version": v, "body": b} for k, key, v, b in rows],
        )


def preload(engine: Engine, store: ResponseCache, version: str) -> int:
    """Copy into this worker's memory the shared table's bodies of `version` it lacks, oldest
    first, up to PRELOAD_SHARE of its size: a worker that starts, or meets a new version, then
    serves its first visits from memory instead of reading a megabyte page from PostgreSQL
    under load. Returns how many bodies were copied."""
    budget = int(store.max_bytes * PRELOAD_SHARE) - store.size
    wanted: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for kind, key, length in conn.execute(_SHARED_SIZES, {"version": version}):
            if length > budget or length > store.max_bytes // 4:
                continue
            if not store.holds(kind, key, version):
                wanted.setdefault(kind, []).append(key)
                budget -= length
        copied = 0
        for kind, keys in wanted.items():
            for start in range(0, len(keys), PRELOAD_BATCH):
                batch = keys[start : start + PRELOAD_BATCH]
                params = {"version": version, "kind": kind, "keys": batch}
                for key, body in conn.execute(_SHARED_BODIES, params):
                    store.put(kind, key, version, bytes(body))
                    copied += 1
        conn.commit()
    return copied


def purge_older(engine: Engine, version: str) -> int:
    """Delete the second level's rows of versions older than `version` (and any row older than
    two days); a newer version written meanwhile by another process is kept."""
    current = version_order(version)
    if current is None:
        return 0
    with engine.begin() as conn:
        stored = conn.execute(_SHARED_VERSIONS).scalars().all()
        older = [v for v in stored if is_stale(v, version)]
        result = conn.execute(_SHARED_PURGE, {"versions": older})
    return int(result.rowcount or 0)


# --- results shared by the pages of one warm-up -------------------------------------------------

_shared_results: ContextVar[dict[str, Any] | None] = ContextVar("shared_results", default=None)


@contextmanager
def territory_results() -> Iterator[None]:
    """Within this block (one snapshot, one data version: `cache warm`), territory-wide results
    that every élu page needs are computed once instead of once per page."""
    token = _shared_results.set({})
    try:
        yield
    finally:
        _shared_results.reset(token)


def once(func: Callable[..., T], conn: Connection, *args: Any, **kwargs: Any) -> T:
    """func(conn, *args, **kwargs); inside `territory_results()`, computed once per arguments.
    The result is shared: callers must not modify it."""
    store = _shared_results.get()
    if store is None:
        return func(conn, *args, **kwargs)
    key = f"{func.__module__}.{func.__qualname__}{_frozen(args)!r}{_frozen(kwargs)!r}"
    if key not in store:
        store[key] = func(conn, *args, **kwargs)
    return store[key]  # type: ignore[no-any-return]


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        items = [_frozen(v) for v in value]
        return tuple(sorted(items, key=repr) if isinstance(value, set | frozenset) else items)
    return value
