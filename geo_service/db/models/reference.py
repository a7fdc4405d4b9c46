"""Territory, communes and EPCI (official reference geography)."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import SRID, Base


class Territory(Base):
    """A loaded territory (one or several départements): its outline and where its data came from."""

    __tablename__ = "territory"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    nom: Mapped[str] = mapped_column(String(120))
    # the départements it covers (one for a département syndicat, several for a région one)
    # (empty when written without it: the département of its code)
    departements: Mapped[list[str]] = mapped_column(ARRAY(String(3)), server_default="{}")
    srid: Mapped[int] = mapped_column(Integer, default=SRID)
    source: Mapped[str] = mapped_column(String(200))
    source_version: Mapped[str] = mapped_column(String(40))
    licence: Mapped[str] = mapped_column(String(300))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)


class Epci(Base):
    """Intercommunality (SIREN), geometry = union of its member communes inside the territory."""

    __tablename__ = "epci"

    # An EPCI may straddle two départements: one row per territory, clipped to it.
    territory_code: Mapped[str] = mapped_column(
        ForeignKey("territory.code", ondelete="CASCADE"), primary_key=True
    )
    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    type: Mapped[str | None] = mapped_column(String(10))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)


class Commune(Base):
    """A commune (INSEE code) with its population, EPCI, mairie and whether it is in the AMII."""

    __tablename__ = "commune"
    __table_args__ = (
        ForeignKeyConstraint(
            ["territory_code", "epci_siren"], ["epci.territory_code", "epci.siren"]
        ),
    )

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    population: Mapped[int] = mapped_column(Integer)
    epci_siren: Mapped[str] = mapped_column(String(9), index=True)
    territory_code: Mapped[str] = mapped_column(
        ForeignKey("territory.code", ondelete="CASCADE"), index=True
    )
    # computed from the INSEE code (3 characters overseas)
    departement: Mapped[str] = mapped_column(
        String(3),
        Computed(
            "CASE WHEN insee LIKE '97%' THEN left(insee, 3) ELSE left(insee, 2) END",
            persisted=True,
        ),
        index=True,
    )
    amii: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    mairie = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)
