"""/console/rapports (staff only): choose a year and a unit, download its document (PDF, or the
accessible HTML version). The same functions as `geo-service rapport annuel`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from geo_service.api.deps import SessionDep
from geo_service.api.routes.console import render
from geo_service.api.security import StaffActor
from geo_service.errors import InvalidParameterError
from geo_service.reports.batch import file_name
from geo_service.reports.context import FIRST_YEAR, build_context
from geo_service.reports.render import build

router = APIRouter(include_in_schema=False)
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


@router.get("/console/rapports", response_class=HTMLResponse)
def reports_page(request: Request, session: SessionDep, actor: StaffActor) -> Response:
    from geo_service.analysis.unit_report import index_rows

    units = index_rows(session.connection(), actor.territory)
    years = list(range(date.today().year, FIRST_YEAR - 1, -1))
    return render(
        request,
        "console/rapports.html",
        actor=actor,
        session=session,
        title="Rapports annuels",
        years=years,
        default_year=date.today().year - 1,
        epcis=units["epci"],
        communes=units["communes"],
    )


@router.get("/console/rapports/document")
def report_document(
    session: SessionDep,
    actor: StaffActor,
    annee: Annotated[int, Query(ge=FIRST_YEAR, le=2100)],
    epci: Annotated[str | None, Query(max_length=9, pattern=r"^\d*$")] = None,
    commune: Annotated[str | None, Query(max_length=5, pattern=r"^[\dAB]*$")] = None,
    format: Annotated[str, Query(pattern="^(pdf|html)$")] = "pdf",
) -> Response:
    if epci and commune:
        raise InvalidParameterError("Choisissez un EPCI ou une commune, pas les deux.")
    ctx = build_context(session.connection(), actor.territory, annee)
    level, code = (
        ("epci", epci) if epci else ("commune", commune) if commune else ("departement", None)
    )
    body = build(ctx, level, code, format)  # type: ignore[arg-type]
    name = file_name(ctx, level, code, format)  # type: ignore[arg-type]
    disposition = "attachment" if format == "pdf" else "inline"
    return Response(
        body,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )
