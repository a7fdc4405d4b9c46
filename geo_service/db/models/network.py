"""The fibre network: NRO, PM (armoires) and their zones, premises, and their history of states."""

from __future__ import annotations

from datetime import date

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import SRID, Base
from geo_service.db.enums import ETATS_DOE, ETATS_IMMEUBLE, ETATS_PM, one_of


class Nro(Base):
    """Nœud de raccordement optique and its zone (union of its PM zones)."""

    __tablename__ = "nro"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    nom: Mapped[str | None] = mapped_column(String(200))
    territory_code: Mapped[str] = mapped_column(ForeignKey("territory.code"), index=True)
    date_installation: Mapped[date | None] = mapped_column(Date)
    amii: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=True)
    zone = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)


class Pm(Base):
    """Point de mutualisation (armoire) with its zone arrière; current state (history apart)."""

    __tablename__ = "pm"
    __table_args__ = (
        one_of("etat", ETATS_PM, "etat"),
        one_of("doe_etat", ETATS_DOE, "doe_etat"),
    )

    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    nro_code: Mapped[str | None] = mapped_column(ForeignKey("nro.code"), index=True)
    territory_code: Mapped[str] = mapped_column(ForeignKey("territory.code"), index=True)
    code_zone: Mapped[str | None] = mapped_column(String(60))
    etat: Mapped[str] = mapped_column(String(30), default="PLANIFIE")
    date_installation: Mapped[date | None] = mapped_column(Date)
    date_mes_commerciale: Mapped[date | None] = mapped_column(Date)
    date_prevue: Mapped[date | None] = mapped_column(Date)
    doe_etat: Mapped[str] = mapped_column(String(20), default="NON_DU", server_default="NON_DU")
    nb_logements_prevus: Mapped[int | None] = mapped_column(Integer)
    amii: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    # optimistic concurrency of staff edits (planned date, DOE state): returned as ETag
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=True)
    zone = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=True)


class PmHistory(Base):
    """One period during which a PM had a given state; valid_to NULL = still current."""

    __tablename__ = "pm_history"
    __table_args__ = (
        one_of("etat", ETATS_PM, "etat"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
        Index("ix_pm_history_pm_period", "pm_reference", "valid_from"),
        Index(
            "ix_pm_history_open",
            "pm_reference",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    pm_reference: Mapped[str] = mapped_column(ForeignKey("pm.reference", ondelete="CASCADE"))
    etat: Mapped[str] = mapped_column(String(30))
    date_installation: Mapped[date | None] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    changed_by: Mapped[str] = mapped_column(String(120))


class Premise(Base):
    """One IPE line: an address-building holding `logements` (current state; history apart)."""

    __tablename__ = "premise"
    __table_args__ = (
        one_of("etat", ETATS_IMMEUBLE, "etat"),
        CheckConstraint("logements >= 0", name="logements_positive"),
        CheckConstraint("locaux_pro >= 0", name="locaux_pro_positive"),
        # room on each page for a changed row's new version (HOT update, migration 0021)
        {"postgresql_with": {"fillfactor": 90}},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    identifiant_immeuble: Mapped[str] = mapped_column(String(80), unique=True)
    code_oi: Mapped[str | None] = mapped_column(String(10), index=True)
    code_adresse: Mapped[str | None] = mapped_column(String(80))
    insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"), index=True)
    code_postal: Mapped[str | None] = mapped_column(String(5))
    commune_nom: Mapped[str | None] = mapped_column(String(200))
    numero: Mapped[str | None] = mapped_column(String(20))
    complement: Mapped[str | None] = mapped_column(String(20))
    type_voie: Mapped[str | None] = mapped_column(String(40))
    nom_voie: Mapped[str | None] = mapped_column(String(200))
    batiment: Mapped[str | None] = mapped_column(String(60))
    logements: Mapped[int] = mapped_column(Integer)
    locaux_pro: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    etat: Mapped[str] = mapped_column(String(30))
    pm_reference: Mapped[str | None] = mapped_column(ForeignKey("pm.reference"), index=True)
    date_signature: Mapped[date | None] = mapped_column(Date)
    date_mes_commerciale: Mapped[date | None] = mapped_column(Date)
    type_pbo: Mapped[str | None] = mapped_column(String(40))
    type_racco: Mapped[str | None] = mapped_column(String(40))
    raccordement_long: Mapped[bool | None] = mapped_column(Boolean)
    amii: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    removed_on: Mapped[date | None] = mapped_column(Date)
    # the PM columns of the IPE line last read, and a hash of that line (and its file's header):
    # an import skips the lines whose hash did not change
    etat_pm: Mapped[str | None] = mapped_column(String(30))
    date_installation_pm: Mapped[date | None] = mapped_column(Date)
    source_hash: Mapped[int | None] = mapped_column(BigInteger)
    first_import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    # written by every import to each line it changes: neither a foreign key nor indexed, so that
    # the row is updated in place (HOT; migration 0021 says why)
    last_import_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)


class AddressStreet(Base):
    """A street (type + name in a commune) holding premises: the address search looks for streets
    by trigram distance here, then for the premise numbers (one index on ~10 000 streets instead of one per
    premise, which was costly to keep up at every import; filled by `ingest.streets`)."""

    __tablename__ = "address_street"
    __table_args__ = (
        # One row per street as the premises spell it; NULLs count as equal (as DISTINCT does).
        Index(
            "ux_address_street_voie",
            "insee",
            func.coalesce(text("type_voie"), ""),
            func.coalesce(text("nom_voie"), ""),
            func.coalesce(text("commune_nom"), ""),
            unique=True,
        ),
        # GiST, not GIN: the search walks the streets nearest by trigram distance (`<->`), and
        # its leaves hold each street's trigrams, so none is recomputed from the text.
        Index(
            "ix_address_street_search_text_gist",
            "search_text",
            postgresql_using="gist",
            postgresql_ops={"search_text": "gist_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    insee: Mapped[str] = mapped_column(ForeignKey("commune.insee"))
    type_voie: Mapped[str | None] = mapped_column(String(40))
    nom_voie: Mapped[str | None] = mapped_column(String(200))
    commune_nom: Mapped[str | None] = mapped_column(String(200))
    # unaccented lower-case "type voie commune", compared by trigrams with the typed address
    search_text: Mapped[str] = mapped_column(Text)
    # every premise ever written with this street (the search keeps those still on it and not
    # removed), so its premises are found by id, not among all those of the commune
    premise_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=text("'{}'::bigint[]")
    )


class PremiseHistory(Base):
    """A period during which a premise had a state, logements count and PM.

    `etat` NULL with `removed` true means the premise had left the operator's file.
    """

    __tablename__ = "premise_history"
    __table_args__ = (
        one_of("etat", ETATS_IMMEUBLE, "etat"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
        Index("ix_premise_history_premise_period", "premise_id", "valid_from"),
        Index("ix_premise_history_period", "valid_from", "valid_to"),
        Index(
            "ix_premise_history_open",
            "premise_id",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    premise_id: Mapped[int] = mapped_column(ForeignKey("premise.id", ondelete="CASCADE"))
    etat: Mapped[str] = mapped_column(String(30))
    logements: Mapped[int] = mapped_column(Integer)
    locaux_pro: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pm_reference: Mapped[str | None] = mapped_column(String(40))
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
    changed_by: Mapped[str] = mapped_column(String(120))


class StateCube(Base):
    """Logements by state per (PM, commune, AMII, state) of the territory, from valid_from
    until valid_to (NULL: still so), one row per span during which these figures did not
    change: the as-of figures read from here instead of scanning the whole history (kept by
    every IPE import for its own territory, which writes only the spans that change)."""

    __tablename__ = "state_cube"
    __table_args__ = (
        one_of("etat", ETATS_IMMEUBLE, "etat"),
        Index("ix_state_cube_territory_from", "territory_code", "valid_from"),
        # the spans still open, and the territory's latest change on or before a date
        Index("ix_state_cube_territory_to", "territory_code", "valid_to"),
        # a unit's own rows (élu pages of a national territory read one commune's, not 35 000)
        Index("ix_state_cube_insee_from", "insee", "valid_from"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    territory_code: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    pm_reference: Mapped[str | None] = mapped_column(String(40))
    insee: Mapped[str] = mapped_column(String(5))
    amii: Mapped[bool] = mapped_column(Boolean)
    etat: Mapped[str] = mapped_column(String(30))
    immeubles: Mapped[int] = mapped_column(Integer)
    logements: Mapped[int] = mapped_column(Integer)
    locaux_pro: Mapped[int] = mapped_column(Integer)


class StateRollup(Base):
    """The state cube summed per unit (PM, NRO, commune, EPCI, member département, the whole
    territory), RIP and AMII apart, with the unit's name, by validity interval as the cube:
    raccordables of whole units read stored rows instead of aggregating the territory's cube at
    each request (a national as-of total: 0.2 s at 1 % of France, growing with it; every
    commune of France: one row each). Written with the cube; rebuilt for the whole territory when the units'
    mapping or names change (a GraceTHD delivery, a reference load)."""

    __tablename__ = "state_rollup"
    __table_args__ = (
        Index("ix_state_rollup_territory_level_from", "territory_code", "level", "valid_from"),
        Index("ix_state_rollup_territory_to", "territory_code", "valid_to"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    territory_code: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    level: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    nom: Mapped[str] = mapped_column(String(200))
    amii: Mapped[bool] = mapped_column(Boolean)
    immeubles: Mapped[int] = mapped_column(BigInteger)
    immeubles_raccordables: Mapped[int] = mapped_column(BigInteger)
    logements: Mapped[int] = mapped_column(BigInteger)
    raccordables: Mapped[int] = mapped_column(BigInteger)
    raccordables_demande: Mapped[int] = mapped_column(BigInteger)
    en_cours: Mapped[int] = mapped_column(BigInteger)
    cibles: Mapped[int] = mapped_column(BigInteger)
    abandonnes: Mapped[int] = mapped_column(BigInteger)
    locaux_pro: Mapped[int] = mapped_column(BigInteger)
