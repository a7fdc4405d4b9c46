"""Montée en débit (copper upgrade) cabinets and their milestones."""

from __future__ import annotations

from datetime import date

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import SRID, Base


class MedSite(Base):
    """A MED cabinet: milestones in order (électricité → Enedis → dalle → armoire → recette →
    réception Orange → ouverture commerciale); its state is derived from them, as of any date.
    The opening defaults to réception Orange + 12 weeks (`ouverture_calculee` says so)."""

    __tablename__ = "med_site"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee"), index=True)
    nra: Mapped[str | None] = mapped_column(String(20))
    foyers: Mapped[int] = mapped_column(Integer)
    date_alimentation: Mapped[date | None] = mapped_column(Date)
    date_enedis: Mapped[date | None] = mapped_column(Date)
    date_reception_dalle: Mapped[date | None] = mapped_column(Date)
    date_pose_armoire: Mapped[date | None] = mapped_column(Date)
    date_recette: Mapped[date | None] = mapped_column(Date)
    date_reception_orange: Mapped[date | None] = mapped_column(Date)
    date_ouverture: Mapped[date | None] = mapped_column(Date)
    ouverture_calculee: Mapped[bool] = mapped_column(Boolean, server_default="false")
    cause_blocage: Mapped[str | None] = mapped_column(String(500))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
