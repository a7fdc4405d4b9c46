"""The operator's list of expensive premises (prises onéreuses), as delivered at a given date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import Base


class OperatorExpensive(Base):
    __tablename__ = "operator_expensive"
    __table_args__ = (
        Index("ix_operator_expensive_list", "list_date", "identifiant_immeuble", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    list_date: Mapped[date] = mapped_column(Date)
    identifiant_immeuble: Mapped[str] = mapped_column(String(80), index=True)
    insee: Mapped[str | None] = mapped_column(String(5))
    logements: Mapped[int] = mapped_column(Integer)
    motif: Mapped[str | None] = mapped_column(String(200))
    cout_estime: Mapped[float | None] = mapped_column(Numeric(12, 2))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
