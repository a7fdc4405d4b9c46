"""ARCEP's building-level view of the fibre roll-out ("Carte fibre", quarterly), kept per
territory and per quarter so that it can be compared with the operator's IPE as of that date."""

from __future__ import annotations

from datetime import date

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import SRID, Base


class ArcepImmeuble(Base):
    """One building of an ARCEP file (its `imb_id` is the operator's IdentifiantImmeuble)."""

    __tablename__ = "arcep_immeuble"
    __table_args__ = (UniqueConstraint("territory_code", "date_etat", "imb_id", name="immeuble"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    territory_code: Mapped[str] = mapped_column(String(16), ForeignKey("territory.code"))
    date_etat: Mapped[date] = mapped_column(Date)
    imb_id: Mapped[str] = mapped_column(String(80))
    imb_etat: Mapped[str | None] = mapped_column(String(40))
    pm_ref: Mapped[str | None] = mapped_column(String(80))
    pm_etat: Mapped[str | None] = mapped_column(String(40))
    code_insee: Mapped[str | None] = mapped_column(String(5), index=True)
    adresse: Mapped[str | None] = mapped_column(String(400))
    type_imb: Mapped[str | None] = mapped_column(String(40))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class FermetureCuivre(Base):
    """The copper switch-off calendar of a building (ARCEP `base_imb_fc`), with the commune it
    lies in (from the premise of the same IdentifiantImmeuble, else from the file) so that a
    commune's calendar is read without a join."""

    __tablename__ = "fermeture_cuivre"

    territory_code: Mapped[str] = mapped_column(
        String(16), ForeignKey("territory.code"), primary_key=True
    )
    immeuble_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    num_lot_fz: Mapped[str | None] = mapped_column(String(40))
    fermeture_technique: Mapped[date | None] = mapped_column(Date)
    fermeture_com_zone: Mapped[date | None] = mapped_column(Date)
    fermeture_com_addr: Mapped[date | None] = mapped_column(Date)
    elig_fo: Mapped[str | None] = mapped_column(String(20))
    annee_ft: Mapped[int | None] = mapped_column()
    code_insee: Mapped[str | None] = mapped_column(String(5), index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
