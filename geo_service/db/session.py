"""Engine and session factory built from Settings (never at import time).

The pool is per process: each `geo-service serve` worker holds at most POOL_SIZE + MAX_OVERFLOW
connections (2 workers → 40, well under PostgreSQL's default max_connections of 100). A checkout
waits at most POOL_TIMEOUT seconds (then sqlalchemy.exc.TimeoutError, answered 503), and every
checkout is pinged so that connections left dead by a PostgreSQL restart are replaced.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from geo_service.settings import Settings, to_sqlalchemy_url

POOL_SIZE = 10
MAX_OVERFLOW = 10
POOL_TIMEOUT = 5.0  # seconds a request may wait for a connection
CONNECT_TIMEOUT = 5  # seconds to open one (a server that does not answer)
APPLICATION_NAME = "geo_service"


def make_engine(
    settings_or_url: Settings | str, *, application_name: str | None = None, pooled: bool = True
) -> Engine:
    """The engine of the app, the CLI and the tests; `pooled=False` opens a connection per use
    and keeps none (the cache writer's: rare writes that must not wait for the request pool)."""
    url = (
        settings_or_url.sqlalchemy_url
        if isinstance(settings_or_url, Settings)
        else to_sqlalchemy_url(settings_or_url)
    )
    connect_args = {
        "connect_timeout": CONNECT_TIMEOUT,
        "application_name": application_name or APPLICATION_NAME,
    }
    if not pooled:
        return create_engine(url, poolclass=NullPool, connect_args=connect_args)
    # pre-ping: one short round trip per checkout, the price of never handing out a connection
    # the server closed (restart, failover); recycling still bounds a connection's age.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT,
        connect_args=connect_args,
    )


def pool_capacity(engine: Engine) -> int:
    """How many connections the engine's pool may hand out at once."""
    pool = engine.pool
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", 0)
    return int(size() + max(overflow, 0)) if callable(size) else POOL_SIZE + MAX_OVERFLOW


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
