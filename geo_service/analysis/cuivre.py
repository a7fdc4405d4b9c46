"""The copper switch-off (ARCEP `base_imb_fc`): when copper closes at an address and, for a
commune, the calendar of its lots — for « quand ? », the élu pages and the public map. Only
dates, lots and counts: no personal data."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service.errors import InvalidParameterError

_BUILDING = """
SELECT f.num_lot_fz AS lot, f.fermeture_technique, f.fermeture_com_zone, f.fermeture_com_addr,
       f.elig_fo, f.annee_ft, p.insee
FROM premise p
JOIN commune c ON c.insee = p.insee AND c.territory_code = :t
LEFT JOIN fermeture_cuivre f ON f.territory_code = :t AND f.immeuble_id = p.identifiant_immeuble
WHERE p.id = :id
"""
_LOTS = """
SELECT f.num_lot_fz AS lot, min(f.fermeture_com_zone) AS fermeture_commerciale,
       min(f.fermeture_technique) AS fermeture_technique, count(*) AS immeubles
FROM fermeture_cuivre f
WHERE f.territory_code = :t AND f.code_insee = :insee
GROUP BY f.num_lot_fz
ORDER BY min(f.fermeture_technique) NULLS LAST, min(f.fermeture_com_zone) NULLS LAST, f.num_lot_fz
"""
_BY_COMMUNE = """
SELECT c.insee, c.nom, count(*) AS immeubles,
       array_agg(DISTINCT f.num_lot_fz ORDER BY f.num_lot_fz)
           FILTER (WHERE f.num_lot_fz IS NOT NULL) AS lots,
       min(coalesce(f.fermeture_com_addr, f.fermeture_com_zone)) AS premiere_fermeture_commerciale,
       min(f.fermeture_technique) AS premiere_fermeture_technique,
       max(f.fermeture_technique) AS derniere_fermeture_technique,
       count(*) FILTER (WHERE coalesce(f.fermeture_com_addr, f.fermeture_com_zone) <= :today)
           AS immeubles_fermes_commercialement,
       count(*) FILTER (WHERE f.fermeture_technique <= :today) AS immeubles_fermes_techniquement
FROM fermeture_cuivre f
JOIN commune c ON c.insee = f.code_insee AND c.territory_code = :t
WHERE f.territory_code = :t
GROUP BY c.insee, c.nom
ORDER BY c.insee
"""
_BUILDING_SQL, _LOTS_SQL, _BY_COMMUNE_SQL = text(_BUILDING), text(_LOTS), text(_BY_COMMUNE)

_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"]  # fmt: skip


def _fr(day: date) -> str:
    return f"{'1er' if day.day == 1 else day.day} {_MONTHS[day.month - 1]} {day.year}"


def _when(day: date | None, today: date, past: str, future: str) -> str | None:
    if day is None:
        return None
    return f"{past if day <= today else future} le {_fr(day)}"


def _sentence(lot: str | None, commercial: date | None, technical: date | None) -> str:
    today = date.today()
    parts = [
        p
        for p in (
            _when(
                commercial,
                today,
                "fermeture commerciale (plus de nouvel abonnement sur le cuivre)",
                "fermeture commerciale (plus de nouvel abonnement sur le cuivre) prévue",
            ),
            _when(
                technical,
                today,
                "fermeture technique (lignes cuivre coupées)",
                "fermeture technique (coupure des lignes cuivre) prévue",
            ),
        )
        if p
    ]
    head = f"Réseau cuivre (lot {lot})" if lot else "Réseau cuivre"
    if not parts:
        return f"{head} : dates de fermeture non encore publiées."
    return f"{head} : {' ; '.join(parts)}."


def _commune(conn: Connection, territory: str, insee: str) -> dict[str, Any]:
    lots = [dict(r) for r in conn.execute(_LOTS_SQL, {"t": territory, "insee": insee}).mappings()]
    commercial = min(
        (r["fermeture_commerciale"] for r in lots if r["fermeture_commerciale"]), default=None
    )
    technical = min(
        (r["fermeture_technique"] for r in lots if r["fermeture_technique"]), default=None
    )
    if not lots:
        reponse = "Aucune fermeture du réseau cuivre n'est encore annoncée dans cette commune."
    elif len(lots) == 1:
        reponse = _sentence(lots[0]["lot"], commercial, technical)
    else:
        reponse = (
            f"Le réseau cuivre de la commune ferme en {len(lots)} lots ; le premier : "
            + _sentence(None, commercial, technical).split(" : ", 1)[1]
        )
    return {
        "niveau": "commune",
        "insee": insee,
        "lots": [{**r, "immeubles": int(r["immeubles"])} for r in lots],
        "immeubles": sum(int(r["immeubles"]) for r in lots),
        "premiere_fermeture_commerciale": commercial,
        "premiere_fermeture_technique": technical,
        "reponse": reponse,
    }


def copper_closing(
    conn: Connection, territory: str, *, premise_id: int | None = None, insee: str | None = None
) -> dict[str, Any]:
    """For a premise, its building's closing dates (technical, commercial at the address, else
    the zone's), or its commune's calendar when the building is not in it; for a commune, the
    calendar: lots with their earliest dates and counts of buildings."""
    if premise_id is not None:
        row = conn.execute(_BUILDING_SQL, {"t": territory, "id": premise_id}).mappings().first()
        if row is None:
            raise InvalidParameterError("Local inconnu sur ce territoire.")
        if (
            row["fermeture_technique"] is None
            and row["fermeture_com_zone"] is None
            and (row["fermeture_com_addr"] is None)
        ):
            return {**_commune(conn, territory, row["insee"]), "immeuble_au_calendrier": False}
        commercial = row["fermeture_com_addr"] or row["fermeture_com_zone"]
        return {
            "niveau": "adresse",
            "immeuble_au_calendrier": True,
            "lot": row["lot"],
            "fermeture_commerciale": commercial,
            "fermeture_commerciale_adresse": row["fermeture_com_addr"],
            "fermeture_commerciale_zone": row["fermeture_com_zone"],
            "fermeture_technique": row["fermeture_technique"],
            "eligible_fibre": row["elig_fo"],
            "annee_fermeture_technique": row["annee_ft"],
            "reponse": _sentence(row["lot"], commercial, row["fermeture_technique"]),
        }
    if insee is None:
        raise InvalidParameterError("Indiquez un local ou une commune.")
    return _commune(conn, territory, insee)


def copper_by_commune(conn: Connection, territory: str) -> list[dict[str, Any]]:
    """Each commune with buildings in the calendar: its lots, earliest commercial and technical
    closings, and how many buildings are already closed (for the élu pages and the public map)."""
    rows = conn.execute(_BY_COMMUNE_SQL, {"t": territory, "today": date.today()}).mappings()
    return [
        {
            **dict(r),
            "lots": list(r["lots"] or []),
            "immeubles": int(r["immeubles"]),
            "immeubles_fermes_commercialement": int(r["immeubles_fermes_commercialement"]),
            "immeubles_fermes_techniquement": int(r["immeubles_fermes_techniquement"]),
        }
        for r in rows
    ]


def copper_for_quand(
    conn: Connection, territory: str, *, premise_id: int | None, insee: str
) -> dict[str, Any]:
    """The copper part of a « quand ? » answer: the building's dates when the address is a known
    premise, else the commune's calendar."""
    if premise_id is not None:
        return copper_closing(conn, territory, premise_id=premise_id)
    return copper_closing(conn, territory, insee=insee)
