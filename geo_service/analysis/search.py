"""The console's search: any object by code (PM, immeuble, signalement) or by address."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import Connection, text

from geo_service.analysis.quand import search_addresses

RAD_STATES = ("RACCORDABLE DEMANDE", "RAD EN COURS DE DEPLOIEMENT")


def map_url(lat: float | None, lon: float | None, zoom: int = 18) -> str | None:
    """The technical map centred on a point."""
    if lat is None or lon is None:
        return None
    return "/technique?" + urlencode({"lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "zoom": zoom})


def _premise_rows(
    conn: Connection, territory: str, where: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            "SELECT p.identifiant_immeuble, p.etat, p.commune_nom, p.pm_reference, "
            "concat_ws(' ', p.numero, p.type_voie, p.nom_voie) AS adresse, "
            "ST_Y(ST_Transform(p.geom, 4326)) AS lat, ST_X(ST_Transform(p.geom, 4326)) AS lon "
            f"FROM premise p JOIN commune c ON c.insee = p.insee WHERE c.territory_code = :t AND {where} "
            "ORDER BY p.identifiant_immeuble LIMIT 10"
        ),
        {"t": territory, **params},
    ).mappings()
    return [dict(r) for r in rows]


def _premise_result(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "immeuble",
        "code": r["identifiant_immeuble"],
        "label": f"{r['adresse']}, {r['commune_nom']} — {r['etat']} (PM {r['pm_reference'] or '—'})",
        "url": "/console/rad/" + quote(r["identifiant_immeuble"], safe=""),
        "map_url": map_url(r["lat"], r["lon"]),
    }


def search(conn: Connection, territory: str, query: str) -> list[dict[str, Any]]:
    q = " ".join(query.split())[:120]
    if not q:
        return []
    results: list[dict[str, Any]] = []
    for row in conn.execute(
        text(
            "SELECT reference, etat, nro_code, ST_Y(ST_Transform(COALESCE(geom, ST_PointOnSurface(zone)), 4326)) AS lat, "
            "ST_X(ST_Transform(COALESCE(geom, ST_PointOnSurface(zone)), 4326)) AS lon FROM pm "
            "WHERE territory_code = :t AND reference ILIKE :p ORDER BY reference LIMIT 10"
        ),
        {"t": territory, "p": q.replace("%", "").replace("_", r"\_") + "%"},
    ).mappings():
        results.append(
            {
                "kind": "PM",
                "code": row["reference"],
                "label": f"{row['etat']} — NRO {row['nro_code'] or '—'}",
                "url": "/console/pm/" + quote(row["reference"], safe=""),
                "map_url": map_url(row["lat"], row["lon"], 16),
            }
        )
    results += [
        _premise_result(r)
        for r in _premise_rows(conn, territory, "p.identifiant_immeuble = :q", {"q": q})
    ]
    if q.isdigit() and len(q) <= 12:
        for row in conn.execute(
            text(
                "SELECT id, adresse, statut, ST_Y(ST_Transform(geom, 4326)) AS lat, "
                "ST_X(ST_Transform(geom, 4326)) AS lon FROM signalement "
                "WHERE id = :i AND territory_code = :t"
            ),
            {"i": int(q), "t": territory},
        ).mappings():
            results.append(
                {
                    "kind": "signalement",
                    "code": f"n° {row['id']}",
                    "label": f"{row['adresse']} — {row['statut']}",
                    "url": f"/console/signalements/{row['id']}",
                    "map_url": map_url(row["lat"], row["lon"]),
                }
            )
    if len(q) >= 3 and not results:
        for match in search_addresses(conn, q, territory=territory, limit=5):
            near = _premise_rows(
                conn,
                territory,
                "ST_DWithin(p.geom, ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154), 15)",
                {"lat": match["lat"], "lon": match["lon"]},
            )
            results += [_premise_result(r) for r in near[:3]]
    return results + _programme_objects(conn, territory, q)


# table, kind shown, console path (fixed strings: never from the query)
_PROGRAMMES = (
    ("mobile_site", "site mobile", "sites-mobiles"),
    ("wifi_borne", "borne WiFi", "bornes-wifi"),
    ("med_site", "MED", "med"),
)


def _programme_objects(conn: Connection, territory: str, q: str) -> list[dict[str, Any]]:
    """Mobile sites, bornes and MED cabinets whose code starts with, or name contains, `q`."""
    out: list[dict[str, Any]] = []
    like = q.replace("\\", "").replace("%", "").replace("_", r"\_")
    for table, kind, path in _PROGRAMMES:
        rows = conn.execute(
            text(
                f"SELECT o.code, o.nom, c.nom AS commune, ST_Y(ST_Transform(o.geom, 4326)) AS lat,"
                f" ST_X(ST_Transform(o.geom, 4326)) AS lon FROM {table} o"
                " JOIN commune c ON c.insee = o.insee AND c.territory_code = :t"
                " WHERE o.code ILIKE :prefix OR unaccent(o.nom) ILIKE unaccent(:inside)"
                " ORDER BY o.code LIMIT 5"
            ),
            {"t": territory, "prefix": like + "%", "inside": "%" + like + "%"},
        ).mappings()
        out += [
            {
                "kind": kind,
                "code": r["code"],
                "label": f"{r['nom']} — {r['commune']}",
                "url": f"/console/{path}/" + quote(r["code"], safe=""),
                "map_url": map_url(r["lat"], r["lon"], 16),
            }
            for r in rows
        ]
    return out
