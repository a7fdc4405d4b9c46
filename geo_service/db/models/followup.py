"""Follow-up data kept by the syndicat: RAD procedure, contractual targets, reference addresses,
citizen reports."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import SRID, Base
from geo_service.db.enums import ETATS_RAD, STATUTS_SIGNALEMENT, one_of


class RadProcedure(Base):
    """Where a raccordable-à-la-demande address stands: candidate → listed in the contract
    amendment → requested → built (changes logged in asset_change)."""

    __tablename__ = "rad_procedure"
    __table_args__ = (one_of("etape", ETATS_RAD, "etape"),)

    identifiant_immeuble: Mapped[str] = mapped_column(String(80), primary_key=True)
    etape: Mapped[str] = mapped_column(String(20))
    date_avenant: Mapped[date | None] = mapped_column(Date)
    date_demande: Mapped[date | None] = mapped_column(Date)
    date_construction: Mapped[date | None] = mapped_column(Date)
    commentaire: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ContractTarget(Base):
    """Contractual target of logements raccordables at a date for a unit (data, editable)."""

    __tablename__ = "contract_target"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    territory_code: Mapped[str] = mapped_column(ForeignKey("territory.code"), index=True)
    level: Mapped[str] = mapped_column(String(20), default="departement")
    code: Mapped[str] = mapped_column(String(40))
    target_date: Mapped[date] = mapped_column(Date)
    raccordables: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ReferenceAddress(Base):
    """An address of a reference file (BAN-like), to find premises missing from the operator's;
    a BAN import also files it under its street of the address search (`street_id`)."""

    __tablename__ = "reference_address"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    numero: Mapped[str | None] = mapped_column(String(20))
    rep: Mapped[str | None] = mapped_column(String(20))
    nom_voie: Mapped[str | None] = mapped_column(String(200))
    code_postal: Mapped[str | None] = mapped_column(String(5))
    insee: Mapped[str] = mapped_column(String(5), index=True)
    nom_commune: Mapped[str | None] = mapped_column(String(200))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("address_street.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class Signalement(Base):
    """A citizen's report of a forgotten address; contact details never leave the staff API."""

    __tablename__ = "signalement"
    __table_args__ = (one_of("statut", STATUTS_SIGNALEMENT, "statut"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    adresse: Mapped[str] = mapped_column(String(300))
    insee: Mapped[str | None] = mapped_column(String(5))
    description: Mapped[str | None] = mapped_column(String(2000))
    contact: Mapped[str | None] = mapped_column(String(200))
    statut: Mapped[str] = mapped_column(String(20), default="NOUVEAU")
    premise_identifiant: Mapped[str | None] = mapped_column(String(80))
    territory_code: Mapped[str | None] = mapped_column(String(10), index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(80))
    reponse: Mapped[str | None] = mapped_column(String(2000))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=True)
