"""Enumerated states (PRODUCT.md), stored as text with CHECK constraints enforced by PostgreSQL."""

from __future__ import annotations

from sqlalchemy import CheckConstraint

ETATS_IMMEUBLE = (
    "CIBLE",
    "SIGNE",
    "EN COURS DE DEPLOIEMENT",
    "DEPLOYE",
    "ABANDONNE",
    "RACCORDABLE DEMANDE",
    "RAD EN COURS DE DEPLOIEMENT",
)
ETATS_PM = ("PLANIFIE", "EN COURS DE DEPLOIEMENT", "DEPLOYE", "ABANDONNE")
ETATS_DOE = ("NON_DU", "A_DEPOSER", "DEPOSE", "VALIDE", "REFUSE")
PROGRAMMES_MOBILE = ("NEW_DEAL", "CENTRE_BOURG", "TDF_IRU", "AUTRE")
# Stages of a mobile site, in lifecycle order (ABANDONNE may end any of them).
ETATS_SITE_MOBILE = (
    "ZONE_SIGNALEE",
    "CARENCE_CONFIRMEE",
    "RETENU",
    "ARRETE",
    "EN_CONSTRUCTION",
    "EN_SERVICE",
    "ABANDONNE",
)
# How a New Deal site was tied to its ANFR station(s).
LIENS_STATION = ("ARCEP", "PROXIMITE", "REGISTRE")
TECHNOLOGIES_MOBILE = ("2G", "3G", "4G", "5G", "AUTRE")
# Stages of a WiFi borne, in lifecycle order.
ETATS_BORNE = ("DELIBERATION_RECUE", "PROGRAMMEE", "INSTALLEE", "EN_SERVICE", "RETIREE")
EMPLACEMENTS_BORNE = ("INTERIEUR", "EXTERIEUR")
IMPORT_STATUSES = ("EN_COURS", "OK", "PARTIEL", "REJETE", "INTERROMPU")
IMPORT_KINDS = (
    "ipe",
    "gracethd",
    "sites",
    "bornes",
    "med",
    "onereuses",
    "reference",
    "adresses",
    "anfr",
    "dcc",
    "arcep-sites",
    "couche",
    "wifi-stats",
    "arcep-immeubles",
    "ban",
    "fermeture-cuivre",
    "incidents",
    "controles-pm",
    "abonnes",
    "echanges-frontaliers",
)
# Operating registers (issue #14): incidents, PM controls, take-up, border exchanges.
SOURCES_INCIDENT = ("SIGNALEMENT", "DELEGATAIRE")
RESULTATS_CONTROLE = ("CONFORME", "NON CONFORME", "RESERVES")
MAILLES_ABONNES = ("commune", "pm", "total")
SENS_ECHANGE = ("SERVI_PAR_VOISIN", "SERVI_PAR_DELEGATAIRE")
MODES_LIEN = ("AERIEN", "SOUTERRAIN")
STATUTS_LIEN = ("EXISTANT", "A CREER", "EN TRAVAUX", "EN SERVICE", "ABANDONNE")
ETATS_RAD = ("CANDIDAT", "LISTE_AVENANT", "DEMANDE", "CONSTRUIT")
STATUTS_SIGNALEMENT = ("NOUVEAU", "EN_COURS", "RESOLU", "REJETE")
ROLES = ("elu", "technicien", "admin")
AUDIT_SOURCES = ("api", "console", "cli", "import")
AUDIT_OUTCOMES = ("ok", "refuse")


def one_of(
    column: str, values: tuple[str, ...], name: str, *, nullable: bool = False
) -> CheckConstraint:
    """CHECK (column IN (...)) — values are constants of this module, never user input."""
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    condition = f"{column} IN ({listed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=name)
