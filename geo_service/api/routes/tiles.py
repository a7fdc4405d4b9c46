"""/tiles/{layer}/{z}/{x}/{y}.pbf: Mapbox vector tiles of the public map.

A tile where the territory has nothing is answered 200 with an empty body (a valid, empty
vector tile), so map clients cache it like any other. Every tile carries a strong ETag (hash of
its bytes) and `Cache-Control: public`; a matching If-None-Match gets 304 without a body.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Header, Path, Query, Response

from geo_service.analysis.tiles import (
    LAYERS,
    MEDIA_TYPE,
    etag_matches,
    render_tile,
    tile_etag,
    tile_id,
    tile_layer,
)
from geo_service.api.deps import ConnectionDep, SettingsDep

router = APIRouter(prefix="/tiles", tags=["tuiles"])
CACHE_CONTROL = "public, max-age=300"


@router.get(
    "/{layer}/{z}/{x}/{y}.pbf",
    response_class=Response,
    responses={
        200: {"content": {MEDIA_TYPE: {}}, "description": "Tuile vectorielle (Mapbox Vector Tile)"},
        304: {"description": "Tuile inchangée (If-None-Match)"},
        400: {"description": "Coordonnées de tuile invalides"},
        404: {"description": "Couche inconnue"},
    },
)
def get_tile(
    conn: ConnectionDep,
    settings: SettingsDep,
    layer: str = Path(description=f"Couche : {', '.join(LAYERS)}"),
    z: str = Path(description="Niveau de zoom (0 à 22)"),
    x: str = Path(description="Colonne (0 à 2^z - 1)"),
    y: str = Path(description="Ligne (0 à 2^z - 1, depuis le nord)"),
    if_none_match: str | None = Header(None),
    as_of: date | None = Query(None, description="Zones : état à cette date (AAAA-MM-JJ)"),
) -> Response:
    tile_layer_ = tile_layer(layer)
    tile = tile_id(z, x, y)
    data = render_tile(conn, tile_layer_, tile, territory=settings.departement, as_of=as_of)
    etag = tile_etag(data)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(content=data, media_type=MEDIA_TYPE, headers=headers)
