"""Oubliés: premises left out in zones almost finished, and reference addresses missing from the
operator's file."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

_IN_FINISHED_ZONES = """
WITH state AS (
    SELECT p.id, p.identifiant_immeuble, p.insee, p.commune_nom,
           concat_ws(' ', p.numero, p.type_voie, p.nom_voie) AS adresse, h.etat, h.logements,
           h.pm_reference, p.geom
    FROM premise_history h JOIN premise p ON p.id = h.premise_id
    JOIN commune c ON c.insee = p.insee
    WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed
      AND c.territory_code = :t AND NOT p.amii
), zones AS (
    SELECT pm_reference, 100.0 * sum(logements) FILTER (WHERE etat = 'DEPLOYE')
           / NULLIF(sum(logements), 0) AS taux
    FROM state GROUP BY pm_reference
)
SELECT s.identifiant_immeuble, s.insee, s.commune_nom, s.adresse, s.etat, s.logements,
       s.pm_reference, round(z.taux, 1) AS taux_zone, 'zone_terminee' AS motif,
       ST_X(ST_Transform(s.geom, 4326)) AS lon, ST_Y(ST_Transform(s.geom, 4326)) AS lat
FROM state s JOIN zones z ON z.pm_reference = s.pm_reference
WHERE z.taux > :seuil AND s.etat IN ('CIBLE', 'SIGNE', 'EN COURS DE DEPLOIEMENT')
ORDER BY s.insee, s.identifiant_immeuble
"""

# A reference address is known when the operator's file has the same address code, the same
# number and street in the same commune, or a premise within :tolerance metres.
_MISSING = """
SELECT a.id, a.numero, a.rep, a.nom_voie, a.code_postal, a.insee, a.nom_commune,
       ST_X(ST_Transform(a.geom, 4326)) AS lon, ST_Y(ST_Transform(a.geom, 4326)) AS lat,
       'absente_du_fichier_operateur' AS motif
FROM reference_address a
JOIN commune c ON c.insee = a.insee AND c.territory_code = :t AND NOT c.amii
WHERE NOT EXISTS (SELECT 1 FROM premise p WHERE p.code_adresse = a.id AND p.removed_on IS NULL)
  AND NOT EXISTS (
      SELECT 1 FROM premise p
      WHERE p.insee = a.insee AND p.removed_on IS NULL
        AND COALESCE(p.numero, '') = COALESCE(a.numero, '')
        AND lower(unaccent(COALESCE(p.type_voie || ' ', '') || COALESCE(p.nom_voie, '')))
            = lower(unaccent(COALESCE(a.nom_voie, '')))
  )
  AND NOT EXISTS (
      SELECT 1 FROM premise p WHERE p.removed_on IS NULL AND ST_DWithin(p.geom, a.geom, :tolerance)
  )
ORDER BY a.insee, a.id
"""


def in_finished_zones(
    conn: Connection, *, territory: str, as_of: date | None = None, seuil: float = 95.0
) -> list[dict[str, Any]]:
    """Not-raccordable premises (RAD and abandoned excluded) in zones more than `seuil` % done."""
    rows = conn.execute(
        text(_IN_FINISHED_ZONES), {"d": as_of or date.today(), "t": territory, "seuil": seuil}
    )
    return [dict(r) for r in rows.mappings()]


def missing_from_operator(
    conn: Connection, *, territory: str, tolerance_m: float = 5.0
) -> list[dict[str, Any]]:
    """Reference addresses with no premise in the operator's file."""
    rows = conn.execute(text(_MISSING), {"t": territory, "tolerance": tolerance_m})
    return [dict(r) for r in rows.mappings()]
