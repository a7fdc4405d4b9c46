"""The change log of register objects (mobile sites, bornes, MED, PM edits…)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import Base


class AssetChange(Base):
    """History of every change to a register row (mobile site, borne, MED, PM edits)."""

    __tablename__ = "asset_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(40))
    object_key: Mapped[str] = mapped_column(String(80), index=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    valid_from: Mapped[date] = mapped_column(Date)
    changed_by: Mapped[str] = mapped_column(String(120))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    before = mapped_column(JSONB, nullable=True)
    after = mapped_column(JSONB, nullable=True)
