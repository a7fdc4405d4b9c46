"""/api/v1/audit: the audit trail (administrators only), filtered by user, object and date."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query

from geo_service import audit
from geo_service.api.deps import SessionDep
from geo_service.api.security import AdminActor

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
def get_audit(
    session: SessionDep,
    actor: AdminActor,
    utilisateur: str | None = Query(None, max_length=120),
    objet: str | None = Query(
        None, max_length=40, description="pm, rad, signalement, objectif, utilisateur, import_ipe…"
    ),
    cle: str | None = Query(None, max_length=200, description="Clé de l'objet"),
    depuis: date | None = None,
    jusqu_au: date | None = None,
    limit: int = Query(200, ge=1, le=5000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> list[dict[str, Any]]:
    return audit.entries(
        session.connection(),
        territory=actor.territory,
        user=utilisateur,
        object_type=objet,
        object_key=cle,
        since=depuis,
        until=jusqu_au,
        limit=limit,
        offset=offset,
    )
