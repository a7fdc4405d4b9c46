"""FastAPI dependencies as Annotated aliases (SessionDep, SettingsDep, ConnectionDep)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from geo_service.settings import Settings

T = TypeVar("T")
OWNED = "geo_service.owned"  # session.info key: made by this app for one request


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: made on the event loop (no I/O before its first query), closed
    in a worker thread (giving the connection back is a round trip) — one thread hop fewer per
    request than a sync generator, whose entry would run in the threadpool too."""
    session = request.app.state.sessionmaker()
    session.info[OWNED] = True
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
    session's closing take three — the most-read routes spend more on hops than on SQL)."""

    def run() -> T:
        try:
            return work(session.connection())
        finally:
            if session.info.get(OWNED):
                session.close()

    return await run_in_threadpool(run)


def get_connection(session: Annotated[Session, Depends(get_session)]) -> Connection:
    return session.connection()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
