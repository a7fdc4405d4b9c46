"""/api/v1/stats: raccordables per unit and roll-out progress."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

from geo_service.analysis.progress import armoires_summary, progress
from geo_service.analysis.raccordables import LEVELS, Level, raccordables_json
from geo_service.api.caching import cached
from geo_service.api.deps import ConnectionDep, SettingsDep
from geo_service.errors import InvalidParameterError

router = APIRouter(prefix="/api/v1/stats", tags=["statistiques"])


def _level(value: str) -> Level:
    if value not in LEVELS:
        raise InvalidParameterError(f"Niveau inconnu « {value} » (attendu : {', '.join(LEVELS)}).")
    return value  # type: ignore[return-value]


def _levels(value: str) -> tuple[Level, ...] | None:
    """One level, several separated by commas, or `tous` (None: every level of the territory)."""
    if value.strip() == "tous":
        return None
    return tuple(_level(part.strip()) for part in value.split(","))


def raccordables_cache_key(
    territory: str,
    levels: tuple[Level, ...] | None,
    as_of: date | None = None,
    code: str | None = None,
    amii: bool = False,
) -> str:
    """The shared cache's key of one question (also that of `cache warm`)."""
    return f"{territory}:{','.join(levels or ('tous',))}:{as_of or ''}:{code or ''}:{amii}"


@router.get("/raccordables", response_model=list[dict[str, Any]])
def get_raccordables(
    request: Request,
    conn: ConnectionDep,
    settings: SettingsDep,
    level: str = Query(
        "departement",
        description="pm, nro, commune, epci, departement_membre (territoire de plusieurs "
        "départements) ou departement (le territoire entier) ; plusieurs séparés par des "
        "virgules, ou « tous »",
        max_length=200,
    ),
    as_of: date | None = Query(None, description="Date AAAA-MM-JJ (défaut : aujourd'hui)"),
    code: str | None = Query(
        None, description="Limiter à une unité (code INSEE, SIREN, référence PM…)"
    ),
    amii: bool = Query(False, description="Inclure la zone AMII (réseau propre d'Orange)"),
) -> Response:
    """The JSON is built by PostgreSQL (a national territory's 51 000 units in one answer), once
    per data version and question (public figures: the same body for every reader)."""
    levels = _levels(level)
    return cached(
        request,
        conn,
        kind="raccordables",
        key=raccordables_cache_key(settings.departement, levels, as_of, code, amii),
        render=lambda: raccordables_json(
            conn,
            territory=settings.departement,
            as_of=as_of,
            levels=levels,
            include_amii=amii,
            codes=None if code is None else [code],
        ),
        media_type="application/json",
    )


@router.get("/armoires")
def get_armoires(
    conn: ConnectionDep, settings: SettingsDep, as_of: date | None = Query(None)
) -> dict[str, Any]:
    return armoires_summary(conn, territory=settings.departement, as_of=as_of)


@router.get("/progress")
def get_progress(
    request: Request,
    conn: ConnectionDep,
    settings: SettingsDep,
    level: str = Query("departement", description="pm, nro, commune, epci ou departement"),
    code: str | None = Query(None, description="Code de l'unité (défaut : le département)"),
    as_of: date | None = Query(None),
) -> Response:
    """Monthly raccordables against contractual targets, armoires by band, DOE due (computed
    once per data version)."""
    unit_level, unit_code = _level(level), code or settings.departement
    return cached(
        request,
        conn,
        kind="progress",
        key=f"{settings.departement}:{unit_level}:{unit_code}:{as_of or ''}",
        render=lambda: json.dumps(
            jsonable_encoder(
                progress(
                    conn,
                    territory=settings.departement,
                    level=unit_level,
                    code=unit_code,
                    as_of=as_of,
                )
            ),
            ensure_ascii=False,
        ),
        media_type="application/json",
    )
