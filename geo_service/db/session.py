"""Engine and session factory built from Settings (never at import time)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from geo_service.settings import Settings, to_sqlalchemy_url


def make_engine(settings_or_url: Settings | str) -> Engine:
    url = (
        settings_or_url.sqlalchemy_url
        if isinstance(settings_or_url, Settings)
        else to_sqlalchemy_url(settings_or_url)
    )
    # Connections are recycled instead of pinged on every checkout (one round trip less per
    # request, which matters for tiles).
    return create_engine(url, pool_recycle=1800, pool_size=10, max_overflow=10, future=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
