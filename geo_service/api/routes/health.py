"""/healthz: is the database reachable, which PostgreSQL and PostGIS versions."""

from __future__ import annotations

from fastapi import APIRouter

from geo_service.analysis.health import database_health
from geo_service.api.deps import ConnectionDep

router = APIRouter(tags=["santé"])


@router.get("/healthz")
def healthz(conn: ConnectionDep) -> dict[str, object]:
    return {"status": "ok", **database_health(conn)}
