"""Validation shared by the edit services (field by field, French reasons) and object history."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service import audit
from geo_service.auth.actor import Actor
from geo_service.db.changes import log_change
from geo_service.errors import FieldValidationError

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class Fields:
    """Collects field errors, then raises them together."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def date(self, name: str, value: Any, *, required: bool = False) -> date | None:
        if value in (None, ""):
            if required:
                self.errors[name] = "date obligatoire"
            return None
        if isinstance(value, date):
            day = value
        else:
            try:
                day = date.fromisoformat(str(value).strip())
            except ValueError:
                self.errors[name] = f"date invalide « {str(value)[:20]} » (attendu AAAA-MM-JJ)"
                return None
        if not EARLIEST <= day <= LATEST:
            self.errors[name] = f"date hors de la plage {EARLIEST:%Y}-{LATEST:%Y}"
            return None
        return day

    def choice(
        self, name: str, value: Any, allowed: tuple[str, ...], *, required: bool = True
    ) -> str | None:
        if value in (None, ""):
            if required:
                self.errors[name] = "valeur obligatoire"
            return None
        if value not in allowed:
            self.errors[name] = (
                f"valeur inconnue « {str(value)[:40]} » (attendu : {', '.join(allowed)})"
            )
            return None
        return str(value)

    def text(self, name: str, value: Any, *, max_length: int, required: bool = False) -> str | None:
        if value is None or not str(value).strip():
            if required:
                self.errors[name] = "texte obligatoire"
            return None
        clean = str(value).strip()
        if "\x00" in clean:
            self.errors[name] = "caractère nul interdit"
            return None
        if len(clean) > max_length:
            self.errors[name] = f"au plus {max_length} caractères (reçu {len(clean)})"
            return None
        return clean

    def integer(self, name: str, value: Any, *, minimum: int, maximum: int) -> int | None:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            self.errors[name] = f"nombre entier attendu (reçu « {str(value)[:20]} »)"
            return None
        if not minimum <= number <= maximum:
            self.errors[name] = f"entre {minimum} et {maximum}"
            return None
        return number

    def raise_if_any(self) -> None:
        if self.errors:
            raise FieldValidationError(self.errors)


def history(conn: Connection, table: str, key: str, limit: int = 100) -> list[dict[str, Any]]:
    """The recorded changes of one object, newest first (asset_change and the audit trail)."""
    rows = conn.execute(
        text(
            "SELECT changed_at AS at, valid_from, changed_by AS user_name, import_id, before, after "
            "FROM asset_change WHERE table_name = :t AND object_key = :k "
            "ORDER BY id DESC LIMIT :l"
        ),
        {"t": table, "k": key, "l": limit},
    ).mappings()
    return [dict(r) for r in rows]


def record_edit(
    conn: Connection,
    actor: Actor,
    *,
    table: str,
    object_type: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    action: str = "modification",
) -> None:
    """One edit's dated history (asset_change, read by the as-of answers) and its audit row."""
    log_change(
        conn,
        table=table,
        key=key,
        user=actor.name,
        before=before,
        after=after,
        valid_from=date.today(),
    )
    audit.record(
        conn,
        actor,
        action=action,
        object_type=object_type,
        object_key=key,
        before=before,
        after=after,
    )
