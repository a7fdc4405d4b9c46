"""/tiles/{layer}/{z}/{x}/{y}.pbf: Mapbox vector tiles of the public map.

A tile where the territory has nothing is answered 200 with an empty body (a valid, empty
vector tile), so map clients cache it like any other. A tile is rendered once per data version
(geo_service.cache) and carries an ETag of that version and `Cache-Control: public`; a matching
If-None-Match gets 304 without a body, before anything is computed.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Header, Path, Query, Request, Response

from geo_service.analysis.tiles import (
    LAYERS,
    MEDIA_TYPE,
    render_tile,
    tile_id,
    tile_layer,
)
from geo_service.api.caching import cached
from geo_service.api.deps import SessionDep, SettingsDep, in_thread

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
async def get_tile(
    request: Request,
    session: SessionDep,
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
    return await in_thread(
        session,
        lambda conn: cached(
            request,
            conn,
            kind=f"tile-{tile_layer_.name}",
            key=f"{settings.departement}/{tile.z}/{tile.x}/{tile.y}/{as_of or ''}",
            render=lambda: render_tile(
                conn, tile_layer_, tile, territory=settings.departement, as_of=as_of
            ),
            media_type=MEDIA_TYPE,
            cache_control=CACHE_CONTROL,
        ),
    )
