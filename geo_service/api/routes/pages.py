"""HTML pages (Folium maps)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from geo_service.analysis.reference import communes_frame, epci_frame, territory_name
from geo_service.api.deps import ConnectionDep, SettingsDep
from geo_service.maps.page import render_page
from geo_service.maps.reference import build_reference_map

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse)
def public_page(conn: ConnectionDep, settings: SettingsDep) -> HTMLResponse:
    code = settings.departement
    fmap = build_reference_map(
        communes_frame(conn, code), epci_frame(conn, code), tiles=settings.base_tiles
    )
    title = f"Plus de débit quand ? — {territory_name(conn, code)}"
    return HTMLResponse(render_page(fmap, title=title))
