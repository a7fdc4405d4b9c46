"""Roll-out progress: armoires by completion band, installed armoires, monthly series."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

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
    """Every PM as of a date: state, installation date, logements, raccordables, taux, band."""
    day = as_of or date.today()
    rows = conn.execute(
        text(statements("progress")["armoires"]),
        {"d": day, "t": territory, "amii": include_amii},
    ).mappings()
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
    return out


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
