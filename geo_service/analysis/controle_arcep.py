"""The ARCEP cross-check: ARCEP's building-level view of a quarter against the operator's IPE as
of that quarter's date, building by building (imb_id = IdentifiantImmeuble).

Categories (a building may fall in several): `absent_ipe` (ARCEP lists it, the operator's file
did not hold it on that date; buildings of AMII communes are left out: they are the incumbent's
own network, not the delegate's), `absent_arcep`, `etat_different`, `pm_different` (PM
references compared without case or surrounding spaces; one side empty counts), `position_ecart`
(points more than `seuil_m` metres apart, measured in Lambert-93; the premise's point is its
current one: positions have no history).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from sqlalchemy import Connection, text

from geo_service.errors import InvalidParameterError, NotFoundError

SEUIL_M = 100.0
CATEGORIES = ("absent_ipe", "absent_arcep", "etat_different", "pm_different", "position_ecart")
LIBELLES = {
    "absent_ipe": "Absent du fichier de l'opérateur (IPE)",
    "absent_arcep": "Absent du fichier ARCEP",
    "etat_different": "États différents",
    "pm_different": "PM différents",
    "position_ecart": "Positions éloignées",
}
CSV_COLUMNS = {  # row key → French header
    "libelle": "Catégorie",
    "categorie": "Code catégorie",
    "imb_id": "Identifiant immeuble",
    "insee": "Code INSEE",
    "commune": "Commune",
    "epci": "SIREN EPCI",
    "epci_nom": "EPCI",
    "adresse": "Adresse",
    "etat_arcep": "État ARCEP",
    "etat_ipe": "État IPE",
    "pm_arcep": "PM ARCEP",
    "pm_ipe": "PM IPE",
    "distance_m": "Écart (m)",
    "lon": "Longitude",
    "lat": "Latitude",
}

# ARCEP's states are stored as the IPE's labels ('deploye' → 'DEPLOYE'); ARCEP has no label of
# its own for RAD EN COURS DE DEPLOIEMENT: it publishes those as 'raccordable demande'
_SAME_STATE = (
    "CASE WHEN {0} = 'RAD EN COURS DE DEPLOIEMENT' THEN 'RACCORDABLE DEMANDE' ELSE {0} END"
)
_DIFFERENCES = f"""
WITH arcep AS (
    SELECT a.imb_id, a.imb_etat, a.pm_ref, a.code_insee, a.adresse, a.geom
    FROM arcep_immeuble a WHERE a.territory_code = :t AND a.date_etat = :d
), ipe AS (
    SELECT p.identifiant_immeuble AS imb_id, h.etat, h.pm_reference, p.insee,
           concat_ws(' ', p.numero, p.complement, p.type_voie, p.nom_voie) AS adresse, p.geom
    FROM premise_history h JOIN premise p ON p.id = h.premise_id
    JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
    WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed
), pairs AS (
    SELECT COALESCE(a.imb_id, i.imb_id) AS imb_id, a.imb_id IS NOT NULL AS in_arcep,
           i.imb_id IS NOT NULL AS in_ipe, a.imb_etat, i.etat, a.pm_ref, i.pm_reference,
           COALESCE(i.insee, a.code_insee) AS insee, COALESCE(NULLIF(i.adresse, ''), a.adresse)
           AS adresse, ST_Distance(a.geom, i.geom) AS distance, COALESCE(a.geom, i.geom) AS geom
    FROM arcep a FULL JOIN ipe i ON i.imb_id = a.imb_id
), found AS (
    SELECT p.*, c.nom AS commune, c.epci_siren, e.nom AS epci_nom, v.categorie
    FROM pairs p
    JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
    LEFT JOIN epci e ON e.siren = c.epci_siren AND e.territory_code = :t
    CROSS JOIN LATERAL (VALUES
        ('absent_ipe', p.in_arcep AND NOT p.in_ipe AND NOT c.amii),
        ('absent_arcep', p.in_ipe AND NOT p.in_arcep),
        ('etat_different', p.in_arcep AND p.in_ipe
            AND {_SAME_STATE.format("p.etat")} IS DISTINCT FROM p.imb_etat),
        ('pm_different', p.in_arcep AND p.in_ipe
            AND NULLIF(upper(trim(p.pm_ref)), '') IS DISTINCT FROM
                NULLIF(upper(trim(p.pm_reference)), '')),
        ('position_ecart', p.in_arcep AND p.in_ipe AND p.distance > :seuil)
    ) AS v(categorie, hit)
    WHERE v.hit AND (CAST(:insee AS text) IS NULL OR c.insee = :insee)
      AND (CAST(:epci AS text) IS NULL OR c.epci_siren = :epci)
)
SELECT categorie, imb_id, insee, commune, epci_siren AS epci, epci_nom, adresse,
       lower(imb_etat) AS etat_arcep, etat AS etat_ipe, pm_ref AS pm_arcep,
       pm_reference AS pm_ipe,
       CASE WHEN categorie = 'position_ecart' THEN round(distance::numeric, 1) END AS distance_m,
       round(ST_X(ST_Transform(geom, 4326))::numeric, 7) AS lon,
       round(ST_Y(ST_Transform(geom, 4326))::numeric, 7) AS lat
FROM found
ORDER BY array_position(CAST(:categories AS text[]), categorie), insee, imb_id
"""
_TOTALS = """
SELECT (SELECT count(*) FROM arcep_immeuble a JOIN commune c ON c.insee = a.code_insee
        WHERE a.territory_code = :t AND a.date_etat = :d
          AND (CAST(:insee AS text) IS NULL OR c.insee = :insee)
          AND (CAST(:epci AS text) IS NULL OR c.epci_siren = :epci)) AS arcep,
       (SELECT count(*) FROM premise_history h JOIN premise p ON p.id = h.premise_id
        JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
        WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed
          AND (CAST(:insee AS text) IS NULL OR c.insee = :insee)
          AND (CAST(:epci AS text) IS NULL OR c.epci_siren = :epci)) AS ipe
"""


def arcep_dates(conn: Connection, territory: str) -> list[dt.date]:
    """The quarters of ARCEP's file loaded for this territory, oldest first."""
    return list(
        conn.execute(
            text(
                "SELECT DISTINCT date_etat FROM arcep_immeuble WHERE territory_code = :t ORDER BY 1"
            ),
            {"t": territory},
        ).scalars()
    )


def _quarter(conn: Connection, territory: str, day: dt.date | None) -> dt.date:
    """The ARCEP quarter to compare: the latest loaded on or before `day` (default: the latest)."""
    loaded = arcep_dates(conn, territory)
    if not loaded:
        raise NotFoundError(
            f"Aucun fichier ARCEP « Carte fibre » importé pour le territoire {territory} : "
            "lancez d'abord « geo-service import arcep-immeubles FICHIER »."
        )
    chosen = [d for d in loaded if day is None or d <= day]
    if not chosen:
        listed = ", ".join(f"{d:%d/%m/%Y}" for d in loaded)
        raise NotFoundError(
            f"Aucun état ARCEP au {day:%d/%m/%Y} ou avant pour le territoire {territory} "
            f"(états importés : {listed})."
        )
    return chosen[-1]


def _check_area(conn: Connection, territory: str, insee: str | None, epci: str | None) -> None:
    if (
        insee is not None
        and not conn.execute(
            text("SELECT 1 FROM commune WHERE insee = :i AND territory_code = :t"),
            {"i": insee, "t": territory},
        ).first()
    ):
        raise InvalidParameterError(f"Commune « {insee} » inconnue du territoire {territory}.")
    if (
        epci is not None
        and not conn.execute(
            text("SELECT 1 FROM epci WHERE siren = :s AND territory_code = :t"),
            {"s": epci, "t": territory},
        ).first()
    ):
        raise InvalidParameterError(f"EPCI « {epci} » inconnu du territoire {territory}.")


def _count(rows: list[dict[str, Any]], key: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Counts per category for each value of `key` (commune or EPCI), most differences first."""
    units: dict[Any, dict[str, Any]] = {}
    for row in rows:
        unit = units.setdefault(
            row[key],
            {**{n: row[n] for n in names}, **dict.fromkeys(CATEGORIES, 0), "total": 0},
        )
        unit[row["categorie"]] += 1
        unit["total"] += 1
    return sorted(units.values(), key=lambda u: (-u["total"], str(u[names[0]])))


def arcep_differences(
    conn: Connection,
    territory: str,
    *,
    date: dt.date | None = None,
    insee: str | None = None,
    epci: str | None = None,
    seuil_m: float = SEUIL_M,
) -> dict[str, Any]:
    """Counts per category, per commune and per EPCI, and one row per building and category,
    for the ARCEP quarter on or before `date` (default: the latest loaded)."""
    if not seuil_m >= 0:
        raise InvalidParameterError("Le seuil d'écart de position doit être positif (en mètres).")
    _check_area(conn, territory, insee, epci)
    day = _quarter(conn, territory, date)
    params = {"t": territory, "d": day, "insee": insee, "epci": epci}
    rows = [
        {**dict(r), "libelle": LIBELLES[r["categorie"]]}
        for r in conn.execute(
            text(_DIFFERENCES), {**params, "seuil": seuil_m, "categories": list(CATEGORIES)}
        ).mappings()
    ]
    for row in rows:
        for key in ("distance_m", "lon", "lat"):
            row[key] = None if row[key] is None else float(row[key])
    totals = conn.execute(text(_TOTALS), params).one()
    by_category = dict.fromkeys(CATEGORIES, 0)
    for row in rows:
        by_category[row["categorie"]] += 1
    communes = _count(rows, "insee", ("insee", "commune", "epci"))
    epcis = _count(
        [{**r, "siren": r["epci"], "nom": r["epci_nom"]} for r in rows], "siren", ("siren", "nom")
    )
    return {
        "territoire": territory,
        "date_arcep": day,
        "seuil_m": seuil_m,
        "commune": insee,
        "epci": epci,
        "immeubles_arcep": int(totals.arcep),
        "immeubles_ipe": int(totals.ipe),
        "par_categorie": by_category,
        "par_commune": communes,
        "par_epci": epcis,
        "lignes": rows,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.7f}".rstrip("0").rstrip(".").replace(".", ",")
    return str(value)


def differences_csv(result: dict[str, Any]) -> str:
    """One line per building and category, French headers, `;` and decimal commas (as French
    spreadsheets open them): what staff send the delegate."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS.values())
    for row in result["lignes"]:
        writer.writerow([_cell(row.get(key)) for key in CSV_COLUMNS])
    return buffer.getvalue()
