"""/api/v1/imports: upload an exchange file; the CLI's importer runs as the token's user and
answers with the same report (file, line, column, value, reason) as JSON."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile

from geo_service.api.deps import SessionDep, SettingsDep
from geo_service.api.security import StaffActor
from geo_service.ingest import uploads

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


@router.get("")
def get_journal(
    session: SessionDep, _actor: StaffActor, limit: int = Query(50, ge=1, le=1000)
) -> list[dict[str, Any]]:
    """The import journal: who imported what, when, counts, duration, status."""
    return uploads.journal(session.connection(), limit=limit)


@router.post("/{kind}")
def post_import(
    kind: Annotated[str, Path(description=", ".join(uploads.KINDS), max_length=20)],
    request: Request,
    actor: StaffActor,
    settings: SettingsDep,
    fichier: Annotated[UploadFile, File(description="Le fichier à importer")],
    date_: Annotated[date | None, Form(alias="date", description="Date de l'instantané")] = None,
    skip_invalid: Annotated[bool, Form(description="Importer les lignes valides")] = False,
) -> dict[str, Any]:
    name = uploads.safe_name(fichier.filename, kind)
    with uploads.stored_upload(fichier.file, name, max_bytes=settings.max_upload_mb << 20) as path:
        result = uploads.run_upload(
            request.app.state.engine,
            kind,
            path,
            actor,
            snapshot_date=date_,
            skip_invalid=skip_invalid,
        )
    answer = asdict(result)
    answer.pop("bulk")  # the service's own concern (a VACUUM after a first load)
    return answer
