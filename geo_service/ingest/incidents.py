"""The incidents register (pannes): one line per incident, with its PM and/or commune, category,
opening and restoration timestamps, cause and source. Format in the README ("Registres
d'exploitation")."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from geo_service.data.operations import load_engagements
from geo_service.db.enums import SOURCES_INCIDENT
from geo_service.ingest import journal
from geo_service.ingest.common import problem
from geo_service.ingest.operations_cells import (
    label,
    optional_text,
    perimetre,
    required_text,
    timestamp,
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

SOURCE_ALIASES = {
    "DELEGATAIRE": "DELEGATAIRE",
    "EXPLOITANT": "DELEGATAIRE",
    "USAGER": "SIGNALEMENT",
}


def _columns() -> list[Column]:
    categories = tuple(c.upper() for c in load_engagements().categories)
    return [
        Column("reference", required_text(60), aliases=("numero", "ticket", "identifiant")),
        Column("perimetre", str, required=False),
        Column("pm", optional_text(40), required=False, aliases=("pm_reference", "reference_pm")),
        Column("code_insee", optional_text(5), required=False, aliases=("insee", "commune")),
        Column("categorie", lambda v: label(categories, "catégorie")(v).lower()),
        Column("ouverture", timestamp, aliases=("date_ouverture", "debut")),
        Column(
            "retablissement",
            timestamp,
            required=False,
            aliases=("date_retablissement", "date_de_retablissement", "fin"),
        ),
        Column("cause", optional_text(300), required=False),
        Column("source", label(SOURCES_INCIDENT, "source", SOURCE_ALIASES)),
    ]


def read_incidents(path: Path, context: Context) -> tuple[list[Row], list[dict[str, Any]]]:
    """Valid incident rows (table columns) and the problems found, line by line."""
    rows, problems, names = read_table(path, _columns())
    file = path.name
    kept: list[Row] = []
    for line, v in rows:
        bad = []
        try:
            scope = perimetre(v["perimetre"], context.territory)
        except ValueError as exc:
            bad.append(problem(file, line, names.get("perimetre"), v["perimetre"], str(exc)))
            scope = context.territory
        if not v["pm"] and not v["code_insee"]:
            bad.append(problem(file, line, "pm", None, "PM ou code INSEE obligatoire"))
        insee = v["code_insee"]
        if scope != "dsp":  # the territory's own incidents name its own PM and communes
            if v["pm"] and v["pm"] not in context.pms:
                bad.append(
                    problem(file, line, names.get("pm", "pm"), v["pm"], "PM inconnu du territoire")
                )
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
            if not insee and v["pm"]:
                insee = context.pms.get(v["pm"])
        restored = v["retablissement"]
        if restored is not None and restored < v["ouverture"]:
            bad.append(
                problem(
                    file,
                    line,
                    names.get("retablissement", "retablissement"),
                    restored.isoformat(),
                    "rétablissement antérieur à l'ouverture",
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
                    "reference": v["reference"],
                    "pm_reference": v["pm"],
                    "insee": insee,
                    "categorie": v["categorie"],
                    "ouverture": v["ouverture"],
                    "retablissement": restored,
                    "cause": v["cause"],
                    "source": v["source"],
                },
            )
        )
    kept, doubled = duplicates(file, kept, ("perimetre", "reference"), "reference")
    return kept, problems + doubled


INCIDENTS = Register(
    kind="incidents",
    table="incident",
    key=("perimetre", "reference"),
    columns=(
        "perimetre",
        "reference",
        "pm_reference",
        "insee",
        "categorie",
        "ouverture",
        "retablissement",
        "cause",
        "source",
    ),
    read=read_incidents,
)


def import_incidents(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """Import an incidents file in one transaction (refused whole unless `skip_invalid`)."""
    return import_register(
        engine,
        INCIDENTS,
        path,
        territory=territory,
        user=user,
        snapshot_date=snapshot_date,
        skip_invalid=skip_invalid,
    )
