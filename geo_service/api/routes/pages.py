"""HTML pages: the public map « Plus de débit quand ? » and the reference map."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from geo_service.analysis import layers
from geo_service.analysis.reference import communes_frame, epci_frame, territory_name
from geo_service.analysis.unit_report import quarter_ends
from geo_service.api.caching import cached
from geo_service.api.deps import ConnectionDep, SettingsDep
from geo_service.maps.assets import localize
from geo_service.maps.page import render_page
from geo_service.maps.public import build_public_map
from geo_service.maps.public_page import render_public_page
from geo_service.maps.reference import build_reference_map

router = APIRouter(tags=["pages"])


def public_html(conn, settings) -> str:  # type: ignore[no-untyped-def]
    """The public page (also written by `geo-service maps export`)."""
    code = settings.departement
    name = territory_name(conn, code)
    fmap = build_public_map(
        bounds=layers.territory_bounds(conn, code),
        amii=layers.amii_outline(conn, code),
        med=layers.med_sites(conn, code),
        mobiles=layers.mobile_sites(conn, code),
        bornes=layers.wifi_bornes(conn, code),
        park=layers.park_outline(conn, code),
        tiles=settings.base_tiles,
        # past quarter ends; the slider's last position is today's state
        replay_days=[d for d in quarter_ends(date(2018, 1, 1)) if d < date.today()],
    )
    return render_public_page(fmap, territory_name=name)


@router.get("/", response_class=HTMLResponse)
def public_page(request: Request, conn: ConnectionDep, settings: SettingsDep) -> Response:
    return cached(
        request,
        conn,
        kind="page-public",
        key=f"{settings.departement}:{settings.base_tiles}",
        render=lambda: public_html(conn, settings),
        media_type="text/html; charset=utf-8",
    )


@router.get("/reference", response_class=HTMLResponse)
def reference_page(conn: ConnectionDep, settings: SettingsDep) -> HTMLResponse:
    """The official communes and EPCI of the territory (names in tooltips)."""
    code = settings.departement
    fmap = build_reference_map(
        communes_frame(conn, code), epci_frame(conn, code), tiles=settings.base_tiles
    )
    localize(fmap)
    title = f"Communes et EPCI — {territory_name(conn, code)}"
    return HTMLResponse(render_page(fmap, title=title))
