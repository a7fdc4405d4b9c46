"""/api/v1/sites-mobiles, /api/v1/bornes-wifi, /api/v1/med and /api/v1/stats/programmes: the
programmes beside fibre as GeoJSON, one object with its history, and their indicators, as of
any date. Public data; the residents' opposition notes and who made each change are shown to
signed-in users only."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from geo_service.analysis import med, mobile, wifi
from geo_service.analysis.programmes import programme_indicators
from geo_service.api.deps import ConnectionDep, SessionDep, SettingsDep
from geo_service.api.security import CurrentActor, StaffActor
from geo_service.api.writes import commit_write, if_match, with_etag
from geo_service.db.enums import ETATS_BORNE, ETATS_SITE_MOBILE, PROGRAMMES_MOBILE
from geo_service.edits import programmes as edits
from geo_service.edits.versioning import etag
from geo_service.errors import InvalidParameterError, NotFoundError

router = APIRouter(prefix="/api/v1", tags=["programmes"])

AsOf = Annotated[
    date | None,
    Query(description="Date AAAA-MM-JJ de l'état voulu (défaut : aujourd'hui)"),
]
Commune = Annotated[
    str | None, Query(pattern=r"^\d[\dAB]\d{3}$", description="Code INSEE de la commune")
]
Epci = Annotated[str | None, Query(pattern=r"^\d{9}$", description="SIREN de l'EPCI")]
Code = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[^\x00/]+$")]
EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)
PRIVATE_FIELDS = ("opposition", "import_id", "x", "y", "etat_enregistre")
POSITION_FIELDS = ("longitude", "latitude")


def _as_of(value: date | None) -> date:
    if value is None:
        return date.today()
    if not EARLIEST <= value <= LATEST:
        raise InvalidParameterError(
            f"Date hors de la période admise ({EARLIEST:%d/%m/%Y} – {LATEST:%d/%m/%Y})."
        )
    return value


def _one_of(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if value is None:
        return None
    wanted = value.strip().upper()
    if wanted not in allowed:
        raise InvalidParameterError(
            f"{field} inconnu « {value[:40]} » (attendu : {', '.join(allowed)})."
        )
    return wanted


def _public(row: dict[str, Any], signed_in: bool) -> dict[str, Any]:
    """The row without the fields the public must not see (nor the internal ones)."""
    out = {k: v for k, v in row.items() if k not in POSITION_FIELDS}
    for field in PRIVATE_FIELDS:
        if field != "opposition" or not signed_in:
            out.pop(field, None)
    if "historique" in out:
        out["historique"] = [
            {k: v for k, v in h.items() if signed_in or k not in ("changed_by", "import_id")}
            for h in out["historique"]
        ]
    return out


def feature_collection(rows: list[dict[str, Any]], signed_in: bool) -> dict[str, Any]:
    """GeoJSON (WGS84) of rows carrying `longitude` / `latitude`."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": row["code"],
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(row["longitude"], 6), round(row["latitude"], 6)],
                },
                "properties": jsonable_encoder(_public(row, signed_in)),
            }
            for row in rows
        ],
    }


def _one(
    found: dict[str, Any] | None,
    what: str,
    code: str,
    signed_in: bool,
    *,
    conn: Connection,
    territory: str,
    kind: str,
) -> JSONResponse:
    """One object as a GeoJSON Feature, with its version as ETag (for If-Match on PATCH)."""
    if found is None:
        raise NotFoundError(f"{what} « {code} » inconnu sur ce territoire.")
    feature = feature_collection([found], signed_in)["features"][0]
    version = edits.get_object(conn, territory, kind, code)["version"]
    feature["properties"]["version"] = version
    return JSONResponse(feature, headers={"ETag": etag(version)})


@router.get("/sites-mobiles")
def get_mobile_sites(
    conn: ConnectionDep,
    settings: SettingsDep,
    actor: CurrentActor,
    as_of: AsOf = None,
    commune: Commune = None,
    epci: Epci = None,
    etat: Annotated[str | None, Query(max_length=30, description="État à la date")] = None,
    programme: Annotated[str | None, Query(max_length=30)] = None,
    en_retard: Annotated[bool | None, Query(description="Échéance légale dépassée")] = None,
) -> dict[str, Any]:
    """Mobile sites as they stood on the date, with their deadline and late flag."""
    rows = mobile.mobile_sites(
        conn,
        settings.departement,
        as_of=_as_of(as_of),
        insee=commune,
        epci=epci,
        etat=_one_of(etat, ETATS_SITE_MOBILE, "État"),
        programme=_one_of(programme, PROGRAMMES_MOBILE, "Programme"),
        en_retard=en_retard,
    )
    return feature_collection(rows, actor is not None)


@router.get("/sites-mobiles/{code}")
def get_mobile_site(
    code: Code, conn: ConnectionDep, settings: SettingsDep, actor: CurrentActor, as_of: AsOf = None
) -> JSONResponse:
    """One mobile site on the date, with its ANFR stations, technologies and history."""
    found = mobile.mobile_site(conn, settings.departement, code, as_of=_as_of(as_of))
    return _one(
        found,
        "Site mobile",
        code,
        actor is not None,
        conn=conn,
        territory=settings.departement,
        kind="sites-mobiles",
    )


@router.get("/bornes-wifi")
def get_wifi_bornes(
    conn: ConnectionDep,
    settings: SettingsDep,
    actor: CurrentActor,
    as_of: AsOf = None,
    commune: Commune = None,
    epci: Epci = None,
    etat: Annotated[str | None, Query(max_length=30)] = None,
) -> dict[str, Any]:
    """WiFi bornes as they stood on the date (radius in metres)."""
    rows = wifi.wifi_bornes(
        conn,
        settings.departement,
        as_of=_as_of(as_of),
        insee=commune,
        epci=epci,
        etat=_one_of(etat, ETATS_BORNE, "État"),
    )
    return feature_collection(rows, actor is not None)


@router.get("/bornes-wifi/{code}")
def get_wifi_borne(
    code: Code, conn: ConnectionDep, settings: SettingsDep, actor: CurrentActor, as_of: AsOf = None
) -> JSONResponse:
    """One borne on the date, with its monthly usage and history."""
    found = wifi.wifi_borne(conn, settings.departement, code, as_of=_as_of(as_of))
    return _one(
        found,
        "Borne WiFi",
        code,
        actor is not None,
        conn=conn,
        territory=settings.departement,
        kind="bornes-wifi",
    )


@router.get("/med")
def get_med_sites(
    conn: ConnectionDep,
    settings: SettingsDep,
    actor: CurrentActor,
    as_of: AsOf = None,
    commune: Commune = None,
    epci: Epci = None,
    etat: Annotated[str | None, Query(max_length=30)] = None,
) -> dict[str, Any]:
    """MED cabinets with their milestones and state on the date."""
    rows = med.med_sites(
        conn,
        settings.departement,
        as_of=_as_of(as_of),
        insee=commune,
        epci=epci,
        etat=_one_of(etat, med.ETATS_MED, "État"),
    )
    return feature_collection(rows, actor is not None)


@router.get("/med/{code}")
def get_med_site(
    code: Code, conn: ConnectionDep, settings: SettingsDep, actor: CurrentActor, as_of: AsOf = None
) -> JSONResponse:
    """One MED cabinet on the date, with its history."""
    found = med.med_site(conn, settings.departement, code, as_of=_as_of(as_of))
    return _one(
        found,
        "Site de montée en débit",
        code,
        actor is not None,
        conn=conn,
        territory=settings.departement,
        kind="med",
    )


@router.get("/stats/programmes")
def get_programme_stats(
    conn: ConnectionDep,
    settings: SettingsDep,
    level: Annotated[str, Query(description="commune, epci ou departement")] = "departement",
    code: Annotated[str | None, Query(max_length=9, pattern=r"^[\dAB]+$")] = None,
    as_of: AsOf = None,
) -> dict[str, Any]:
    """Mobile, WiFi and MED indicators of a commune, an EPCI or the département on the date,
    each beside the département's."""
    if level not in mobile.LEVELS:
        raise InvalidParameterError(
            f"Niveau inconnu « {level[:20]} » (attendu : {', '.join(mobile.LEVELS)})."
        )
    figures = programme_indicators(
        conn, settings.departement, as_of=_as_of(as_of), level=level, code=code
    )
    return jsonable_encoder(figures)  # type: ignore[no-any-return]


EditBody = Annotated[
    dict[str, Annotated[str | int | None, Body()]],
    Body(
        description="Champs à modifier (dates AAAA-MM-JJ, textes, entiers) ; un champ vide "
        "(null) efface la valeur.",
        examples=[{"date_mise_en_service": "2024-05-02"}],
    ),
]


def _patch_route(kind: str) -> None:
    @router.patch(f"/{kind}/{{code}}", name=f"patch_{kind}")
    def patch_object(
        code: Code,
        values: EditBody,
        session: SessionDep,
        actor: StaffActor,
        version: Annotated[int, Depends(if_match)],
    ) -> JSONResponse:
        """Change stage dates and the syndicat's fields (staff): the whole record must keep
        the lifecycle rules; If-Match required (409 with the current state when stale)."""
        return with_etag(
            commit_write(
                session,
                lambda: edits.update_object(
                    session.connection(),
                    actor,
                    kind,
                    code,
                    expected_version=version,
                    values=dict(values),
                ),
            )
        )


for _kind in edits.KINDS:
    _patch_route(_kind)
