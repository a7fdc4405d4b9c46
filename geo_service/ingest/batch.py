"""Load a folder of exchange files (the demo territory, or an operator's delivery) in the right
order through the regular importers: GraceTHD, then IPE snapshots by date, then the lists; then
the programmes beside fibre: ANFR extract, named layers (the park), ARCEP's New Deal file and
sites file, the syndicat's registers (merged with them by site code), WiFi statistics."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.addresses import import_addresses
from geo_service.ingest.anfr import import_anfr
from geo_service.ingest.arcep_sites import import_arcep_sites
from geo_service.ingest.common import date_from_name
from geo_service.ingest.couche import import_couche
from geo_service.ingest.dcc import import_dcc
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from geo_service.ingest.journal import ImportResult
from geo_service.ingest.onereuses import import_onereuses
from geo_service.ingest.operations_common import import_register as import_operations_register
from geo_service.ingest.operations_files import REGISTERS as OPERATION_REGISTERS
from geo_service.ingest.operations_files import plan_operations
from geo_service.ingest.registers import import_register
from geo_service.ingest.wifi_stats import import_wifi_stats

log = logging.getLogger(__name__)
REGISTER_FILES = {"sites": "sites_mobiles.csv", "bornes": "bornes_wifi.csv", "med": "sites_med.csv"}
LAYER_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")


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
    steps += [Step("anfr", p) for p in sorted(folder.glob("anfr/*.zip"), key=_dated)]
    layers = (p for p in folder.glob("couches/*") if p.name.lower().endswith(LAYER_SUFFIXES))
    steps += [Step("couche", p) for p in sorted(layers)]
    arcep = sorted(folder.glob("arcep/*.csv"), key=_dated)
    steps += [Step("dcc", p) for p in arcep if "_dcc_" in p.name.lower()]
    steps += [Step("arcep-sites", p) for p in arcep if "_dcc_" not in p.name.lower()]
    for kind, name in REGISTER_FILES.items():
        path = folder / "registres" / name
        if path.exists():
            steps.append(Step(kind, path))
    steps += [Step("wifi-stats", p) for p in sorted(folder.glob("wifi/*.csv"), key=_dated)]
    steps += [Step(register.kind, path) for register, path in plan_operations(folder)]
    return steps


def _dated(path: Path) -> tuple[date, str]:
    """Oldest file first (the date in its name), then by name."""
    return date_from_name(path.name) or date.min, path.name


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
        elif step.kind == "anfr":
            result = import_anfr(engine, step.path, territory=territory, user=user)
        elif step.kind == "couche":
            name = step.path.stem.lower()
            result = import_couche(engine, name, step.path, territory=territory, user=user)
        elif step.kind == "dcc":
            result = import_dcc(engine, step.path, territory=territory, user=user)
        elif step.kind == "arcep-sites":
            result = import_arcep_sites(engine, step.path, territory=territory, user=user)
        elif step.kind == "wifi-stats":
            result = import_wifi_stats(engine, step.path, territory=territory, user=user)
        elif step.kind in OPERATION_REGISTERS:
            result = import_operations_register(
                engine, OPERATION_REGISTERS[step.kind], step.path, territory=territory, user=user
            )
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
