"""The audit trail: who wrote what, when, from where (API, console, CLI, import), before and
after, with the request id; refused writes are recorded too. Read by /api/v1/audit."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, text

from geo_service.auth.actor import Actor

# The actor of the imports run in this context (API and console uploads set it; the CLI
# leaves it unset and its imports are recorded as source "cli" under the journal's user).
_import_actor: ContextVar[Actor | None] = ContextVar("import_actor", default=None)


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _import_actor.set(actor)
    try:
        yield
    finally:
        _import_actor.reset(token)


def import_actor() -> Actor | None:
    return _import_actor.get()


def _json(value: Mapping[Any, Any] | None) -> str | None:
    return None if value is None else json.dumps(dict(value), default=str, ensure_ascii=False)


def record(
    conn: Connection,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_key: str,
    before: Mapping[Any, Any] | None = None,
    after: Mapping[Any, Any] | None = None,
    outcome: str = "ok",
    import_id: int | None = None,
    detail: str | None = None,
) -> int:
    """One row of the audit trail, in the caller's transaction."""
    return int(
        conn.execute(
            text(
                "INSERT INTO audit_log (territory_code, user_id, user_name, action, object_type, "
                "object_key, before, after, source, import_id, request_id, outcome, detail) VALUES "
                "(:t, :uid, :u, :a, :ot, :ok, CAST(:b AS jsonb), CAST(:af AS jsonb), :s, :j, :r, "
                ":o, :d) RETURNING id"
            ),
            {
                "t": actor.territory,
                "uid": actor.user_id,
                "u": actor.name,
                "a": action,
                "ot": object_type,
                "ok": object_key[:200],
                "b": _json(before),
                "af": _json(after),
                "s": actor.source,
                "j": import_id,
                "r": actor.request_id,
                "o": outcome,
                "d": detail,
            },
        ).scalar_one()
    )


def entries(
    conn: Connection,
    *,
    territory: str,
    user: str | None = None,
    object_type: str | None = None,
    object_key: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The trail, newest first, filtered by user, object and date (until = inclusive day)."""
    rows = conn.execute(
        text(
            "SELECT id, at, user_name, action, object_type, object_key, before, after, source, "
            "import_id, request_id, outcome, detail FROM audit_log WHERE territory_code = :t "
            "AND (CAST(:u AS text) IS NULL OR user_name = :u) "
            "AND (CAST(:ot AS text) IS NULL OR object_type = :ot) "
            "AND (CAST(:ok AS text) IS NULL OR object_key = :ok) "
            "AND (CAST(:since AS timestamptz) IS NULL OR at >= :since) "
            "AND (CAST(:until AS timestamptz) IS NULL OR at < :until) "
            "ORDER BY id DESC LIMIT :lim OFFSET :off"
        ),
        {
            "t": territory,
            "u": user,
            "ot": object_type,
            "ok": object_key,
            "since": datetime.combine(since, time.min) if since else None,
            "until": datetime.combine(until, time.max) if until else None,
            "lim": limit,
            "off": offset,
        },
    ).mappings()
    return [dict(r) for r in rows]
