"""Mobile sites (pylônes) with their dated lifecycle, their ANFR stations, and named layers
(the regional natural park) they are checked against."""

from __future__ import annotations

from datetime import date

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Date, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import SRID, Base
from geo_service.db.enums import ETATS_SITE_MOBILE, LIENS_STATION, PROGRAMMES_MOBILE, one_of


class MobileSite(Base):
    """A mobile site: New Deal targeted coverage, legacy centre-bourg pylon, TDF site (IRU)…

    Each stage has its date (`date_signalement` is the zone signalée); `etat` is the latest
    stage reached today, the state as of another date is derived from the dates. The legal
    deadline is the arrêté's publication + 24 months (computed, not stored)."""

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
    # operators hosted, as their names (ORANGE, SFR, FREE MOBILE, BOUYGUES TELECOM), comma-separated
    operateurs: Mapped[str | None] = mapped_column(String(200))
    op_leader: Mapped[str | None] = mapped_column(String(40))
    date_signalement: Mapped[date | None] = mapped_column(Date)
    date_carence: Mapped[date | None] = mapped_column(Date)
    date_retenue: Mapped[date | None] = mapped_column(Date)
    date_arrete: Mapped[date | None] = mapped_column(Date)
    num_arrete: Mapped[str | None] = mapped_column(String(60))
    date_construction: Mapped[date | None] = mapped_column(Date)
    date_mise_en_service: Mapped[date | None] = mapped_column(Date)
    date_abandon: Mapped[date | None] = mapped_column(Date)
    # legacy free-text ANFR number(s) of the register; the links live in mobile_site_station
    anfr: Mapped[str | None] = mapped_column(String(40))
    nom_zone: Mapped[str | None] = mapped_column(String(200))
    proprietaire: Mapped[str | None] = mapped_column(String(120))
    date_fin_iru: Mapped[date | None] = mapped_column(Date)
    renouvellement_iru: Mapped[str | None] = mapped_column(String(200))
    date_dernier_controle: Mapped[date | None] = mapped_column(Date)
    opposition: Mapped[str | None] = mapped_column(String(1000))
    # the operators' name of a New Deal site (DCC `nom_site_operateurs`, e.g. ZPG46601): the same
    # code as the "Mon réseau mobile" sites file's `id_site_partage`
    nom_site_operateurs: Mapped[str | None] = mapped_column(String(40), index=True)
    # where date_mise_en_service comes from: NULL (the register), ANFR (the linked stations'
    # emitters) or DCC (the quarter of the ARCEP file first flagging it in service, "at the latest")
    source_mise_en_service: Mapped[str | None] = mapped_column(String(8))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class MobileSiteStation(Base):
    """An ANFR station serving a site, and how the link was made (ARCEP file, proximity, register)."""

    __tablename__ = "mobile_site_station"
    __table_args__ = (one_of("methode", LIENS_STATION, "methode"),)

    site_code: Mapped[str] = mapped_column(
        ForeignKey("mobile_site.code", ondelete="CASCADE"), primary_key=True
    )
    sta_nm_anfr: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    methode: Mapped[str] = mapped_column(String(12))
    distance_m: Mapped[float | None] = mapped_column(Float)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)


class NamedLayer(Base):
    """A polygon of a named layer of a territory (`import couche pnr …`), with its attributes."""

    __tablename__ = "named_layer"
    __table_args__ = (UniqueConstraint("territory_code", "nom", "feature_no", name="feature"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    territory_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("territory.code"), index=True
    )
    nom: Mapped[str] = mapped_column(String(40))
    feature_no: Mapped[int] = mapped_column(BigInteger)
    libelle: Mapped[str | None] = mapped_column(String(200))
    attributs = mapped_column(JSONB, nullable=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)
