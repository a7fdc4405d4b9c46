"""Load a folder of exchange files (the demo territory, or an operator's delivery) in the right
order through the regular importers: GraceTHD, then IPE snapshots by date, then the lists."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.addresses import import_addresses
from geo_service.ingest.common import date_from_name
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from geo_service.ingest.journal import ImportResult
from geo_service.ingest.onereuses import import_onereuses
from geo_service.ingest.registers import import_register

log = logging.getLogger(__name__)
REGISTER_FILES = {"sites": "sites_mobiles.csv", "bornes": "bornes_wifi.csv", "med": "sites_med.csv"}


@dataclass
class Step:
    kind: str
    path: Path
    snapshot: date | None = None


@dataclass
class BatchResult:
    results: list[ImportResult] = field(default_factory=list)


def plan(folder: Path) -> list[Step]:
    """The files of a delivery folder in import order."""
    if not folder.is_dir():
        raise ImportRejectedError(f"Dossier introuvable : {folder}")
    ipe_files = sorted(
        (p for p in folder.glob("ipe*/*") if p.name.lower().endswith((".csv", ".csv.gz", ".zip"))),
        key=lambda p: (date_from_name(p.name) or date.min, p.name),
    )
    first = date_from_name(ipe_files[0].name) if ipe_files else None
    steps = [
        Step("gracethd", p, date_from_name(p.name) or first)
        for p in sorted(folder.glob("gracethd/*.gpkg"))
    ]
    steps += [Step("ipe", p) for p in ipe_files]
    steps += [Step("onereuses", p) for p in sorted(folder.glob("onereuses/*.csv"))]
    steps += [Step("adresses", p) for p in sorted(folder.glob("reference/*.csv"))]
    for kind, name in REGISTER_FILES.items():
        path = folder / "registres" / name
        if path.exists():
            steps.append(Step(kind, path))
    return steps


def load_folder(
    engine: Engine,
    folder: Path,
    *,
    territory: str,
    user: str | None = None,
    on_step: Callable[[Step, int, int], None] | None = None,
) -> BatchResult:
    """Import every file of the folder; stops at the first refused file (already imported files
    are recognised by their checksum and skipped, so a second run only adds what is new)."""
    steps = plan(folder)
    batch = BatchResult()
    for index, step in enumerate(steps):
        if on_step:
            on_step(step, index, len(steps))
        if step.kind == "gracethd":
            result = import_gracethd(
                engine, step.path, territory=territory, snapshot_date=step.snapshot, user=user
            )
        elif step.kind == "ipe":
            result = import_ipe(engine, step.path, territory=territory, user=user)
        elif step.kind == "adresses":
            result = import_addresses(engine, step.path, territory=territory, user=user)
        elif step.kind == "onereuses":
            result = import_onereuses(engine, step.path, territory=territory, user=user)
        else:
            result = import_register(engine, step.kind, step.path, territory=territory, user=user)
        log.debug(result.message)
        batch.results.append(result)
    if any(r.status in ("OK", "PARTIEL") for r in batch.results):
        # fresh statistics for the planner at once, not when autovacuum gets round to it (the
        # first élu page after a load otherwise took tens of seconds)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    return batch
