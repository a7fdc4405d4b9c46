"""FastAPI dependencies as Annotated aliases (SessionDep, SettingsDep, ConnectionDep)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from geo_service.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessionmaker() as session:
        yield session


def get_connection(session: Annotated[Session, Depends(get_session)]) -> Connection:
    return session.connection()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
