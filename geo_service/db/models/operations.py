"""Operating registers of the FTTH network: incidents (pannes), PM conformity controls, take-up
(abonnés) and border exchanges. Each row belongs to the territory whose syndicat keeps it;
`perimetre` says whether a figure is the territory's own or the whole DSP's ('dsp')."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from geo_service.db.base import Base
from geo_service.db.enums import (
    MAILLES_ABONNES,
    MODES_LIEN,
    RESULTATS_CONTROLE,
    SENS_ECHANGE,
    SOURCES_INCIDENT,
    STATUTS_LIEN,
    one_of,
)

# a figure covers the whole DSP or the territory that keeps the register, nothing else
PERIMETRE_CHECK = "perimetre = 'dsp' OR perimetre = territory_code"


class Incident(Base):
    """One network incident: where (PM and/or commune), when opened and restored, why."""

    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("territory_code", "perimetre", "reference", name="uq_incident_reference"),
        CheckConstraint(PERIMETRE_CHECK, name="perimetre"),
        CheckConstraint("retablissement IS NULL OR retablissement >= ouverture", name="periode"),
        one_of("source", SOURCES_INCIDENT, "source"),
        Index("ix_incident_territory_ouverture", "territory_code", "ouverture"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    territory_code: Mapped[str] = mapped_column(String(16), ForeignKey("territory.code"))
    perimetre: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(60))
    # no foreign keys: a DSP-wide incident may name a PM or commune of another département
    pm_reference: Mapped[str | None] = mapped_column(String(40))
    insee: Mapped[str | None] = mapped_column(String(5))
    categorie: Mapped[str] = mapped_column(String(40))
    ouverture: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retablissement: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cause: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)


class ControlePm(Base):
    """One conformity control of a PM in a yearly campaign."""

    __tablename__ = "controle_pm"
    __table_args__ = (
        UniqueConstraint(
            "territory_code", "perimetre", "campagne", "pm_reference", name="uq_controle_pm_cle"
        ),
        CheckConstraint(PERIMETRE_CHECK, name="perimetre"),
        one_of("resultat", RESULTATS_CONTROLE, "resultat"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    territory_code: Mapped[str] = mapped_column(String(16), ForeignKey("territory.code"))
    perimetre: Mapped[str] = mapped_column(String(3))
    campagne: Mapped[int] = mapped_column(Integer)
    pm_reference: Mapped[str] = mapped_column(String(40))
    date_controle: Mapped[date] = mapped_column(Date)
    resultat: Mapped[str] = mapped_column(String(20))
    remarques: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)


class AbonnesReleve(Base):
    """The délégataire's count of subscribers of one unit (commune, PM or total) on one date."""

    __tablename__ = "abonnes_releve"
    __table_args__ = (
        UniqueConstraint(
            "territory_code",
            "perimetre",
            "date_releve",
            "maille",
            "code",
            name="uq_abonnes_releve_cle",
        ),
        CheckConstraint(PERIMETRE_CHECK, name="perimetre"),
        CheckConstraint("abonnes >= 0", name="abonnes_positive"),
        one_of("maille", MAILLES_ABONNES, "maille"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    territory_code: Mapped[str] = mapped_column(String(16), ForeignKey("territory.code"))
    perimetre: Mapped[str] = mapped_column(String(3))
    date_releve: Mapped[date] = mapped_column(Date)
    maille: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(40))  # INSEE, PM reference, '' for a total
    abonnes: Mapped[int] = mapped_column(Integer)
    # the délégataire's own raccordables figure, when its report gives one
    raccordables_declares: Mapped[int | None] = mapped_column(Integer)
    fai: Mapped[list[str]] = mapped_column(ARRAY(String(60)), server_default=text("'{}'"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)


class EchangeFrontalier(Base):
    """One building of a co-signed border-exchange sheet: served across the border, by which
    network, through which PM, PB and link."""

    __tablename__ = "echange_frontalier"
    __table_args__ = (
        UniqueConstraint(
            "territory_code", "secteur", "identifiant_immeuble", name="uq_echange_frontalier_cle"
        ),
        one_of("sens", SENS_ECHANGE, "sens"),
        one_of("mode", MODES_LIEN, "mode", nullable=True),
        one_of("statut_lien", STATUTS_LIEN, "statut_lien", nullable=True),
        CheckConstraint("longueur_m IS NULL OR longueur_m >= 0", name="longueur_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    territory_code: Mapped[str] = mapped_column(String(16), ForeignKey("territory.code"))
    secteur: Mapped[str] = mapped_column(String(120))
    voisin: Mapped[str] = mapped_column(String(120))
    sens: Mapped[str] = mapped_column(String(30))
    identifiant_immeuble: Mapped[str] = mapped_column(String(80))
    adresse: Mapped[str | None] = mapped_column(String(300))
    insee: Mapped[str | None] = mapped_column(String(5))
    pm_reference: Mapped[str | None] = mapped_column(String(40))
    pb_reference: Mapped[str | None] = mapped_column(String(40))
    lien: Mapped[str | None] = mapped_column(String(80))
    longueur_m: Mapped[float | None] = mapped_column(Float)
    mode: Mapped[str | None] = mapped_column(String(20))
    statut_lien: Mapped[str | None] = mapped_column(String(20))
    date_cosignature: Mapped[date | None] = mapped_column(Date)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_journal.id"), index=True)
