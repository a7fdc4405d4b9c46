"""Mobile sites (pylônes), public WiFi bornes and copper-upgrade (MED) sites, with a change log."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import SRID, Base
from geo_service.db.enums import (
    EMPLACEMENTS_BORNE,
    ETATS_SITE_MOBILE,
    PROGRAMMES_MOBILE,
    one_of,
)


class MobileSite(Base):
    """A mobile site: New Deal targeted coverage, legacy centre-bourg pylon or TDF site (IRU)."""

    __tablename__ = "mobile_site"
    __table_args__ = (
        one_of("programme", PROGRAMMES_MOBILE, "programme"),
        one_of("etat", ETATS_SITE_MOBILE, "etat"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee"), index=True)
    programme: Mapped[str] = mapped_column(String(20))
    etat: Mapped[str] = mapped_column(String(20))
    operateurs: Mapped[str | None] = mapped_column(String(200))
    date_signalement: Mapped[date | None] = mapped_column(Date)
    date_arrete: Mapped[date | None] = mapped_column(Date)
    date_mise_en_service: Mapped[date | None] = mapped_column(Date)
    anfr: Mapped[str | None] = mapped_column(String(40))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class WifiBorne(Base):
    """A public WiFi hotspot (WiFi territorial) with its coverage radius and usage."""

    __tablename__ = "wifi_borne"
    __table_args__ = (
        one_of("emplacement", EMPLACEMENTS_BORNE, "emplacement"),
        CheckConstraint("rayon_m > 0 AND rayon_m <= 300", name="rayon"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee"), index=True)
    emplacement: Mapped[str] = mapped_column(String(12))
    rayon_m: Mapped[int] = mapped_column(Integer)
    date_installation: Mapped[date | None] = mapped_column(Date)
    connexions_mois: Mapped[int | None] = mapped_column(Integer)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class MedSite(Base):
    """Montée en débit cabinet and its milestones."""

    __tablename__ = "med_site"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    insee: Mapped[str | None] = mapped_column(ForeignKey("commune.insee"), index=True)
    foyers: Mapped[int] = mapped_column(Integer)
    date_alimentation: Mapped[date | None] = mapped_column(Date)
    date_enedis: Mapped[date | None] = mapped_column(Date)
    date_reception_dalle: Mapped[date | None] = mapped_column(Date)
    date_pose_armoire: Mapped[date | None] = mapped_column(Date)
    date_recette: Mapped[date | None] = mapped_column(Date)
    date_reception_orange: Mapped[date | None] = mapped_column(Date)
    date_ouverture: Mapped[date | None] = mapped_column(Date)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"))
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


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
