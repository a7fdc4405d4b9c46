"""/api/v1/prises: prises onéreuses, raccordables à la demande, oubliés; /api/v1/quand."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from geo_service.analysis import onereuses as ono
from geo_service.analysis import oublies, quand, rad
from geo_service.api.deps import ConnectionDep, SessionDep, SettingsDep, in_thread
from geo_service.api.security import (
    CurrentActor,
    SignedInActor,
    StaffActor,
    area_insees,
    check_area,
    require,
)
from geo_service.api.writes import commit_write, if_match, with_etag
from geo_service.db.enums import ETATS_RAD
from geo_service.edits import rad as rad_edits
from geo_service.errors import InvalidParameterError

router = APIRouter(prefix="/api/v1", tags=["prises"])
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL: refused here with a 422, not a 500
Seuil = Annotated[
    float | None,
    Query(ge=0, le=1_000_000, allow_inf_nan=False, description="Seuil en € par logement"),
]


@router.get("/prises/onereuses")
def get_onereuses(
    conn: ConnectionDep,
    session: SessionDep,
    actor: SignedInActor,
    seuil: float | None = Query(
        None,
        ge=0,
        le=1_000_000,
        allow_inf_nan=False,
        description="Seuil en € par logement (défaut : couts.toml)",
    ),
    commune: str | None = Query(None, description="Code INSEE", max_length=5),
    as_of: date | None = Query(None),
    limit: int = Query(1000, ge=1, le=100_000),
) -> dict[str, Any]:
    """Addresses of expensive premises (non-public: staff, or the élu of the area)."""
    allowed = area_insees(session, actor)
    if commune:
        check_area(session, actor, [commune])
    rows = ono.onereuses(
        conn, territory=actor.territory, as_of=as_of, threshold=seuil, insee=commune
    )
    if allowed is not None:
        rows = [r for r in rows if r["insee"] in allowed]
    return {
        "total": len(rows),
        "logements": sum(int(r["logements"]) for r in rows),
        "prises": rows[:limit],
    }


@router.get("/prises/onereuses/equite")
def get_equite(
    conn: ConnectionDep,
    settings: SettingsDep,
    seuil: Seuil = None,
    as_of: date | None = None,
) -> list[dict[str, Any]]:
    return ono.equity(conn, territory=settings.departement, as_of=as_of, threshold=seuil)


@router.get("/prises/onereuses/comparaison")
def get_comparaison(
    conn: ConnectionDep,
    settings: SettingsDep,
    _actor: StaffActor,
    seuil: Seuil = None,
    date_liste: date | None = None,
) -> dict[str, Any]:
    return ono.compare_with_operator(
        conn, territory=settings.departement, list_date=date_liste, threshold=seuil
    )


@router.get("/prises/onereuses/operateur")
def get_operateur_en_attente(
    conn: ConnectionDep, settings: SettingsDep, as_of: date | None = None
) -> dict[str, Any]:
    """Logements of the operator's expensive list still pending as of a date."""
    return ono.operator_list_pending(conn, territory=settings.departement, as_of=as_of)


@router.get("/prises/rad")
def get_rad(
    conn: ConnectionDep,
    session: SessionDep,
    settings: SettingsDep,
    actor: CurrentActor,
    as_of: date | None = None,
    level: str | None = Query(
        None, max_length=20, description="commune ou epci : comptes au lieu de la liste"
    ),
) -> Any:
    """Counts per commune or EPCI (public). Without `level`, the addresses that are (or were)
    raccordables à la demande with their procedure step: non-public (staff, or the élu of the
    area, who sees the area's addresses only)."""
    if level:
        return rad.rad_counts(conn, territory=settings.departement, level=level, as_of=as_of)
    signed_in = require("elu")(actor)
    rows = rad.rad_list(conn, territory=signed_in.territory, as_of=as_of)
    allowed = area_insees(session, signed_in)
    return rows if allowed is None else [r for r in rows if r["insee"] in allowed]


class RadStep(BaseModel):
    """A RAD address's procedure record (the author comes from the session or token)."""

    model_config = ConfigDict(extra="ignore")
    etape: str = Field(description=" → ".join(ETATS_RAD), max_length=20)
    date_avenant: date | None = None
    date_demande: date | None = None
    date_construction: date | None = None
    commentaire: str | None = Field(None, max_length=2000)


Identifiant = Annotated[str, Path(max_length=80, description="IdentifiantImmeuble")]
ReadIdentifiant = Annotated[
    str, Path(max_length=80, pattern=NO_NUL, description="IdentifiantImmeuble")
]


@router.get("/prises/rad/{identifiant:path}")
def get_rad_one(identifiant: ReadIdentifiant, session: SessionDep, actor: SignedInActor) -> Any:
    record = rad_edits.get_rad(session.connection(), actor.territory, identifiant)
    check_area(session, actor, [record["insee"]])
    return with_etag(record)


@router.put("/prises/rad/{identifiant:path}")
def put_rad(
    identifiant: Identifiant,
    body: RadStep,
    session: SessionDep,
    actor: StaffActor,
    version: Annotated[int, Depends(if_match)],
) -> Any:
    """Staff: record the procedure step of a RAD address (history and audit kept)."""
    values = body.model_dump()
    return with_etag(
        commit_write(
            session,
            lambda: rad_edits.set_rad_step(
                session.connection(), actor, identifiant, expected_version=version, values=values
            ),
        )
    )


@router.get("/prises/oublies")
def get_oublies(
    conn: ConnectionDep,
    session: SessionDep,
    actor: SignedInActor,
    as_of: date | None = None,
    seuil: float = Query(95.0, ge=0, le=100, allow_inf_nan=False),
) -> dict[str, Any]:
    """Forgotten addresses (non-public: staff, or the élu of the area)."""
    zones = oublies.in_finished_zones(conn, territory=actor.territory, as_of=as_of, seuil=seuil)
    missing = oublies.missing_from_operator(conn, territory=actor.territory)
    allowed = area_insees(session, actor)
    if allowed is not None:
        zones = [r for r in zones if r.get("insee") in allowed]
        missing = [r for r in missing if r.get("insee") in allowed]
    return {"dans_zones_terminees": zones, "absentes_du_fichier_operateur": missing}


@router.get("/quand")
async def get_quand(
    session: SessionDep,
    settings: SettingsDep,
    lat: float | None = Query(None, ge=-90, le=90, allow_inf_nan=False),
    lon: float | None = Query(None, ge=-180, le=180, allow_inf_nan=False),
    adresse: str | None = Query(None, max_length=300, pattern=NO_NUL),
) -> dict[str, Any]:
    territory = settings.departement
    if adresse:
        query = adresse
        return await in_thread(
            session, lambda conn: quand.quand_address(conn, query, territory=territory)
        )
    if lat is None or lon is None:
        raise InvalidParameterError("Indiquez une adresse (?adresse=…) ou un point (?lat=…&lon=…).")
    at = (lat, lon)
    return await in_thread(
        session, lambda conn: quand.quand_point(conn, lat=at[0], lon=at[1], territory=territory)
    )


@router.get("/adresses")
async def get_adresses(
    session: SessionDep,
    settings: SettingsDep,
    q: str = Query(..., min_length=1, max_length=300, pattern=NO_NUL),
    limit: int = Query(8, ge=1, le=20),
) -> list[dict[str, Any]]:
    """Autocomplete for the public search box."""
    territory = settings.departement
    return await in_thread(
        session, lambda conn: quand.search_addresses(conn, q, territory=territory, limit=limit)
    )
