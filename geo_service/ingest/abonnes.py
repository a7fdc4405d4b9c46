"""The take-up register: the délégataire's count of abonnés per commune, per PM or in total on
a date, with the FAI present and, when its report gives it, its own raccordables figure.
Format in the README."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from geo_service.ingest import journal
from geo_service.ingest.common import problem
from geo_service.ingest.operations_cells import (
    count,
    optional_text,
    perimetre,
    required_count,
    required_day,
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

_FAI_SEPARATORS = re.compile(r"\s*[|/+,;]\s*")


def _fai(value: str) -> list[str]:
    names = [n for n in _FAI_SEPARATORS.split(value.strip()) if n]
    if any(len(n) > 60 for n in names):
        raise ValueError("nom de FAI trop long (plus de 60 caractères)")
    return sorted(set(names), key=names.index)


COLUMNS = [
    Column("date", required_day, aliases=("date_releve", "date_du_releve")),
    Column("perimetre", str, required=False),
    Column("code_insee", optional_text(5), required=False, aliases=("insee", "commune")),
    Column("pm", optional_text(40), required=False, aliases=("pm_reference", "reference_pm")),
    Column("abonnes", required_count, aliases=("nb_abonnes", "abonnements")),
    Column("raccordables", count, required=False, aliases=("prises_raccordables",)),
    Column("fai", _fai, required=False, aliases=("fai_presents", "operateurs")),
]


def read_abonnes(path: Path, context: Context) -> tuple[list[Row], list[dict[str, Any]]]:
    """Valid take-up rows and the problems found, line by line."""
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
        insee, pm = v["code_insee"], v["pm"]
        if insee and pm:
            bad.append(
                problem(
                    file, line, names.get("pm", "pm"), pm, "code INSEE et PM : un seul des deux"
                )
            )
        if scope != "dsp":
            if insee and insee not in context.insee:
                bad.append(
                    problem(
                        file,
                        line,
                        names.get("code_insee", "code_insee"),
                        insee,
                        "commune inconnue du territoire",
                    )
                )
            if pm and pm not in context.pms:
                bad.append(
                    problem(file, line, names.get("pm", "pm"), pm, "PM inconnu du territoire")
                )
        raccordables = v["raccordables"]
        if raccordables is not None and v["abonnes"] > raccordables:
            bad.append(
                problem(
                    file,
                    line,
                    names["abonnes"],
                    str(v["abonnes"]),
                    f"plus d'abonnés que de raccordables ({raccordables})",
                )
            )
        if bad:
            problems += bad
            continue
        maille = "commune" if insee else "pm" if pm else "total"
        kept.append(
            (
                line,
                {
                    "perimetre": scope,
                    "date_releve": v["date"],
                    "maille": maille,
                    "code": insee or pm or "",
                    "abonnes": v["abonnes"],
                    "raccordables_declares": raccordables,
                    "fai": v["fai"],
                },
            )
        )
    key = ("perimetre", "date_releve", "maille", "code")
    kept, doubled = duplicates(file, kept, key, "code", names.get("code_insee", "code_insee"))
    return kept, problems + doubled


ABONNES = Register(
    kind="abonnes",
    table="abonnes_releve",
    key=("perimetre", "date_releve", "maille", "code"),
    columns=(
        "perimetre",
        "date_releve",
        "maille",
        "code",
        "abonnes",
        "raccordables_declares",
        "fai",
    ),
    read=read_abonnes,
)


def import_abonnes(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """Import a take-up file in one transaction (refused whole unless `skip_invalid`)."""
    return import_register(
        engine,
        ABONNES,
        path,
        territory=territory,
        user=user,
        snapshot_date=snapshot_date,
        skip_invalid=skip_invalid,
    )
