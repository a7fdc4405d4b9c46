"""FastAPI dependencies as Annotated aliases (SessionDep, SettingsDep, ConnectionDep)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar, cast

import psycopg
from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from geo_service.api.errors_http import is_disconnect
from geo_service.db.replicas import Replica, ReplicaSet, is_gone
from geo_service.db.session import hot_reads
from geo_service.settings import Settings

T = TypeVar("T")
OWNED = "geo_service.owned"  # session.info key: made by this app for one request
REPLICAS = "geo_service.replicas"  # session.info key: the app's ReplicaSet, if any


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: made on the event loop (no I/O before its first query), closed
    in a worker thread (giving the connection back is a round trip) — one thread hop fewer per
    request than a sync generator, whose entry would run in the threadpool too."""
    session = request.app.state.sessionmaker()
    session.info[OWNED] = True
    replicas = getattr(request.app.state, "replicas", None)
    if replicas is not None:
        session.info[REPLICAS] = replicas
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)  # not abandoned on cancellation (AnyIO)
        else:
            session.close()  # holds no connection (given back by `in_thread`): no I/O


async def in_thread(session: Session, work: Callable[[Connection], T]) -> T:
    """The whole database work of a request in one worker thread: the connection is taken,
    used and given back there (one thread hop where a sync dependency, a sync endpoint and the
    session's closing take three — the most-read routes spend more on hops than on SQL).
    `work` must only read: it runs on a replica when one is healthy (again on the primary if
    the replica fails under it)."""

    def run() -> T:
        try:
            # reads on a healthy replica when the app has some (never a test's own session)
            replicas = session.info.get(REPLICAS) if session.info.get(OWNED) else None
            replica = replicas.pick() if replicas is not None else None
            if replicas is not None and replica is not None:
                served, result = on_replica(replicas, replica, work)
                if served:
                    return cast(T, result)
            try:
                with hot_reads():
                    return read_and_commit(session, work)
            except sa_exc.DBAPIError as exc:
                # a connection the server closed since its last use (restart, failover): the
                # pool is invalidated with it; the read runs once more on a new connection
                if not (exc.connection_invalidated and session.info.get(OWNED)):
                    raise
                session.close()
                return read_and_commit(session, work)
        finally:
            if session.info.get(OWNED):
                session.close()

    return await run_in_threadpool(run)


def read_and_commit(session: Session, work: Callable[[Connection], T]) -> T:
    """`work` on the session's connection, its transaction then ended by COMMIT when the
    session is the request's own: psycopg forgets a connection's prepared statements at every
    ROLLBACK, so a read ended that way would parse and plan its queries again on each request
    (twice the PostgreSQL time of « quand ? »)."""
    result = work(session.connection())
    if session.info.get(OWNED):
        session.commit()
    return result


def on_replica(
    replicas: ReplicaSet, replica: Replica, work: Callable[[Connection], T]
) -> tuple[bool, T | None]:
    """`work` (read-only) on a replica's connection; (False, None) when the replica failed
    under it (gone: then skipped until checked again; pool busy; query cancelled there by a
    recovery conflict): the caller runs it again on the primary."""
    try:
        with replica.engine.connect() as conn:
            result = work(conn)
            conn.commit()  # not ROLLBACK, which drops the prepared statements (above)
    except sa_exc.TimeoutError:
        return False, None  # its pool is busy: this read on the primary
    except (sa_exc.DBAPIError, psycopg.Error) as exc:
        if not is_disconnect(exc):
            raise
        if is_gone(exc):
            replicas.mark_down(replica, exc)
        return False, None
    replica.served += 1
    return True, result


def get_connection(session: Annotated[Session, Depends(get_session)]) -> Connection:
    return session.connection()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
