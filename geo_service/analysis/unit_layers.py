"""Geometries the élu pages and the technical map draw (WGS84): PM zones with their completion,
premises, sites, NRO, and the per-quarter completion of zones for the time slider."""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from geo_service.analysis.progress import armoires, band

# Above this many premises an EPCI map shows zones only (embedded markers stay light).
EPCI_PREMISE_LIMIT = 5_000
COMMUNE_PREMISE_LIMIT = 15_000
ZONE_TOLERANCE_M = 10.0

_ZONES = """
SELECT pm.reference, pm.nro_code, pm.code_zone, pm.amii,
       ST_Transform(CASE WHEN CAST(:tol AS float8) > 0
                         THEN ST_SimplifyPreserveTopology(pm.zone, :tol) ELSE pm.zone END,
                    4326) AS geom
FROM pm
WHERE pm.territory_code = :t AND pm.zone IS NOT NULL
  AND (CAST(:refs AS text[]) IS NULL OR pm.reference = ANY(CAST(:refs AS text[])))
  AND (:amii OR NOT pm.amii)
ORDER BY pm.reference
"""

_HISTORY = """
SELECT s.d, q.pm_reference, sum(q.logements) AS logements,
       COALESCE(sum(q.logements) FILTER (WHERE q.etat = 'DEPLOYE'), 0) AS raccordables
FROM unnest(CAST(:dates AS date[])) AS s(d)
JOIN state_cube q ON q.valid_from <= s.d AND (q.valid_to IS NULL OR q.valid_to > s.d)
WHERE q.pm_reference = ANY(CAST(:refs AS text[]))
  AND q.territory_code = (SELECT territory_code FROM pm WHERE reference = ANY(CAST(:refs AS text[])) LIMIT 1)
GROUP BY s.d, q.pm_reference
"""


def _day(value: date | None, fmt: str = "%d/%m/%Y") -> str:
    return value.strftime(fmt) if value else ""


def zones_frame(
    conn: Connection,
    territory: str,
    *,
    refs: list[str] | None = None,
    include_amii: bool = False,
    as_of: date | None = None,
    tolerance_m: float = ZONE_TOLERANCE_M,
    date_format: str = "%d/%m/%Y",
) -> gpd.GeoDataFrame:
    """PM zones with NRO, state, logements, raccordables, taux, band, DOE state, planned date
    (dates as text, JJ/MM/AAAA unless told), indexed by PM reference."""
    frame = gpd.read_postgis(
        text(_ZONES),
        conn,
        geom_col="geom",
        params={"t": territory, "tol": tolerance_m, "refs": refs, "amii": include_amii},
    )
    counts = {
        r["reference"]: r
        for r in armoires(conn, territory=territory, as_of=as_of, include_amii=include_amii)
    }
    records = []
    for ref in frame["reference"]:
        arm = counts.get(ref, {})
        taux = float(arm.get("taux", 0.0))
        logements = int(arm.get("logements", 0))
        records.append(
            {
                "etat": arm.get("etat") or "",
                "logements": logements,
                "raccordables": int(arm.get("raccordables", 0)),
                "taux": taux,
                "bande": band(taux) if logements else "",
                "doe_etat": arm.get("doe_etat") or "",
                "date_installation": _day(arm.get("date_installation"), date_format),
                "date_prevue": _day(arm.get("date_prevue"), date_format),
            }
        )
    extra = pd.DataFrame.from_records(records, index=frame.index) if records else None
    if extra is not None:
        frame = frame.join(extra)
    else:
        for key in ("etat", "logements", "raccordables", "taux", "bande", "doe_etat"):
            frame[key] = []
        frame["date_installation"] = []
        frame["date_prevue"] = []
    frame["nro_code"] = frame["nro_code"].fillna("")
    frame["code_zone"] = frame["code_zone"].fillna("")
    return frame.set_index("reference", drop=False)


def unit_zone_refs(conn: Connection, insees: list[str] | tuple[str, ...]) -> list[str]:
    """The PM zones serving at least one current premise of these communes."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT pm_reference FROM premise WHERE insee = ANY(CAST(:i AS text[])) "
            "AND removed_on IS NULL AND pm_reference IS NOT NULL ORDER BY pm_reference"
        ),
        {"i": list(insees)},
    )
    return [r.pm_reference for r in rows]


def outline(
    conn: Connection, insees: list[str] | tuple[str, ...], tolerance_m: float = 25.0
) -> gpd.GeoDataFrame:
    """The outline of these communes (one simplified polygon, WGS84)."""
    return gpd.read_postgis(
        text(
            "SELECT ST_Transform(ST_SimplifyPreserveTopology(ST_Union(geom), :tol), 4326) AS geom "
            "FROM commune WHERE insee = ANY(CAST(:i AS text[])) HAVING count(*) > 0"
        ),
        conn,
        geom_col="geom",
        params={"i": list(insees), "tol": tolerance_m},
    )


def premise_count(conn: Connection, insees: list[str] | tuple[str, ...]) -> int:
    return int(
        conn.execute(
            text(
                "SELECT count(*) FROM premise WHERE insee = ANY(CAST(:i AS text[])) "
                "AND removed_on IS NULL"
            ),
            {"i": list(insees)},
        ).scalar_one()
    )


def _points(conn: Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]


_LONLAT = (
    "round(CAST(ST_X(ST_Transform({g}, 4326)) AS numeric), 6) AS lon, "
    "round(CAST(ST_Y(ST_Transform({g}, 4326)) AS numeric), 6) AS lat"
)


def premises(conn: Connection, insees: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """Current premises of these communes: identifier, address, state, logements, PM, lon/lat."""
    return _points(
        conn,
        "SELECT p.identifiant_immeuble, concat_ws(' ', p.numero, p.type_voie, p.nom_voie) "
        "AS adresse, p.etat, p.logements, p.pm_reference, "
        + _LONLAT.format(g="p.geom")
        + " FROM premise p WHERE p.insee = ANY(CAST(:i AS text[])) AND p.removed_on IS NULL "
        "ORDER BY p.identifiant_immeuble",
        {"i": list(insees)},
    )


def with_coordinates(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add lon/lat to rows keyed by identifiant_immeuble (e.g. the RAD list)."""
    ids = [r["identifiant_immeuble"] for r in rows]
    found = {
        p["identifiant_immeuble"]: p
        for p in _points(
            conn,
            "SELECT identifiant_immeuble, "
            + _LONLAT.format(g="geom")
            + " FROM premise WHERE identifiant_immeuble = ANY(CAST(:ids AS text[]))",
            {"ids": ids},
        )
    }
    out = []
    for row in rows:
        point = found.get(row["identifiant_immeuble"])
        if point is not None:
            out.append({**row, "lon": point["lon"], "lat": point["lat"]})
    return out


def sites(
    conn: Connection, territory: str, insees: list[str] | tuple[str, ...] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Mobile sites (state today, deadline, late flag), WiFi bornes (state today) and MED sites
    (state today) of the territory, or of these communes, with `lon`/`lat`."""
    from geo_service.analysis import med, mobile, wifi

    today = date.today()
    wanted = None if insees is None else set(insees)

    def keep(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {**r, "lon": r["longitude"], "lat": r["latitude"]}
            for r in rows
            if wanted is None or r["insee"] in wanted
        ]

    return {
        "mobile": keep(mobile.mobile_sites(conn, territory, as_of=today)),
        "wifi": keep(wifi.wifi_bornes(conn, territory, as_of=today)),
        "med": keep(med.med_sites(conn, territory, as_of=today)),
    }


def nro_points(conn: Connection, territory: str) -> list[dict[str, Any]]:
    """NRO of the territory (RIP) with their number of PM."""
    return _points(
        conn,
        "SELECT n.code, COALESCE(n.nom, n.code) AS nom, n.date_installation, "
        "(SELECT count(*) FROM pm WHERE pm.nro_code = n.code) AS pm, "
        + _LONLAT.format(g="n.geom")
        + " FROM nro n WHERE n.territory_code = :t AND NOT n.amii AND n.geom IS NOT NULL "
        "ORDER BY n.code",
        {"t": territory},
    )


def zone_history(
    conn: Connection, refs: list[str], dates: list[date]
) -> dict[str, list[tuple[int, int]]]:
    """(logements, raccordables) of each PM zone at each date, from the state cube (one query);
    (0, 0) where the zone had no premise yet."""
    if not refs or not dates:
        return {}
    out = {ref: [(0, 0)] * len(dates) for ref in refs}
    position = {d: i for i, d in enumerate(dates)}
    rows = conn.execute(text(_HISTORY), {"dates": dates, "refs": refs})
    for r in rows:
        out[r.pm_reference][position[r.d]] = (int(r.logements or 0), int(r.raccordables or 0))
    return out
