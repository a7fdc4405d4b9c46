"""/healthz: is the database reachable, which PostgreSQL and PostGIS versions, and the state of
each read replica (name without credentials, état, replay delay)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from geo_service.analysis.health import database_health
from geo_service.api.deps import ConnectionDep

router = APIRouter(tags=["santé"])


@router.get("/healthz")
def healthz(request: Request, conn: ConnectionDep) -> dict[str, object]:
    body: dict[str, object] = {"status": "ok", **database_health(conn)}
    replicas = getattr(request.app.state, "replicas", None)
    if replicas is not None:
        replicas.refresh()  # checked now, not as of the last read
        body["replicas"] = replicas.statuses()
    return body
