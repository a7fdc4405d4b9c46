"""Rendered pages and tiles shared by the worker processes (see geo_service/cache.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import Base


class PageCache(Base):
    """One rendered body per (kind, key, data version); older versions are purged. UNLOGGED
    (migration 0012): nothing here is worth a WAL write, and a crash merely empties it."""

    __tablename__ = "page_cache"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    data_version: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
