"""Mapbox vector tiles of the public map's layers (prises, zones, communes), built by PostGIS.

Layers come from a fixed registry: a name in a URL only selects an entry, it never reaches SQL.
Below zoom 12 the `prises` layer is aggregated per commune (one point with counts) so that a
tile never carries tens of thousands of points.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg

from geo_service.errors import InvalidParameterError, NotFoundError
from geo_service.sql import statements

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22
AGGREGATE_BELOW_ZOOM = 12
EXTENT = 4096
BUFFER = 64
WEB_MERCATOR_WIDTH = 2 * math.pi * 6_378_137.0  # metres, EPSG:3857 world width
URL_TEMPLATE = "/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf"


@dataclass(frozen=True)
class TileLayer:
    """A layer the service publishes: its SQL statement(s) in sql/tiles.sql and what it holds."""

    name: str
    title: str
    statement: str
    low_zoom_statement: str | None = None

    def statement_for(self, z: int) -> str:
        if self.low_zoom_statement and z < AGGREGATE_BELOW_ZOOM:
            return self.low_zoom_statement
        return self.statement


LAYERS: dict[str, TileLayer] = {
    layer.name: layer
    for layer in (
        TileLayer(
            "prises",
            "Immeubles (identifiant, état, logements, PM, commune, AMII) ; "
            "agrégés par commune en dessous du zoom 12",
            "prises",
            low_zoom_statement="prises_communes",
        ),
        TileLayer("zones", "Zones arrière des PM et taux de raccordables", "zones"),
        TileLayer("communes", "Communes (code INSEE, nom)", "communes"),
    )
}


@dataclass(frozen=True)
class TileId:
    z: int
    x: int
    y: int


def tile_layer(name: str) -> TileLayer:
    """The registry entry for `name`, or NotFoundError (HTTP 404)."""
    layer = LAYERS.get(name)
    if layer is None:
        known = ", ".join(sorted(LAYERS))
        raise NotFoundError(f"Couche de tuiles inconnue « {name} » (couches : {known}).")
    return layer


def _integer(label: str, value: str | int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"Tuile invalide : {label} = « {value} » n'est pas un entier."
        ) from None


def tile_id(z: str | int, x: str | int, y: str | int) -> TileId:
    """Validated tile coordinates (XYZ scheme, Web Mercator), or InvalidParameterError (400)."""
    zi, xi, yi = _integer("z", z), _integer("x", x), _integer("y", y)
    if not 0 <= zi <= MAX_ZOOM:
        raise InvalidParameterError(
            f"Tuile invalide : le niveau de zoom z = {zi} doit être compris entre 0 et {MAX_ZOOM}."
        )
    size = 1 << zi
    for label, value in (("x", xi), ("y", yi)):
        if not 0 <= value < size:
            raise InvalidParameterError(
                f"Tuile invalide : {label} = {value} doit être compris entre 0 et {size - 1} "
                f"au zoom {zi}."
            )
    return TileId(zi, xi, yi)


@cache
def tile_statement(statement: str) -> TextClause:
    """`WITH bounds AS (…), <layer statement>`: composed only from the fixed texts of tiles.sql."""
    named = statements("tiles")
    return text(f"WITH bounds AS ({named['bounds']}),\n{named[statement]}")


def tile_params(tile: TileId, *, territory: str) -> dict[str, object]:
    """Bound parameters of the tile statements."""
    half_pixel = WEB_MERCATOR_WIDTH / (1 << tile.z) / EXTENT / 2
    return {
        "z": tile.z,
        "x": tile.x,
        "y": tile.y,
        "t": territory,
        "margin": BUFFER / EXTENT,
        "tol": half_pixel,
    }


@cache
def _driver_sql(statement: str) -> str:
    """The statement in psycopg's parameter style (compiled once from tile_statement)."""
    return str(tile_statement(statement).compile(dialect=pg_psycopg.dialect()))


def render_tile(
    conn: Connection, layer: TileLayer, tile: TileId, *, territory: str, as_of: date | None = None
) -> bytes:
    """The tile's protobuf bytes (empty when nothing of the territory falls in it).

    Run on the connection's psycopg cursor in binary mode (same transaction): bytea then travels
    as raw bytes instead of hex text, which makes large tiles about 1.5x faster. Parallel plans
    are switched off for the rest of the transaction (see `serial` in tiles.sql).
    """
    cursor = conn.connection.driver_connection.cursor(binary=True)  # type: ignore[union-attr]
    with cursor:
        cursor.execute(statements("tiles")["serial"])
        params = tile_params(tile, territory=territory)
        statement = layer.statement_for(tile.z)
        if as_of is not None and layer.name == "zones":  # the roll-out replay
            statement = "zones_as_of"
            params["d"] = as_of
        cursor.execute(_driver_sql(statement), params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def tile_etag(data: bytes) -> str:
    """Strong entity tag: a hash of the tile's bytes (same bytes, same tag)."""
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """True when an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag.removeprefix("W/") in candidates


def tile_url_template(layer: str, *, prefix: str = "") -> str:
    """The `{z}/{x}/{y}` URL template of a registered layer, for map builders."""
    return prefix + URL_TEMPLATE.format(layer=tile_layer(layer).name)
