"""/api/v1/export/donnees.gpkg: every public collection as one GeoPackage (QGIS, data.gouv.fr)."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Query
from fastapi.responses import Response

from geo_service.analysis.open_data import write_geopackage
from geo_service.api.deps import ConnectionDep, SettingsDep

router = APIRouter(prefix="/api/v1/export", tags=["exports"])
GEOPACKAGE = "application/geopackage+sqlite3"


@router.get(
    "/donnees.gpkg",
    summary="Données ouvertes en GeoPackage",
    description="Zones PM, communes et EPCI avec leurs chiffres, locaux, NRO, sites mobiles, "
    "bornes WiFi et sites MED : couches publiques seules, chacune avec sa source et sa date.",
    response_class=Response,
    responses={200: {"content": {GEOPACKAGE: {}}, "description": "Le fichier GeoPackage"}},
)
def donnees_gpkg(
    conn: ConnectionDep,
    settings: SettingsDep,
    date_: date | None = Query(
        None, alias="date", description="Date des chiffres des zones, communes et EPCI"
    ),
) -> Response:
    """Every public layer with its source and date (written to a temporary file, then sent)."""
    code = settings.departement
    with tempfile.TemporaryDirectory(prefix="geo_service_gpkg_") as folder:
        path = Path(folder) / "donnees.gpkg"
        write_geopackage(conn, path, code, as_of=date_)
        body = path.read_bytes()
    return Response(
        body,
        media_type=GEOPACKAGE,
        headers={"Content-Disposition": f'attachment; filename="donnees_{code}.gpkg"'},
    )
