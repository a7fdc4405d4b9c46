"""Optimistic concurrency: each editable object has a version, sent as an ETag; a write must
name the version it read (If-Match) and is refused with the current state when stale."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from geo_service import audit
from geo_service.auth.actor import Actor
from geo_service.errors import (
    ConflictError,
    InvalidParameterError,
    PreconditionRequiredError,
)

_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> int:
    """The version named by an If-Match header (428 when absent, 400 when unreadable)."""
    if header is None or not header.strip():
        raise PreconditionRequiredError(
            "En-tête If-Match obligatoire : relisez l'objet et renvoyez son ETag "
            "(contrôle des modifications concurrentes)."
        )
    match = _ETAG.match(header)
    if not match:
        raise InvalidParameterError(f"En-tête If-Match illisible : {header[:40]!r}.")
    return int(match.group(1))


def check_version(
    conn: Connection,
    actor: Actor,
    *,
    object_type: str,
    object_key: str,
    current: dict[str, Any],
    expected: int,
    wanted: dict[str, Any],
) -> None:
    """Refuse a stale write: recorded in the audit (outcome « refuse ») then a 409 carrying the
    current state. The caller commits the audit row before answering."""
    if int(current["version"]) == expected:
        return
    audit.record(
        conn,
        actor,
        action="modification",
        object_type=object_type,
        object_key=object_key,
        before=current,
        after=wanted,
        outcome="refuse",
        detail=f"version {expected} périmée (actuelle : {current['version']})",
    )
    raise ConflictError(
        f"Modifié entre-temps par quelqu'un d'autre (version {current['version']}, vous aviez la "
        f"{expected}) : rien n'a été enregistré. Relisez l'état actuel avant de recommencer.",
        current=current,
    )


def changed_fields(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose value changes, before and after."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
