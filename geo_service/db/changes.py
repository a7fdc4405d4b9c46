"""The change log of objects edited outside the IPE history (registers, RAD steps, reports)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, text


def log_change(
    conn: Connection,
    *,
    table: str,
    key: str,
    user: str,
    before: Mapping[Any, Any] | None,
    after: Mapping[Any, Any],
    valid_from: date | None = None,
    import_id: int | None = None,
) -> None:
    """Record who changed what (before/after as JSON), when, and from which import."""
    conn.execute(
        text(
            "INSERT INTO asset_change (table_name, object_key, valid_from, changed_by, import_id, "
            "before, after) VALUES (:t, :k, COALESCE(CAST(:d AS date), current_date), :u, :j, "
            "CAST(:b AS jsonb), CAST(:a AS jsonb))"
        ),
        {
            "t": table,
            "k": key,
            "d": valid_from,
            "u": user,
            "j": import_id,
            "b": None if before is None else json.dumps(dict(before), default=str),
            "a": json.dumps(dict(after), default=str),
        },
    )
