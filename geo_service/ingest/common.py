"""Helpers shared by the importers: problems, date parsing, snapshot dates from file names."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


def problem(file: str, line: int, column: str | None, value: Any, reason: str) -> dict[str, Any]:
    """One rejected cell: file, line, column, value, reason (in French)."""
    return {
        "file": file,
        "line": line,
        "column": column,
        "value": None if value is None else str(value),
        "reason": reason,
    }


def date_from_name(name: str) -> date | None:
    """The first plausible YYYYMMDD / YYYY-MM-DD date inside a file name."""
    for match in _DATE_IN_NAME.finditer(name):
        try:
            found = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
        if 1990 <= found.year <= 2100:
            return found
    return None


def parse_date(value: Any) -> date | None:
    """ISO, DD/MM/YYYY or YYYYMMDD; empty → None; anything else → ValueError."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text or text.lower() in {"nan", "nat", "none"}:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def territory_context(conn: Connection, territory: str) -> tuple[set[str], tuple[float, ...]]:
    """INSEE codes and Lambert-93 bounds (1 km margin) of a loaded territory."""
    bounds = territory_bounds(conn, territory)
    return territory_insee(conn, territory), bounds


def territory_insee(conn: Connection, territory: str) -> set[str]:
    """The INSEE codes of the territory's communes."""
    rows = conn.execute(text("SELECT insee FROM commune WHERE territory_code=:t"), {"t": territory})
    return {r[0] for r in rows}


def territory_bounds(conn: Connection, territory: str) -> tuple[float, ...]:
    """Lambert-93 bounds (1 km margin) of a loaded territory; refused when it is not loaded."""
    box = conn.execute(
        text(
            "SELECT ST_XMin(e) - 1000, ST_YMin(e) - 1000, ST_XMax(e) + 1000, ST_YMax(e) + 1000 "
            "FROM (SELECT ST_Extent(geom) AS e FROM territory WHERE code = :t) b "
            "WHERE EXISTS (SELECT 1 FROM commune WHERE territory_code = :t)"
        ),
        {"t": territory},
    ).one_or_none()
    if box is None:
        raise ImportRejectedError(
            f"Territoire « {territory} » non chargé : lancez d'abord « geo-service reference load »."
        )
    return tuple(float(v) for v in box)
