"""Which communes an indicator covers (département, EPCI or commune), for the programmes'
computations (WiFi, MED): one SQL condition on the commune alias, values bound; and the
recorded history of an object (asset_change)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service.errors import InvalidParameterError

LEVELS = ("departement", "departement_membre", "epci", "commune")
# the commune column each level below the territory selects on
COLUMNS = {"departement_membre": "departement", "epci": "epci_siren", "commune": "insee"}


def commune_filter(
    alias: str, *, level: str = "departement", code: str | None = None
) -> tuple[str, dict[str, Any]]:
    """A SQL condition on commune alias `alias` (always `territory_code = :t`, plus the EPCI or
    commune when asked) and its bound parameters besides `:t`."""
    if level not in LEVELS:
        raise InvalidParameterError(
            f"Niveau « {level} » inconnu (valeurs admises : {', '.join(LEVELS)})."
        )
    where = f"{alias}.territory_code = :t"
    if level == "departement":
        return where, {}
    if not code:
        raise InvalidParameterError(f"Le niveau « {level} » demande un code.")
    return f"{where} AND {alias}.{COLUMNS[level]} = :scope_code", {"scope_code": code}


def list_filter(
    alias: str,
    *,
    insee: str | None = None,
    epci: str | None = None,
    departement: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The commune/EPCI/département filters of the lists (`insee`, `epci`, `departement`), on
    commune alias `alias`."""
    where = [f"{alias}.territory_code = :t"]
    params: dict[str, Any] = {}
    if departement:
        where.append(f"{alias}.departement = :f_departement")
        params["f_departement"] = departement
    if insee:
        where.append(f"{alias}.insee = :f_insee")
        params["f_insee"] = insee
    if epci:
        where.append(f"{alias}.epci_siren = :f_epci")
        params["f_epci"] = epci
    return " AND ".join(where), params


def history(
    conn: Connection, table: str, code: str, *, as_of: date | None = None
) -> list[dict[str, Any]]:
    """The recorded changes of one object (oldest first): when (valid_from), who, which import
    (id and file), before and after; up to `as_of` when given."""
    rows = conn.execute(
        text(
            "SELECT a.valid_from, a.changed_by, a.import_id, j.file_name AS fichier, j.kind,"
            " a.before, a.after FROM asset_change a"
            " LEFT JOIN import_journal j ON j.id = a.import_id"
            " WHERE a.table_name = :tb AND a.object_key = :k"
            " AND (CAST(:d AS date) IS NULL OR a.valid_from <= :d) ORDER BY a.valid_from, a.id"
        ),
        {"tb": table, "k": code, "d": as_of},
    ).mappings()
    return [dict(r) for r in rows]


def recorded_as_of(conn: Connection, table: str, code: str, as_of: date) -> dict[str, Any] | None:
    """The object as the history knew it on `as_of` (the last recorded `after`), or None."""
    changes = history(conn, table, code, as_of=as_of)
    return dict(changes[-1]["after"]) if changes else None


def as_date(value: Any) -> date | None:
    """A date from a stored value (a date, or its ISO text in the JSON history)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
