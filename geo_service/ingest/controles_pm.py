"""The PM conformity controls register: one line per control of a PM in a yearly campaign
(result conforme / non conforme / réserves, remarks). Format in the README."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from geo_service.db.enums import RESULTATS_CONTROLE
from geo_service.ingest import journal
from geo_service.ingest.common import problem
from geo_service.ingest.operations_cells import (
    label,
    optional_text,
    perimetre,
    required_day,
    required_text,
)
from geo_service.ingest.operations_common import (
    Column,
    Context,
    Register,
    Row,
    duplicates,
    import_register,
    read_table,
)

RESULT_ALIASES = {"OK": "CONFORME", "NC": "NON CONFORME", "NON CONFORMITE": "NON CONFORME"}
RESULT_ALIASES |= {"RESERVE": "RESERVES", "AVEC RESERVES": "RESERVES", "KO": "NON CONFORME"}


def _campaign(value: str) -> int:
    if not (value.isdigit() and len(value) == 4 and 2017 <= int(value) <= 2100):
        raise ValueError("année de campagne attendue (AAAA, 2017 ou après)")
    return int(value)


COLUMNS = [
    Column("campagne", _campaign, aliases=("annee",)),
    Column("perimetre", str, required=False),
    Column("pm", required_text(40), aliases=("pm_reference", "reference_pm")),
    Column("date_controle", required_day, aliases=("date",)),
    Column("resultat", label(RESULTATS_CONTROLE, "résultat", RESULT_ALIASES)),
    Column("remarques", optional_text(2000), required=False, aliases=("observations",)),
]


def read_controls(path: Path, context: Context) -> tuple[list[Row], list[dict[str, Any]]]:
    """Valid control rows and the problems found, line by line."""
    rows, problems, names = read_table(path, COLUMNS)
    file = path.name
    kept: list[Row] = []
    for line, v in rows:
        bad = []
        try:
            scope = perimetre(v["perimetre"], context.territory)
        except ValueError as exc:
            bad.append(problem(file, line, names.get("perimetre"), v["perimetre"], str(exc)))
            scope = context.territory
        if scope != "dsp" and v["pm"] not in context.pms:
            bad.append(problem(file, line, names["pm"], v["pm"], "PM inconnu du territoire"))
        if v["date_controle"].year not in (v["campagne"], v["campagne"] + 1):
            bad.append(
                problem(
                    file,
                    line,
                    names["date_controle"],
                    v["date_controle"].isoformat(),
                    f"date hors de la campagne {v['campagne']}",
                )
            )
        if bad:
            problems += bad
            continue
        kept.append(
            (
                line,
                {
                    "perimetre": scope,
                    "campagne": v["campagne"],
                    "pm_reference": v["pm"],
                    "date_controle": v["date_controle"],
                    "resultat": v["resultat"],
                    "remarques": v["remarques"],
                },
            )
        )
    kept, doubled = duplicates(
        file, kept, ("perimetre", "campagne", "pm_reference"), "pm_reference", names["pm"]
    )
    return kept, problems + doubled


CONTROLES_PM = Register(
    kind="controles-pm",
    table="controle_pm",
    key=("perimetre", "campagne", "pm_reference"),
    columns=("perimetre", "campagne", "pm_reference", "date_controle", "resultat", "remarques"),
    read=read_controls,
)


def import_controles_pm(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """Import a PM controls file in one transaction (refused whole unless `skip_invalid`)."""
    return import_register(
        engine,
        CONTROLES_PM,
        path,
        territory=territory,
        user=user,
        snapshot_date=snapshot_date,
        skip_invalid=skip_invalid,
    )
