"""HTML pages for élus (one per commune and per EPCI, and their index) and the technical map."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from geo_service.analysis import layers, oublies, signalements, unit_layers
from geo_service.analysis.border_layer import border_exchange_layer
from geo_service.analysis.controle_arcep import arcep_dates, arcep_differences
from geo_service.analysis.costs import load_costs
from geo_service.analysis.onereuses import estimate
from geo_service.analysis.programmes import unit_programmes
from geo_service.analysis.reference import territory_name
from geo_service.analysis.unit_report import (
    Unit,
    commune_unit,
    departement_unit,
    epci_unit,
    index_rows,
    unit_report,
)
from geo_service.api.caching import PRIVATE_CACHE_CONTROL, cached
from geo_service.api.deps import ConnectionDep, SessionDep, SettingsDep, in_thread
from geo_service.api.security import CurrentActor, StaffActor, may_read_area
from geo_service.auth.actor import Actor
from geo_service.maps import html
from geo_service.maps.elus import build_rollout_map, build_unit_map
from geo_service.maps.private_lists import PUBLIC_NOTICE, focus_script, private_lists
from geo_service.maps.programmes_section import programmes_section
from geo_service.maps.svg_chart import ChartSeries, data_table, french_number, line_chart_svg
from geo_service.maps.technique import EXPENSIVE_LIMIT, build_technique_map
from geo_service.reference.territory_config import member_departements
from geo_service.settings import Settings

router = APIRouter(tags=["pages"])

UNIT_COLOUR, REFERENCE_COLOUR = "#0072B2", "#D55E00"


def unit_html(
    conn: Connection, territory: str, unit: Unit, tiles: str, *, private: bool = False
) -> str:
    """The élu page; `private` (staff, or the élu of this area) adds the non-public lists —
    addresses of onéreuses, RAD and oubliés, and the signalements."""
    report = unit_report(conn, territory, unit)
    series = report.series
    refs = unit_layers.unit_zone_refs(conn, unit.insees)
    zones = unit_layers.zones_frame(conn, territory, refs=refs, include_amii=True)
    limit = (
        unit_layers.COMMUNE_PREMISE_LIMIT
        if unit.level == "commune"
        else unit_layers.EPCI_PREMISE_LIMIT
    )
    count = unit_layers.premise_count(conn, unit.insees)
    premises = unit_layers.premises(conn, unit.insees) if count <= limit else None
    note = (
        None
        if premises is not None
        else f"{french_number(count)} immeubles : la carte montre les zones arrière des PM ; "
        "les immeubles sont sur la page de chaque commune."
    )
    main_map = build_unit_map(
        zones,
        unit_layers.outline(conn, unit.insees),
        premises=premises,
        onereuses=report.onereuses if private else [],
        rad=unit_layers.with_coordinates(conn, report.rad) if private else [],
        oublies=report.oublies if private else [],
        sites=unit_layers.sites(conn, territory, unit.insees),
        tiles=tiles,
    )
    history = unit_layers.zone_history(conn, refs, series.dates)
    rollout_map = build_rollout_map(zones, history, series.dates, tiles=tiles)
    chart_series = [
        ChartSeries(
            label=f"Logements raccordables — {unit.nom}",
            points=list(zip(series.dates, series.raccordables, strict=True)),
            color=UNIT_COLOUR,
        ),
        ChartSeries(
            label=series.reference_label,
            points=[(d, float(v)) for d, v in series.reference],
            color=REFERENCE_COLOUR,
            dashed=True,
            markers=series.reference_kind != "departement_rythme",
        ),
    ]
    u = report.figures["unite"]
    description = (
        f"Au {report.as_of:%d/%m/%Y} : {french_number(u['raccordables'])} logements "
        f"raccordables sur {french_number(u['logements'])} ({html.percent(u['taux'])}). "
        f"Courbe de référence : {series.reference_label}."
    )
    page = html.unit_page(
        report,
        main_map=main_map,
        rollout_map=rollout_map,
        chart_svg=line_chart_svg(
            chart_series,
            title=f"Logements raccordables depuis 2018 — {unit.nom}",
            description=description,
        ),
        chart_table=data_table(chart_series, caption="Logements raccordables par trimestre"),
        dept_name=territory_name(conn, territory),
        map_note=note,
        whole="territoire" if len(member_departements(conn, territory)) > 1 else "département",
    )
    programmes = unit_programmes(
        conn,
        territory,
        level=unit.level,
        code=unit.code,
        as_of=date.today(),
        insees=unit.insees,
    )
    column = {"commune": unit.nom, "epci": "EPCI"}.get(unit.level, "Département")
    page = page.replace("</body>", programmes_section(programmes, column=column) + "</body>", 1)
    if private:
        section = private_lists(
            report, signalements.listing(conn, territory=territory, insees=set(unit.insees))
        )
        page = page.replace("</body>", section + "</body>", 1)
    else:
        page = page.replace("</body>", PUBLIC_NOTICE + "</body>", 1)
    return page


def unit_cache_key(settings: Settings, unit: Unit) -> tuple[str, str]:
    """(kind, key) of a unit's public page in the data-version cache (`cache warm` too)."""
    return f"page-{unit.level}", f"{settings.departement}:{unit.code}:{settings.base_tiles}"


def _served_unit_page(
    request: Request,
    conn: Connection,
    session: Session,
    actor: Actor | None,
    settings: Settings,
    unit: Unit,
) -> Response:
    """The public page from the data-version cache; the page with the non-public lists is
    computed for its reader and never kept."""
    code = settings.departement
    if may_read_area(session, actor, unit.insees):
        page = unit_html(conn, code, unit, settings.base_tiles, private=True)
        return HTMLResponse(page, headers={"Cache-Control": PRIVATE_CACHE_CONTROL})
    kind, key = unit_cache_key(settings, unit)
    return cached(
        request,
        conn,
        kind=kind,
        key=key,
        render=lambda: unit_html(conn, code, unit, settings.base_tiles),
        media_type="text/html; charset=utf-8",
    )


@router.get("/communes", response_class=HTMLResponse)
def communes_index(request: Request, conn: ConnectionDep, settings: SettingsDep) -> Response:
    code = settings.departement
    return cached(
        request,
        conn,
        kind="page-index",
        key=code,
        render=lambda: html.index_page(
            index_rows(conn, code), dept_name=territory_name(conn, code)
        ),
        media_type="text/html; charset=utf-8",
    )


async def _unit_route(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor | None,
    finder: Callable[[Connection, str, str], Unit],
    code: str,
) -> Response:
    """The page of the unit `finder` finds for `code` (404 when the territory has none), its
    whole database work in one worker thread."""

    def serve(conn: Connection) -> Response:
        unit = finder(conn, settings.departement, code)
        return _served_unit_page(request, conn, session, actor, settings, unit)

    return await in_thread(session, serve)


@router.get("/communes/{insee}", response_class=HTMLResponse)
async def commune_page(
    request: Request,
    insee: Annotated[str, Path(max_length=5)],
    session: SessionDep,
    settings: SettingsDep,
    actor: CurrentActor,
) -> Response:
    return await _unit_route(request, session, settings, actor, commune_unit, insee)


@router.get("/epci/{siren}", response_class=HTMLResponse)
async def epci_page(
    request: Request,
    siren: Annotated[str, Path(max_length=9)],
    session: SessionDep,
    settings: SettingsDep,
    actor: CurrentActor,
) -> Response:
    return await _unit_route(request, session, settings, actor, epci_unit, siren)


@router.get("/departements/{code}", response_class=HTMLResponse)
async def departement_page(
    request: Request,
    code: Annotated[str, Path(max_length=3)],
    session: SessionDep,
    settings: SettingsDep,
    actor: CurrentActor,
) -> Response:
    """The page of one département of a territory of several (a région syndicat)."""
    return await _unit_route(request, session, settings, actor, departement_unit, code)


EXPORTS = [
    ("zones (GeoJSON)", "/api/v1/export/zones.geojson"),
    ("zones (CSV)", "/api/v1/export/zones.csv"),
    ("prises onéreuses (CSV)", "/api/v1/export/onereuses.csv"),
    ("oubliés (CSV)", "/api/v1/export/oublies.csv"),
]


@router.get("/technique", response_class=HTMLResponse)
def technique_page(
    request: Request, conn: ConnectionDep, settings: SettingsDep, _actor: StaffActor
) -> Response:
    """The technical map (staff only: it shows the addresses of the non-public lists);
    `?lat=…&lon=…&zoom=…` centres it on an object (links from the console)."""
    return cached(
        request,
        conn,
        kind="page-technique",
        key=f"{settings.departement}:{settings.base_tiles}",
        render=lambda: technique_html(conn, settings),
        media_type="text/html; charset=utf-8",
        cache_control=PRIVATE_CACHE_CONTROL,
    )


def technique_html(conn: Connection, settings: Settings) -> str:
    """The technical map page (also written by `geo-service maps export --avec-technique`)."""
    code = settings.departement
    today = date.today()
    costs = load_costs()
    fmap = build_technique_map(
        unit_layers.zones_frame(conn, code, as_of=today),
        nro=unit_layers.nro_points(conn, code),
        expensive=estimate(conn, territory=code, as_of=today, costs=costs)[:EXPENSIVE_LIMIT],
        oublies=oublies.in_finished_zones(conn, territory=code, as_of=today)
        + oublies.missing_from_operator(conn, territory=code),
        sites=unit_layers.sites(conn, code),
        park=layers.park_outline(conn, code),
        arcep=arcep_differences(conn, code)["lignes"] if arcep_dates(conn, code) else None,
        border=border_exchange_layer(conn, code),
        seuil=costs.seuil_onereux,
        tiles=settings.base_tiles,
    )
    page = html.technique_page(
        fmap, dept_name=territory_name(conn, code), exports=EXPORTS, day=f"{today:%d/%m/%Y}"
    )
    return page.replace("</body>", focus_script(fmap.get_name()) + "</body>", 1)
