"""/api/v1/prises: prises onéreuses, raccordables à la demande, oubliés; /api/v1/quand."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from geo_service.analysis import onereuses as ono
from geo_service.analysis import oublies, quand, rad
from geo_service.api.deps import ConnectionDep, SessionDep, SettingsDep
from geo_service.errors import InvalidParameterError

router = APIRouter(prefix="/api/v1", tags=["prises"])


@router.get("/prises/onereuses")
def get_onereuses(
    conn: ConnectionDep,
    settings: SettingsDep,
    seuil: float | None = Query(None, description="Seuil en € par logement (défaut : couts.toml)"),
    commune: str | None = Query(None, description="Code INSEE"),
    as_of: date | None = Query(None),
    limit: int = Query(1000, ge=1, le=100_000),
) -> dict[str, Any]:
    rows = ono.onereuses(
        conn, territory=settings.departement, as_of=as_of, threshold=seuil, insee=commune
    )
    return {
        "total": len(rows),
        "logements": sum(int(r["logements"]) for r in rows),
        "prises": rows[:limit],
    }


@router.get("/prises/onereuses/equite")
def get_equite(
    conn: ConnectionDep,
    settings: SettingsDep,
    seuil: float | None = None,
    as_of: date | None = None,
) -> list[dict[str, Any]]:
    return ono.equity(conn, territory=settings.departement, as_of=as_of, threshold=seuil)


@router.get("/prises/onereuses/comparaison")
def get_comparaison(
    conn: ConnectionDep,
    settings: SettingsDep,
    seuil: float | None = None,
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
    settings: SettingsDep,
    as_of: date | None = None,
    level: str | None = Query(None, description="commune ou epci : comptes au lieu de la liste"),
) -> Any:
    if level:
        return rad.rad_counts(conn, territory=settings.departement, level=level, as_of=as_of)
    return rad.rad_list(conn, territory=settings.departement, as_of=as_of)


class RadStep(BaseModel):
    etape: str
    date_avenant: date | None = None
    date_demande: date | None = None
    date_construction: date | None = None
    commentaire: str | None = None
    utilisateur: str


@router.put("/prises/rad/{identifiant:path}")
def put_rad(identifiant: str, body: RadStep, session: SessionDep) -> dict[str, Any]:
    """Staff: record the procedure step of a RAD address (kept in the change history)."""
    result = rad.set_rad_step(
        session.connection(),
        identifiant,
        etape=body.etape,
        user=body.utilisateur,
        date_avenant=body.date_avenant,
        date_demande=body.date_demande,
        date_construction=body.date_construction,
        commentaire=body.commentaire,
    )
    session.commit()
    return result


@router.get("/prises/oublies")
def get_oublies(
    conn: ConnectionDep,
    settings: SettingsDep,
    as_of: date | None = None,
    seuil: float = Query(95.0, ge=0, le=100),
) -> dict[str, Any]:
    zones = oublies.in_finished_zones(
        conn, territory=settings.departement, as_of=as_of, seuil=seuil
    )
    missing = oublies.missing_from_operator(conn, territory=settings.departement)
    return {"dans_zones_terminees": zones, "absentes_du_fichier_operateur": missing}


@router.get("/quand")
def get_quand(
    conn: ConnectionDep,
    settings: SettingsDep,
    lat: float | None = None,
    lon: float | None = None,
    adresse: str | None = None,
) -> dict[str, Any]:
    if adresse:
        return quand.quand_address(conn, adresse, territory=settings.departement)
    if lat is None or lon is None:
        raise InvalidParameterError("Indiquez une adresse (?adresse=…) ou un point (?lat=…&lon=…).")
    return quand.quand_point(conn, lat=lat, lon=lon, territory=settings.departement)


@router.get("/adresses")
def get_adresses(
    conn: ConnectionDep,
    settings: SettingsDep,
    q: str = Query(..., min_length=1),
    limit: int = Query(8, ge=1, le=20),
) -> list[dict[str, Any]]:
    """Autocomplete for the public search box."""
    return quand.search_addresses(conn, q, territory=settings.departement, limit=limit)
