"""Light map layers as GeoDataFrames in WGS84: AMII outline, MED, mobile sites, WiFi bornes and
the natural park, as they stand today."""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
from sqlalchemy import Connection, text

from geo_service.analysis import med, mobile, wifi


def territory_bounds(conn: Connection, territory: str) -> tuple[float, float, float, float]:
    row = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(ST_Transform(geom, 4326)) AS e FROM territory WHERE code = :t) b"
        ),
        {"t": territory},
    ).one()
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def amii_outline(conn: Connection, territory: str) -> gpd.GeoDataFrame:
    return gpd.read_postgis(
        text(
            "SELECT 'AMII' AS nom, ST_Transform(ST_SimplifyPreserveTopology(ST_Union(geom), 50), 4326) AS geom "
            "FROM commune WHERE territory_code = :t AND amii HAVING count(*) > 0"
        ),
        conn,
        geom_col="geom",
        params={"t": territory},
    )


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> gpd.GeoDataFrame:
    """Rows with WGS84 `longitude`/`latitude` as a GeoDataFrame of `columns` (dates as text)."""
    data = [{c: (None if r.get(c) is None else r.get(c)) for c in columns} for r in rows]
    frame = gpd.GeoDataFrame(
        data,
        columns=columns,
        geometry=gpd.points_from_xy([r["longitude"] for r in rows], [r["latitude"] for r in rows]),
        crs=4326,
    )
    for column in columns:
        if column.startswith(("date_", "echeance")):
            frame[column] = frame[column].map(lambda d: "" if d is None else f"{d:%d/%m/%Y}")
    return frame


def med_sites(conn: Connection, territory: str, as_of: date | None = None) -> gpd.GeoDataFrame:
    """MED cabinets with their state today and opening date."""
    rows = med.med_sites(conn, territory, as_of=as_of or date.today())
    frame = _frame(rows, ["code", "nom", "foyers", "etat", "date_ouverture"])
    frame["ouverture"] = frame["date_ouverture"]
    return frame


def mobile_sites(conn: Connection, territory: str, as_of: date | None = None) -> gpd.GeoDataFrame:
    """Mobile sites existing today with their stage, legal deadline and delay (`retard`, French)."""
    rows = mobile.mobile_sites(conn, territory, as_of=as_of or date.today())
    columns = ["code", "nom", "etat", "programme", "date_mise_en_service", "echeance"]
    frame = _frame(rows, [*columns, "en_retard", "mois_retard"])
    frame["mise_en_service"] = frame["date_mise_en_service"]
    frame["retard"] = [
        f"en retard de {m} mois (échéance {e})" if late else ""
        for late, m, e in zip(
            frame["en_retard"], frame["mois_retard"], frame["echeance"], strict=True
        )
    ]
    frame["en_retard"] = frame["en_retard"].astype(bool)
    return frame


def wifi_bornes(conn: Connection, territory: str, as_of: date | None = None) -> gpd.GeoDataFrame:
    """Bornes in service today, with their coverage radius in metres."""
    rows = wifi.wifi_bornes(conn, territory, as_of=as_of or date.today(), etat="EN_SERVICE")
    return _frame(rows, ["code", "nom", "rayon_m", "emplacement"])


def park_outline(conn: Connection, territory: str) -> gpd.GeoDataFrame:
    """The regional natural park (named layer `pnr`) in WGS84, empty when none was loaded."""
    return gpd.read_postgis(
        text(
            "SELECT COALESCE(max(libelle), 'Parc naturel régional') AS nom,"
            " ST_Transform(ST_SimplifyPreserveTopology(ST_Union(geom), 20), 4326) AS geom"
            " FROM named_layer WHERE territory_code = :t AND nom = :n HAVING count(*) > 0"
        ),
        conn,
        geom_col="geom",
        params={"t": territory, "n": mobile.PARK_LAYER},
    )
