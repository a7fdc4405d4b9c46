"""FastAPI dependencies as Annotated aliases (SessionDep, SettingsDep, ConnectionDep)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from geo_service.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: made on the event loop (no I/O before its first query), closed
    in a worker thread (giving the connection back is a round trip) — one thread hop fewer per
    request than a sync generator, whose entry would run in the threadpool too."""
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)  # not abandoned on cancellation (AnyIO)


def get_connection(session: Annotated[Session, Depends(get_session)]) -> Connection:
    return session.connection()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
