"""/api/v1/export: PM zones (GeoJSON, CSV), prises onéreuses and oubliés (CSV) for QGIS / Excel.

CSV files are `;`-separated UTF-8 with a BOM and decimal commas, as French Excel expects.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import geopandas as gpd
from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import Connection

from geo_service.analysis import oublies
from geo_service.analysis.onereuses import onereuses
from geo_service.analysis.unit_layers import zones_frame
from geo_service.api.deps import ConnectionDep, SettingsDep
from geo_service.api.security import StaffActor

router = APIRouter(prefix="/api/v1/export", tags=["exports"])

ZONE_COLUMNS = [
    "reference",
    "nro_code",
    "code_zone",
    "etat",
    "logements",
    "raccordables",
    "taux",
    "bande",
    "doe_etat",
    "date_installation",
    "date_prevue",
]
ONEREUSE_COLUMNS = [
    "identifiant_immeuble",
    "insee",
    "commune_nom",
    "adresse",
    "etat",
    "logements",
    "pm_reference",
    "distance_reseau_m",
    "distance_route_m",
    "voisins",
    "isole",
    "genie_civil",
    "cout_estime",
    "cout_par_logement",
    "explication",
    "lon",
    "lat",
]
OUBLIE_COLUMNS = [
    "motif",
    "identifiant",
    "insee",
    "commune",
    "adresse",
    "etat",
    "logements",
    "pm_reference",
    "taux_zone",
    "lon",
    "lat",
]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, Decimal)):
        return str(value).replace(".", ",")
    return str(value)


def csv_response(rows: Iterable[dict[str, Any]], columns: list[str], filename: str) -> Response:
    """A downloadable `;`-separated CSV (UTF-8 with BOM) of `columns`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _zones(conn: Connection, territory: str) -> gpd.GeoDataFrame:
    return zones_frame(conn, territory, tolerance_m=0.0, date_format="%Y-%m-%d")


@router.get("/zones.geojson")
def zones_geojson(conn: ConnectionDep, settings: SettingsDep) -> Response:
    """PM zones (RIP) with their completion, full-resolution geometry, WGS84."""
    frame = _zones(conn, settings.departement)
    body = json.loads(frame[[*ZONE_COLUMNS, "geom"]].to_json(drop_id=False))
    return Response(
        json.dumps(body, ensure_ascii=False).encode("utf-8"),
        media_type="application/geo+json",
        headers={
            "Content-Disposition": f'attachment; filename="zones_{settings.departement}.geojson"'
        },
    )


@router.get("/zones.csv")
def zones_csv(conn: ConnectionDep, settings: SettingsDep) -> Response:
    frame = _zones(conn, settings.departement)
    rows = frame[ZONE_COLUMNS].to_dict("records")
    return csv_response(rows, ZONE_COLUMNS, f"zones_{settings.departement}.csv")


@router.get("/onereuses.csv")
def onereuses_csv(
    conn: ConnectionDep,
    settings: SettingsDep,
    _actor: StaffActor,
    seuil: float | None = Query(
        None,
        ge=0,
        le=1_000_000,
        allow_inf_nan=False,
        description="Seuil en € par logement (défaut : couts.toml)",
    ),
) -> Response:
    """Non-public (addresses): staff only."""
    rows = onereuses(conn, territory=settings.departement, threshold=seuil)
    return csv_response(rows, ONEREUSE_COLUMNS, f"prises_onereuses_{settings.departement}.csv")


@router.get("/oublies.csv")
def oublies_csv(
    conn: ConnectionDep,
    settings: SettingsDep,
    _actor: StaffActor,
    seuil: float = Query(
        95.0, ge=0, le=100, allow_inf_nan=False, description="Taux de la zone au-delà duquel"
    ),
) -> Response:
    """Non-public (addresses): staff only."""
    code = settings.departement
    rows = [
        {**r, "identifiant": r["identifiant_immeuble"], "commune": r["commune_nom"]}
        for r in oublies.in_finished_zones(conn, territory=code, seuil=seuil)
    ]
    rows += [
        {
            **r,
            "identifiant": r["id"],
            "commune": r["nom_commune"],
            "adresse": " ".join(str(p) for p in (r["numero"], r["rep"], r["nom_voie"]) if p),
        }
        for r in oublies.missing_from_operator(conn, territory=code)
    ]
    return csv_response(rows, OUBLIE_COLUMNS, f"oublies_{code}.csv")
