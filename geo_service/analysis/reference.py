"""Reference geography as GeoDataFrames (WGS84) for maps and pages."""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import Connection, text

from geo_service.errors import NotFoundError

# Simplification tolerance in metres (Lambert-93) for web display.
WEB_TOLERANCE_M = 25.0


def communes_frame(conn: Connection, territory: str) -> gpd.GeoDataFrame:
    """Communes of a territory with their EPCI name, simplified for the web, in EPSG:4326."""
    sql = text(
        """
        SELECT c.insee, c.nom, c.population, c.epci_siren, e.nom AS epci_nom, c.amii,
               ST_Transform(ST_SimplifyPreserveTopology(c.geom, :tol), 4326) AS geom
        FROM commune c JOIN epci e ON e.territory_code = c.territory_code AND e.siren = c.epci_siren
        WHERE c.territory_code = :code ORDER BY c.insee
        """
    )
    frame = gpd.read_postgis(
        sql, conn, geom_col="geom", params={"code": territory, "tol": WEB_TOLERANCE_M}
    )
    if frame.empty:
        raise NotFoundError(
            f"Territoire « {territory} » non chargé : lancez « geo-service reference load »."
        )
    return frame


def epci_frame(conn: Connection, territory: str) -> gpd.GeoDataFrame:
    """EPCI of a territory (clipped to it), simplified for the web, in EPSG:4326."""
    sql = text(
        """
        SELECT e.siren, e.nom, e.type, count(c.insee) AS communes, sum(c.population) AS population,
               ST_Transform(ST_SimplifyPreserveTopology(e.geom, :tol), 4326) AS geom
        FROM epci e JOIN commune c ON c.territory_code = e.territory_code AND c.epci_siren = e.siren
        WHERE e.territory_code = :code GROUP BY e.territory_code, e.siren ORDER BY e.nom
        """
    )
    return gpd.read_postgis(
        sql, conn, geom_col="geom", params={"code": territory, "tol": WEB_TOLERANCE_M}
    )


def territory_name(conn: Connection, territory: str) -> str:
    row = conn.execute(text("SELECT nom FROM territory WHERE code = :c"), {"c": territory}).first()
    if row is None:
        raise NotFoundError(f"Territoire « {territory} » non chargé.")
    return str(row.nom)
