"""Raccordables à la demande: the list, its procedure step, counts per commune and EPCI."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service.db.enums import ETATS_RAD
from geo_service.errors import InvalidParameterError

RAD_STATES = ("RACCORDABLE DEMANDE", "RAD EN COURS DE DEPLOIEMENT")

_LIST = """
WITH state AS (
    SELECT p.id, p.identifiant_immeuble, p.insee, p.commune_nom, c.epci_siren,
           concat_ws(' ', p.numero, p.type_voie, p.nom_voie) AS adresse, h.etat, h.logements,
           h.pm_reference
    FROM premise_history h JOIN premise p ON p.id = h.premise_id
    JOIN commune c ON c.insee = p.insee
    WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed
      AND c.territory_code = :t AND NOT p.amii
), ever_rad AS (
    SELECT DISTINCT h.premise_id FROM premise_history h
    WHERE h.valid_from <= :d AND h.etat IN ('RACCORDABLE DEMANDE', 'RAD EN COURS DE DEPLOIEMENT')
)
SELECT s.identifiant_immeuble, s.insee, s.commune_nom, s.epci_siren, s.adresse, s.etat,
       s.logements, s.pm_reference,
       COALESCE(r.etape, CASE
           WHEN s.etat = 'DEPLOYE' THEN 'CONSTRUIT'
           WHEN s.etat = 'RAD EN COURS DE DEPLOIEMENT' THEN 'DEMANDE'
           ELSE 'CANDIDAT' END) AS etape,
       r.date_avenant, r.date_demande, r.date_construction, r.commentaire
FROM state s JOIN ever_rad e ON e.premise_id = s.id
LEFT JOIN rad_procedure r ON r.identifiant_immeuble = s.identifiant_immeuble
ORDER BY s.insee, s.identifiant_immeuble
"""


def rad_list(
    conn: Connection, *, territory: str, as_of: date | None = None
) -> list[dict[str, Any]]:
    """Addresses that are (or were, then built) raccordables à la demande, with their step."""
    rows = conn.execute(text(_LIST), {"d": as_of or date.today(), "t": territory}).mappings()
    return [dict(r) for r in rows]


def rad_counts(
    conn: Connection, *, territory: str, level: str = "commune", as_of: date | None = None
) -> list[dict[str, Any]]:
    """Logements and buildings per procedure step, per commune or EPCI."""
    if level not in ("commune", "epci"):
        raise InvalidParameterError("Niveau attendu : commune ou epci.")
    key = "insee" if level == "commune" else "epci_siren"
    totals: dict[str, dict[str, Any]] = {}
    for row in rad_list(conn, territory=territory, as_of=as_of):
        unit = totals.setdefault(
            row[key],
            {
                "level": level,
                "code": row[key],
                "immeubles": 0,
                "logements": 0,
                **{e.lower(): 0 for e in ETATS_RAD},
            },
        )
        unit["immeubles"] += 1
        unit["logements"] += int(row["logements"])
        unit[row["etape"].lower()] += int(row["logements"])
    return sorted(totals.values(), key=lambda r: r["code"])
