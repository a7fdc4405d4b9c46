"""The border exchanges placed on the technical map: each building of a co-signed sheet at its
IPE position (its IdentifiantImmeuble among our premises) or else at its commune's mairie
when the commune is ours, its PM when the PM is ours, the link from that PM to the buildings,
and one point per sector (the middle of what could be placed) carrying the sheet's counts.
Buildings outside the territory whose commune we do not hold are counted, not drawn."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, text

_ROWS = text(
    """
    SELECT e.secteur, e.voisin, e.sens, e.identifiant_immeuble, e.insee, c.nom AS commune,
           e.pm_reference, e.pb_reference, e.lien, e.longueur_m, e.mode, e.statut_lien,
           e.date_cosignature,
           CASE WHEN p.geom IS NOT NULL THEN 'immeuble' WHEN c.insee IS NOT NULL THEN 'commune'
           END AS placement,
           round(CAST(ST_X(ST_Transform(g.geom, 4326)) AS numeric), 6) AS lon,
           round(CAST(ST_Y(ST_Transform(g.geom, 4326)) AS numeric), 6) AS lat,
           round(CAST(ST_X(ST_Transform(pm.geom, 4326)) AS numeric), 6) AS pm_lon,
           round(CAST(ST_Y(ST_Transform(pm.geom, 4326)) AS numeric), 6) AS pm_lat
    FROM echange_frontalier e
    LEFT JOIN premise p ON p.identifiant_immeuble = e.identifiant_immeuble
      AND p.removed_on IS NULL
    LEFT JOIN commune c ON c.insee = e.insee AND c.territory_code = e.territory_code
    LEFT JOIN pm ON pm.reference = e.pm_reference AND pm.territory_code = e.territory_code
    CROSS JOIN LATERAL (SELECT COALESCE(p.geom, c.mairie, ST_PointOnSurface(c.geom)) AS geom) g
    WHERE e.territory_code = :t
    ORDER BY e.secteur, e.sens, e.identifiant_immeuble
    """
)


def _link_text(rows: list[dict[str, Any]]) -> str:
    """The sector's links, each once: name, length, mode, status."""
    seen: dict[str, str] = {}
    for r in rows:
        if not (r["lien"] or r["longueur_m"]):
            continue
        name = r["lien"] or f"vers {r['identifiant_immeuble']}"
        parts = [
            f"{r['longueur_m']:g} m" if r["longueur_m"] is not None else "",
            (r["mode"] or "").lower().replace("aerien", "aérien"),
            (r["statut_lien"] or "").lower().replace("a creer", "à créer"),
        ]
        seen.setdefault(name, f"{name} ({', '.join(p for p in parts if p)})")
    return " ; ".join(seen.values())


def border_exchange_layer(conn: Connection, territory: str) -> dict[str, Any]:
    """{'secteurs', 'immeubles', 'liens'}: building groups (one per sector, direction and
    position, with their count), PM → building lines and one point per sector, with `lon` /
    `lat`; sectors that could not be placed keep lon/lat None."""
    rows = [dict(r) for r in conn.execute(_ROWS, {"t": territory}).mappings()]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["lon"] is not None:
            groups[(r["secteur"], r["sens"], r["lon"], r["lat"])].append(r)
    buildings = []
    lines = []
    for (secteur, sens, lon, lat), members in groups.items():
        first = members[0]
        ids = [m["identifiant_immeuble"] for m in members]
        buildings.append(
            {
                "secteur": secteur,
                "voisin": first["voisin"],
                "sens": sens,
                "commune": first["commune"] or first["insee"] or "",
                "immeubles": len(members),
                "identifiants": ", ".join(ids[:6]) + (" …" if len(ids) > 6 else ""),
                "pm_reference": ", ".join(
                    sorted({m["pm_reference"] or "" for m in members} - {""})
                ),
                "placement": "à l'immeuble"
                if first["placement"] == "immeuble"
                else "à la mairie de la commune (immeuble non localisé)",
                "lon": float(lon),
                "lat": float(lat),
            }
        )
        for m in members:
            if m["pm_lon"] is None or (m["pm_lon"], m["pm_lat"]) == (lon, lat):
                continue
            lines.append(
                {
                    "secteur": secteur,
                    "voisin": m["voisin"],
                    "lien": m["lien"] or f"{m['pm_reference']} → {m['identifiant_immeuble']}",
                    "mode": m["mode"],
                    "statut_lien": m["statut_lien"],
                    "longueur_m": m["longueur_m"],
                    "coords": [[float(m["pm_lat"]), float(m["pm_lon"])], [float(lat), float(lon)]],
                }
            )
    by_sector: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_sector[r["secteur"]].append(r)
    sectors = []
    for secteur, members in by_sector.items():
        points = [(float(m["lon"]), float(m["lat"])) for m in members if m["lon"] is not None]
        points += [(float(m["pm_lon"]), float(m["pm_lat"])) for m in members if m["pm_lon"]]
        signed = sorted({m["date_cosignature"] for m in members if m["date_cosignature"]})
        sectors.append(
            {
                "secteur": secteur,
                "voisin": ", ".join(sorted({m["voisin"] for m in members})),
                "servis_par_voisin": sum(m["sens"] == "SERVI_PAR_VOISIN" for m in members),
                "servis_par_delegataire": sum(
                    m["sens"] == "SERVI_PAR_DELEGATAIRE" for m in members
                ),
                "non_places": sum(m["lon"] is None for m in members),
                "pm": ", ".join(sorted({m["pm_reference"] or "" for m in members} - {""})),
                "liens": _link_text(members),
                "cosignature": ", ".join(f"{d:%d/%m/%Y}" for d in signed),
                "lon": sum(p[0] for p in points) / len(points) if points else None,
                "lat": sum(p[1] for p in points) / len(points) if points else None,
            }
        )
    return {"secteurs": sectors, "immeubles": buildings, "liens": lines}
