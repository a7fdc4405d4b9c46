"""Benchmark: `geo-service rapport tout` for the demo Lot (1 + 10 + 312 documents), from one
command: the département's dossier, every EPCI's and one A4 sheet per commune, as PDF.

    .venv/bin/python bench/rapports.py [--annee 2023] [--processus N] [--out DIR] [--url URL]

Prints the time to read the year's figures, the time per document kind (mean, in its process)
and the total wall time. Goal (issue #14): the whole set in under 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from _common import ROOT, bench_database
from sqlalchemy import text

from geo_service.db.session import make_engine
from geo_service.reports.batch import build_all
from geo_service.reports.context import build_context
from geo_service.settings import Settings

GOAL_S = 120.0
KINDS = {
    "departement": "dossier du département",
    "epci": "dossiers EPCI",
    "commune": "fiches communes",
}


def _load(engine) -> None:  # type: ignore[no-untyped-def]
    """The demo Lot and its operating registers, once (the same database as bench/aggregate.py)."""
    with engine.connect() as conn:
        loaded = conn.execute(
            text(
                "SELECT count(DISTINCT snapshot_date) FROM import_journal WHERE kind = 'ipe' AND status = 'OK'"
            )
        ).scalar_one()
        registers = conn.execute(text("SELECT count(*) FROM incident")).scalar_one()
    demo = Settings().demo_path("46")
    if loaded < 2:
        from geo_service.ingest.batch import load_folder

        print("Chargement de la démonstration dans la base de benchmark…", flush=True)
        load_folder(engine, demo, territory="46", user="bench")
    if not registers:
        from geo_service.demo.operations import write_operations
        from geo_service.ingest.operations_common import import_register
        from geo_service.ingest.operations_files import plan_operations

        folder = ROOT / "bench" / "output" / "exploitation-demo"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "ipe").symlink_to(demo / "ipe")
        write_operations("46", folder, seed=46)
        for register, path in plan_operations(folder):
            import_register(engine, register, path, territory="46", user="bench")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--annee", type=int, default=2023)
    parser.add_argument("--processus", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "output" / "rapports")
    parser.add_argument("--url", help="une base déjà chargée (défaut : la base de benchmark)")
    args = parser.parse_args()
    url = args.url or bench_database("geo_service_bench_demo")
    engine = make_engine(url, application_name="bench/rapports")
    _load(engine)
    shutil.rmtree(args.out, ignore_errors=True)
    start, cpu = time.perf_counter(), time.process_time()
    with engine.connect() as conn:
        ctx = build_context(conn, "46", args.annee)
    engine.dispose()
    read, read_cpu = time.perf_counter() - start, time.process_time() - cpu
    done = build_all(ctx, args.out, processes=args.processus)
    total = time.perf_counter() - start
    per_kind: dict[str, list[float]] = defaultdict(list)
    per_kind_cpu: dict[str, list[float]] = defaultdict(list)
    for d in done:
        per_kind[d.job.level].append(d.seconds)
        per_kind_cpu[d.job.level].append(d.cpu_seconds)
    workers = args.processus or min(len(os.sched_getaffinity(0)), 4)
    print(
        f"rapport tout {args.annee} — {len(done)} documents, {workers} processus, {os.cpu_count()} cœurs"
    )
    print(f"  lecture des chiffres de l'année : {read:6.1f} s (CPU du processus {read_cpu:.1f} s)")
    for kind, label in KINDS.items():
        times, cpu_times = per_kind[kind], per_kind_cpu[kind]
        print(
            f"  {label:24s}: {len(times):3d} × {statistics.mean(times):5.2f} s"
            f" (max {max(times):5.2f} s, somme {sum(times):6.1f} s ;"
            f" CPU {statistics.mean(cpu_times):5.2f} s chacun, somme {sum(cpu_times):6.1f} s)"
        )
    cpu_total = read_cpu + sum(d.cpu_seconds for d in done)
    print(
        f"  CPU de Python en tout : {cpu_total:.1f} s, soit {cpu_total / workers:.1f} s sur"
        f" {workers} cœurs libres ; charge moyenne de la machine : {os.getloadavg()[0]:.1f}"
    )
    size = sum(p.stat().st_size for p in args.out.rglob("*.pdf")) / 1e6
    verdict = "OK" if total < GOAL_S else "objectif manqué"
    print(
        f"  total : {total:.1f} s pour {len(done)} PDF ({size:.1f} Mo) — objectif < {GOAL_S:.0f} s : {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
