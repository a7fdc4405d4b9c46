"""/api/v1/controles: cross-checks of the operator's data (staff only: they compare the
delegate's file building by building)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from geo_service.analysis.controle_arcep import SEUIL_M, arcep_differences, differences_csv
from geo_service.api.deps import ConnectionDep, SettingsDep
from geo_service.api.security import StaffActor

router = APIRouter(prefix="/api/v1/controles", tags=["contrôles"])

DateQuery = Query(
    None,
    alias="date",
    description="Date AAAA-MM-JJ : le trimestre ARCEP à cette date ou avant (défaut : le dernier)",
)
CommuneQuery = Query(None, min_length=5, max_length=5, description="Code INSEE d'une commune")
EpciQuery = Query(None, min_length=9, max_length=9, description="SIREN d'un EPCI")
SeuilQuery = Query(
    SEUIL_M, ge=0, le=100_000, allow_inf_nan=False, description="Écart de position signalé (m)"
)


def _csv(result: dict[str, Any]) -> Response:
    name = f"controle_arcep_{result['territoire']}_{result['date_arcep']:%Y%m%d}.csv"
    return Response(
        ("\ufeff" + differences_csv(result)).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _differences(
    conn: ConnectionDep,
    territory: str,
    day: date | None,
    commune: str | None,
    epci: str | None,
    seuil: float,
) -> dict[str, Any]:
    return arcep_differences(conn, territory, date=day, insee=commune, epci=epci, seuil_m=seuil)


@router.get("/arcep")
def controle_arcep(
    conn: ConnectionDep,
    settings: SettingsDep,
    _actor: StaffActor,
    jour: date | None = DateQuery,
    commune: str | None = CommuneQuery,
    epci: str | None = EpciQuery,
    seuil: float = SeuilQuery,
    format: Literal["json", "csv"] = Query("json", description="json ou csv"),
) -> Response:
    """ARCEP's view of a quarter against the operator's IPE as of that date: counts per
    category, commune and EPCI, and one row per building and category."""
    result = _differences(conn, settings.departement, jour, commune, epci, seuil)
    if format == "csv":
        return _csv(result)
    return JSONResponse(jsonable_encoder(result))


@router.get("/arcep.csv")
def controle_arcep_csv(
    conn: ConnectionDep,
    settings: SettingsDep,
    _actor: StaffActor,
    jour: date | None = DateQuery,
    commune: str | None = CommuneQuery,
    epci: str | None = EpciQuery,
    seuil: float = SeuilQuery,
) -> Response:
    """The same rows as a `;`-separated CSV with French headers (UTF-8 with BOM), one line per
    building and category: the file staff send the delegate."""
    return _csv(_differences(conn, settings.departement, jour, commune, epci, seuil))
