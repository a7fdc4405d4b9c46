"""What every write route does the same way: read If-Match, commit (keeping the audit row of a
refused write), answer with the object and its ETag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from geo_service.edits.versioning import etag, parse_if_match
from geo_service.errors import ConflictError

IF_MATCH_HELP = "Version lue (ETag de la lecture) : obligatoire, 409 si elle est périmée."


def if_match(
    if_match: str | None = Header(None, alias="If-Match", description=IF_MATCH_HELP),
) -> int:
    return parse_if_match(if_match)


def commit_write(session: Session, write: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a write and commit; a version conflict commits its audit row, then propagates."""
    try:
        result = write()
    except ConflictError:
        session.commit()
        raise
    except Exception:
        session.rollback()
        raise
    session.commit()
    return result


def with_etag(obj: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(obj),
        status_code=status_code,
        headers={"ETag": etag(int(obj["version"]))},
    )
