"""Roll-out progress: armoires by completion band, installed armoires, monthly series."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from geo_service.errors import InvalidParameterError
from geo_service.sql import statements

BANDS = ("< 50 %", "50-95 %", "> 95 %", "100 %")


def band(taux: float) -> str:
    """Completion band of a PM zone (PRODUCT.md): < 50, 50-95, > 95 (not complete), 100 %."""
    if taux >= 100.0:
        return "100 %"
    if taux > 95.0:
        return "> 95 %"
    if taux >= 50.0:
        return "50-95 %"
    return "< 50 %"


def armoires(
    conn: Connection, *, territory: str, as_of: date | None = None, include_amii: bool = False
) -> list[dict[str, Any]]:
    """Every PM as of a date: state, installation date, logements, raccordables, taux, band,
    DOE state."""
    day = as_of or date.today()
    rows = conn.execute(
        text(statements("progress")["armoires"]),
        {"d": day, "t": territory, "amii": include_amii},
    ).mappings()
    history = doe_history(conn, territory)
    out = []
    for row in rows:
        record = dict(row)
        logements = int(record["logements"])
        record["taux"] = (
            round(100.0 * int(record["raccordables"]) / logements, 2) if logements else 0.0
        )
        record["installee"] = (
            record["date_installation"] is not None and record["date_installation"] <= day
        )
        record["bande"] = band(record["taux"])
        out.append(record)
    for record in out:
        record["doe_etat"] = doe_as_of(history, record["reference"], record["doe_etat"], day)
    return out


# The DOE state is changed by staff edits only (PATCH /api/v1/pm, console), each kept in
# asset_change with the day it applies from: the state as of a day is the one the last edit up
# to that day set, else the one the first later edit replaced, else the stored one.
_DOE_CHANGES = text(
    "SELECT c.object_key, c.valid_from, c.before ->> 'doe_etat' AS before,"
    " c.after ->> 'doe_etat' AS after FROM asset_change c JOIN pm ON pm.reference = c.object_key"
    " WHERE c.table_name = 'pm' AND pm.territory_code = :t"
    " AND jsonb_exists(COALESCE(c.after, '{}'::jsonb), 'doe_etat')"
    " ORDER BY c.object_key, c.valid_from, c.id"
)


def doe_history(conn: Connection, territory: str) -> dict[str, list[tuple[date, str, str]]]:
    """Per PM, its DOE edits in order: (day, state before, state after)."""
    history: dict[str, list[tuple[date, str, str]]] = {}
    for key, day, before, after in conn.execute(_DOE_CHANGES, {"t": territory}):
        history.setdefault(key, []).append((day, before, after))
    return history


def doe_as_of(
    history: dict[str, list[tuple[date, str, str]]], reference: str, stored: str, day: date
) -> str:
    """A PM's DOE state as of `day` from its edits (see _DOE_CHANGES)."""
    edits = history.get(reference, [])
    done = [after for when, _before, after in edits if when <= day]
    if done:
        return done[-1]
    return edits[0][1] if edits else stored


def armoires_summary(
    conn: Connection, *, territory: str, as_of: date | None = None
) -> dict[str, Any]:
    """Counts of armoires: total, installed, lit (≥ 1 raccordable), by band, > 95 %."""
    rows = armoires(conn, territory=territory, as_of=as_of)
    bands = Counter(r["bande"] for r in rows)
    return {
        "as_of": (as_of or date.today()).isoformat(),
        "armoires": len(rows),
        "installees": sum(1 for r in rows if r["installee"]),
        "allumees": sum(1 for r in rows if r["immeubles_raccordables"] > 0),
        "plus_de_95": sum(1 for r in rows if r["taux"] > 95.0),
        "bandes": {b: bands.get(b, 0) for b in BANDS},
        "doe_dus": sum(
            1 for r in rows if r["taux"] >= 100.0 and r["doe_etat"] in ("NON_DU", "A_DEPOSER")
        ),
    }


def monthly_series(
    conn: Connection,
    *,
    territory: str,
    level: str,
    code: str,
    start: date = date(2018, 1, 1),
    end: date | None = None,
) -> list[dict[str, Any]]:
    """Logements raccordables of a unit at each month end (from the state cube)."""
    rows = conn.execute(
        text(statements("progress")["monthly"]),
        {"t": territory, "level": level, "code": code, "start": start, "end": end or date.today()},
    ).mappings()
    return [
        {
            "date": r["day"].isoformat(),
            "raccordables": int(r["raccordables"]),
            "logements": int(r["logements"]),
        }
        for r in rows
    ]


def targets(conn: Connection, *, territory: str, level: str, code: str) -> list[dict[str, Any]]:
    """Contractual targets of a unit (table contract_target: data, editable)."""
    rows = conn.execute(
        text(
            "SELECT target_date, raccordables, source FROM contract_target "
            "WHERE territory_code = :t AND level = :l AND code = :c ORDER BY target_date"
        ),
        {"t": territory, "l": level, "c": code},
    ).mappings()
    return [
        {
            "date": r["target_date"].isoformat(),
            "raccordables": int(r["raccordables"]),
            "source": r["source"],
        }
        for r in rows
    ]


def progress(
    conn: Connection, *, territory: str, level: str, code: str, as_of: date | None = None
) -> dict[str, Any]:
    """Monthly series against targets, armoires by completion band, zones whose DOE is due."""
    zones = armoires(conn, territory=territory, as_of=as_of)
    if level != "departement":
        if level not in _UNIT_COLUMNS:
            raise InvalidParameterError(f"Niveau inconnu « {level} ».")
        wanted = unit_zones(conn, level, code)
        zones = [z for z in zones if z["reference"] in wanted]
    bands = Counter(z["bande"] for z in zones)
    return {
        "level": level,
        "code": code,
        "serie": monthly_series(conn, territory=territory, level=level, code=code, end=as_of),
        "objectifs": targets(conn, territory=territory, level=level, code=code),
        "armoires_par_bande": {b: bands.get(b, 0) for b in BANDS},
        "doe_dus": [
            {"reference": z["reference"], "doe_etat": z["doe_etat"], "taux": z["taux"]}
            for z in zones
            if z["taux"] >= 100.0 and z["doe_etat"] in ("NON_DU", "A_DEPOSER")
        ],
    }


_UNIT_COLUMNS = {
    "commune": "p.insee",
    "epci": "c.epci_siren",
    "nro": "pm.nro_code",
    "pm": "pm.reference",
}


def unit_zones(conn: Connection, level: str, code: str) -> set[str]:
    """References of the PM zones serving premises of a unit (column from a fixed whitelist)."""
    column = _UNIT_COLUMNS[level]
    rows = conn.execute(
        text(
            f"SELECT DISTINCT p.pm_reference FROM premise p JOIN commune c ON c.insee = p.insee "
            f"JOIN pm ON pm.reference = p.pm_reference WHERE {column} = :code"
        ),
        {"code": code},
    )
    return {r[0] for r in rows}
