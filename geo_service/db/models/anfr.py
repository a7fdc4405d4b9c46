"""ANFR radio stations (monthly bulk export), kept for the stations whose support lies in the
territory: supports with their position and owner, stations with their operator, emitters with
their system and service date."""

from __future__ import annotations

from datetime import date

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Date, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import SRID, Base
from geo_service.db.enums import TECHNOLOGIES_MOBILE, one_of


class AnfrSupport(Base):
    """A support (pylon, water tower, roof…) from `SUP_SUPPORT`, labels from the reference tables."""

    __tablename__ = "anfr_support"

    sup_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    nature: Mapped[str | None] = mapped_column(String(120))
    proprietaire: Mapped[str | None] = mapped_column(String(120))
    hauteur_m: Mapped[float | None] = mapped_column(Numeric(7, 2))
    adresse: Mapped[str | None] = mapped_column(String(400))
    code_postal: Mapped[str | None] = mapped_column(String(5))
    insee: Mapped[str | None] = mapped_column(String(5), index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class AnfrStation(Base):
    """A station (`SUP_STATION`): one operator's installation, the key ARCEP files reuse."""

    __tablename__ = "anfr_station"

    sta_nm_anfr: Mapped[str] = mapped_column(String(20), primary_key=True)
    exploitant: Mapped[str | None] = mapped_column(String(120), index=True)
    date_implantation: Mapped[date | None] = mapped_column(Date)
    date_modif: Mapped[date | None] = mapped_column(Date)
    date_en_service: Mapped[date | None] = mapped_column(Date)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)


class AnfrStationSupport(Base):
    """Which support(s) carry a station (a `SUP_SUPPORT` row names both)."""

    __tablename__ = "anfr_station_support"

    sta_nm_anfr: Mapped[str] = mapped_column(
        ForeignKey("anfr_station.sta_nm_anfr", ondelete="CASCADE"), primary_key=True
    )
    sup_id: Mapped[int] = mapped_column(
        ForeignKey("anfr_support.sup_id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AnfrEmetteur(Base):
    """An emitter (`SUP_EMETTEUR`): a system such as `LTE 800`, in service from its date."""

    __tablename__ = "anfr_emetteur"
    __table_args__ = (one_of("technologie", TECHNOLOGIES_MOBILE, "technologie"),)

    emr_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sta_nm_anfr: Mapped[str] = mapped_column(
        ForeignKey("anfr_station.sta_nm_anfr", ondelete="CASCADE"), index=True
    )
    systeme: Mapped[str] = mapped_column(String(60))
    technologie: Mapped[str] = mapped_column(String(5))
    aer_id: Mapped[int | None] = mapped_column(BigInteger)
    date_service: Mapped[date | None] = mapped_column(Date)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)


__all__ = ["AnfrEmetteur", "AnfrStation", "AnfrStationSupport", "AnfrSupport"]
