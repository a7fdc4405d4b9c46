"""The import journal: every file loaded, by whom, its checksum, counts and rejections."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import Base
from geo_service.db.enums import IMPORT_KINDS, IMPORT_STATUSES, one_of


class ImportJournal(Base):
    __tablename__ = "import_journal"
    __table_args__ = (
        one_of("kind", IMPORT_KINDS, "kind"),
        one_of("status", IMPORT_STATUSES, "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    snapshot_date: Mapped[date | None] = mapped_column(Date)
    user_name: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    counts = mapped_column(JSONB, nullable=False, server_default="{}")
    errors = mapped_column(JSONB, nullable=False, server_default="[]")
    # the territory the file was imported into (NULL: an entry older than the column whose
    # territory the data did not tell)
    territory_code: Mapped[str | None] = mapped_column(String(10), index=True)
