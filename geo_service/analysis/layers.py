"""Light map layers as GeoDataFrames in WGS84: AMII outline, MED, mobile sites, WiFi bornes."""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import Connection, text

ETATS_MOBILE_FR = {
    "ZONE_SIGNALEE": "zone signalée",
    "CARENCE_CONFIRMEE": "carence confirmée",
    "ARRETE": "arrêté pris, en construction",
    "EN_SERVICE": "en service",
    "ABANDONNE": "abandonné",
}


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


def _points(conn: Connection, sql: str, territory: str) -> gpd.GeoDataFrame:
    return gpd.read_postgis(text(sql), conn, geom_col="geom", params={"t": territory})


def med_sites(conn: Connection, territory: str) -> gpd.GeoDataFrame:
    return _points(
        conn,
        "SELECT m.code, m.nom, m.foyers, CAST(m.date_ouverture AS text) AS ouverture, "
        "ST_Transform(m.geom, 4326) AS geom FROM med_site m JOIN commune c ON c.insee = m.insee "
        "WHERE c.territory_code = :t ORDER BY m.code",
        territory,
    )


def mobile_sites(conn: Connection, territory: str) -> gpd.GeoDataFrame:
    frame = _points(
        conn,
        "SELECT s.code, s.nom, s.etat, s.programme, CAST(s.date_mise_en_service AS text) AS mise_en_service, "
        "ST_Transform(s.geom, 4326) AS geom FROM mobile_site s JOIN commune c ON c.insee = s.insee "
        "WHERE c.territory_code = :t ORDER BY s.code",
        territory,
    )
    frame["etat_label"] = frame["etat"].map(ETATS_MOBILE_FR).fillna(frame["etat"])
    return frame


def wifi_bornes(conn: Connection, territory: str) -> gpd.GeoDataFrame:
    return _points(
        conn,
        "SELECT b.code, b.nom, b.rayon_m, b.emplacement, ST_Transform(b.geom, 4326) AS geom "
        "FROM wifi_borne b JOIN commune c ON c.insee = b.insee WHERE c.territory_code = :t ORDER BY b.code",
        territory,
    )
