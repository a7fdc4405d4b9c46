"""Public WiFi bornes (WiFi territorial) with their dated lifecycle and monthly usage."""

from __future__ import annotations

from datetime import date

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import SRID, Base
from geo_service.db.enums import EMPLACEMENTS_BORNE, ETATS_BORNE, one_of


class WifiBorne(Base):
    """A borne: each stage has its date; `etat` is the stage reached today (as of another date
    it is derived from the dates); the coverage is a disc of `rayon_m` metres (default 150)."""

    __tablename__ = "wifi_borne"
    __table_args__ = (
        one_of("emplacement", EMPLACEMENTS_BORNE, "emplacement"),
        one_of("etat", ETATS_BORNE, "etat"),
        CheckConstraint("rayon_m > 0 AND rayon_m <= 300", name="rayon"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee"), index=True)
    emplacement: Mapped[str] = mapped_column(String(12))
    rayon_m: Mapped[int] = mapped_column(Integer, server_default="150")
    etat: Mapped[str] = mapped_column(String(20), server_default="EN_SERVICE")
    operateur: Mapped[str | None] = mapped_column(String(120))
    contrat: Mapped[str | None] = mapped_column(String(120))
    adresse: Mapped[str | None] = mapped_column(String(300))
    date_deliberation: Mapped[date | None] = mapped_column(Date)
    date_programmation: Mapped[date | None] = mapped_column(Date)
    date_installation: Mapped[date | None] = mapped_column(Date)
    date_mise_en_service: Mapped[date | None] = mapped_column(Date)
    date_fin_contrat: Mapped[date | None] = mapped_column(Date)
    date_retrait: Mapped[date | None] = mapped_column(Date)
    # legacy register field; monthly figures live in wifi_usage
    connexions_mois: Mapped[int | None] = mapped_column(Integer)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class WifiUsage(Base):
    """One month of a borne's usage, from the operator portal's export (`import wifi-stats`)."""

    __tablename__ = "wifi_usage"
    __table_args__ = (
        CheckConstraint("sessions >= 0 AND utilisateurs >= 0", name="positifs"),
        CheckConstraint("extract(day FROM mois) = 1", name="mois"),
    )

    borne_code: Mapped[str] = mapped_column(
        ForeignKey("wifi_borne.code", ondelete="CASCADE"), primary_key=True
    )
    mois: Mapped[date] = mapped_column(Date, primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer)
    utilisateurs: Mapped[int] = mapped_column(Integer)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
