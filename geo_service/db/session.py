"""Engine and session factory built from Settings (never at import time).

The pool is per process: each `geo-service serve` worker holds at most POOL_SIZE + MAX_OVERFLOW
connections (2 workers → 40, well under PostgreSQL's default max_connections of 100). A checkout
waits at most POOL_TIMEOUT seconds (then sqlalchemy.exc.TimeoutError, answered 503), and a
connection is pinged when checked out, so that connections left dead by a PostgreSQL restart are
replaced — except, for the hot read routes (inside `hot_reads()`), a connection back in the pool
for less than PING_AFTER_IDLE_S: under load the ping cost them a round trip per request (about a
tenth of the app's time at capacity). Those routes run their work once more on a new connection
when the first one turns out dead (`geo_service.api.deps.in_thread`); SQLAlchemy then
invalidates the whole pool.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from geo_service.settings import Settings, to_sqlalchemy_url

POOL_SIZE = 10
MAX_OVERFLOW = 10
POOL_TIMEOUT = 5.0  # seconds a request may wait for a connection
CONNECT_TIMEOUT = 5  # seconds to open one (a server that does not answer)
APPLICATION_NAME = "geo_service"
# The app's reads are a few statements run again and again with other values (« quand ? »,
# suggestions, tiles): PostgreSQL plans each run of a prepared one anew while its generic plan
# looks dearer on paper, which costs more than running it (1.4 of the 2.3 ms of the « quand ? »
# statement); the generic plan is used at once.
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"
PING_AFTER_IDLE_S = 1.0  # inside hot_reads(), a connection idle for longer is still pinged
_HOT_READS: ContextVar[bool] = ContextVar("geo_service_hot_reads", default=False)


@contextmanager
def hot_reads() -> Iterator[None]:
    """Checkouts in this block skip the ping of a recently used connection: the caller runs its
    read again on a new connection if the one it got is dead."""
    token = _HOT_READS.set(True)
    try:
        yield
    finally:
        _HOT_READS.reset(token)


def make_engine(
    settings_or_url: Settings | str,
    *,
    application_name: str | None = None,
    pooled: bool = True,
    generic_plans: bool = False,
) -> Engine:
    """The engine of the app, the CLI and the tests; `pooled=False` opens a connection per use
    and keeps none (the cache writer's: rare writes that must not wait for the request pool).
    `generic_plans` (the web app's): a statement psycopg has prepared (run 5 times on a
    connection) is planned once, not again at each run (GENERIC_PLANS)."""
    url = (
        settings_or_url.sqlalchemy_url
        if isinstance(settings_or_url, Settings)
        else to_sqlalchemy_url(settings_or_url)
    )
    connect_args = {
        "connect_timeout": CONNECT_TIMEOUT,
        "application_name": application_name or APPLICATION_NAME,
    }
    if generic_plans:
        connect_args["options"] = GENERIC_PLANS
    if not pooled:
        return create_engine(url, poolclass=NullPool, connect_args=connect_args)
    # recycling bounds a connection's age; the checkout ping (below) replaces those the server
    # closed (restart, failover)
    kept = POOL_SIZE
    if isinstance(settings_or_url, Settings):  # the app's requests at once, and a few others
        kept = max(POOL_SIZE, settings_or_url.requetes_simultanees + 4)
    engine = create_engine(
        url,
        pool_recycle=1800,
        pool_size=kept,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT,
        connect_args=connect_args,
    )
    ping_at_checkout(engine)
    return engine


def ping_at_checkout(engine: Engine, idle_s: float = PING_AFTER_IDLE_S) -> None:
    """Ping a pooled connection at checkout (inside `hot_reads()`: only when it sat idle for
    `idle_s` seconds or more); a dead one is discarded and the pool hands out (or opens)
    another (SQLAlchemy's disconnect handling: DisconnectionError at checkout)."""

    @event.listens_for(engine.pool, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        record.info["geo_service_returned"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _taken(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get("geo_service_returned")
        if returned is None:
            return  # just opened
        if _HOT_READS.get() and time.monotonic() - returned < idle_s:
            return  # in constant use, and the caller retries on a dead one
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: the connection is not to be used
            raise sa_exc.DisconnectionError(f"connexion morte : {exc}") from exc


def pool_capacity(engine: Engine) -> int:
    """How many connections the engine's pool may hand out at once."""
    pool = engine.pool
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", 0)
    return int(size() + max(overflow, 0)) if callable(size) else POOL_SIZE + MAX_OVERFLOW


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
