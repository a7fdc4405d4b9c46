"""Benchmark: import of the full demo IPE snapshot vs a raw COPY of the same file.

    .venv/bin/python bench/import_ipe.py [--repeat 5] [--snapshot PATH] [--quoted]

Goal (issue): the import (read, validate, stage, merge with history) takes at most 3x the raw
COPY of the same file into a bare table. Each round times, one after the other so that they share
the machine's state: the raw COPY; the fortnightly case (the snapshot over the previous one, as
`demo load` and operators' deliveries do: unchanged lines are skipped by their fingerprint, the
others parsed, checked and merged); a first load into empty tables (every line new: parsed,
checked, inserted, indexes built afterwards); and, for scale, a floor that no first load can beat:
the same rows cast and inserted into a bare copy of the premise table with its indexes, without
any check, history, fingerprint or street. Medians of the times and of each round's ratios are
printed. `--quoted` runs the same on copies of both snapshots with every non-empty cell between
quotes, as spreadsheet exports write them.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import ROOT, bench_database, median
from sqlalchemy import Connection, Engine, text

from geo_service.db.session import make_engine
from geo_service.ingest.batch import plan
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from geo_service.settings import Settings

FLOOR_INSERT = """
INSERT INTO bench_floor (identifiant_immeuble, code_oi, code_adresse, insee, code_postal,
    commune_nom, numero, complement, type_voie, nom_voie, batiment, logements, locaux_pro, etat,
    pm_reference, date_signature, date_mes_commerciale, type_pbo, type_racco, raccordement_long,
    etat_pm, date_installation_pm, geom)
SELECT "IdentifiantImmeuble", "CodeOI", "CodeAdresseImmeuble", "CodeInseeImmeuble",
    "CodePostalImmeuble", "CommuneImmeuble", "NumeroVoieImmeuble",
    "ComplementNumeroVoieImmeuble", "TypeVoieImmeuble", "NomVoieImmeuble", "BatimentImmeuble",
    "NombreLogementsAdresseIPE"::int, COALESCE("NombreLocauxProfessionnels"::int, 0),
    "EtatImmeuble", "ReferencePM", "DateSignatureConvention"::date,
    "DateMiseEnServiceCommercialeImmeuble"::date, "TypePBO", "TypeRaccoPBPTO",
    "RaccordementLong" = 'O', "EtatPM", "DateInstallationPM"::date,
    ST_SetSRID(ST_MakePoint("CoordonneeImmeubleX"::float8, "CoordonneeImmeubleY"::float8), 2154)
FROM bench_floor_raw
"""
FLOOR_INDEXES = [
    "CREATE UNIQUE INDEX ON bench_floor (identifiant_immeuble)",
    "CREATE INDEX ON bench_floor USING gist (geom)",
    "CREATE INDEX ON bench_floor (insee)",
    "CREATE INDEX ON bench_floor (pm_reference)",
    "CREATE INDEX ON bench_floor (code_oi)",
]


def _cpu_meter(engine: Engine) -> Callable[[], float] | None:
    """CPU seconds used so far by this process and by the database backends of `engine` (its
    pooled connections: the import's and the journal marker's, named `bench-ipe`), when they run
    on this machine; else None. CPU time is far less disturbed than wall time by the other
    tenants of a shared machine."""
    tick = os.sysconf("SC_CLK_TCK")
    seen: dict[int, float] = {}

    def used() -> float:
        with engine.connect() as conn:
            pids = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = 'bench-ipe'")
            ).scalars()
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                seen[pid] = (int(fields[11]) + int(fields[12])) / tick
        return sum(seen.values()) + time.process_time()

    try:
        used()
    except OSError:
        return None
    if not seen:
        return None  # the database runs elsewhere
    return used


def _quoted_copy(path: Path, folder: Path) -> Path:
    """The snapshot with every non-empty cell between double quotes, same name, in `folder`."""
    lines = gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()
    quoted = "\n".join(";".join(f'"{c}"' if c else c for c in li.split(";")) for li in lines)
    target = folder / path.name
    target.write_bytes(gzip.compress((quoted + "\n").encode("utf-8"), compresslevel=6))
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--snapshot", help="IPE file (default: the last demo snapshot)")
    parser.add_argument(
        "--quoted",
        action="store_true",
        help="every non-empty cell of both snapshots between quotes, as spreadsheets write them",
    )
    args = parser.parse_args()

    demo = Settings().demo_path("46")
    snapshots = sorted((demo / "ipe").glob("IPE_*.csv.gz"))
    if not snapshots:
        print(f"Pas de démonstration dans {demo} : lancez « geo-service demo generate ».")
        return 1
    snapshot = ROOT / args.snapshot if args.snapshot else snapshots[-1]
    previous = snapshots[-2] if len(snapshots) > 1 and snapshot == snapshots[-1] else None
    work = Path(tempfile.mkdtemp(prefix="bench_ipe_quoted_"))  # --quoted copies, removed below
    if args.quoted:
        snapshot = _quoted_copy(snapshot, work)
        previous = _quoted_copy(previous, work) if previous else None
    url = bench_database("geo_service_bench_import")
    # its backends' CPU time is read from /proc
    engine = make_engine(url, application_name="bench-ipe")
    cpu = _cpu_meter(engine)
    with engine.begin() as conn:
        conn.execute(
            text("TRUNCATE premise_history, premise, pm_history, pm, nro, import_journal CASCADE")
        )
    # the deliverable is dated like `demo load` dates it: its first IPE snapshot
    delivery = next(step for step in plan(demo) if step.kind == "gracethd")
    import_gracethd(engine, delivery.path, territory="46", snapshot_date=delivery.snapshot)

    raw = gzip.decompress(snapshot.read_bytes()).decode("utf-8")
    lines = raw.count("\n") - 1
    header = next(csv.reader([raw.split("\n", 1)[0]], delimiter=";"))

    def reset() -> None:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE premise_history, premise, address_street CASCADE"))
            conn.execute(text("DELETE FROM pm_history"))
            ipe = "(SELECT id FROM import_journal WHERE kind = 'ipe')"
            for table in ("audit_log", "asset_change"):  # rows that name those imports
                conn.execute(text(f"DELETE FROM {table} WHERE import_id IN {ipe}"))
            conn.execute(text("DELETE FROM import_journal WHERE kind = 'ipe'"))

    def run_import() -> None:
        import_ipe(engine, snapshot, territory="46", user="bench")

    def copy_file(conn: Connection, table: str, *, temporary: bool = False) -> None:
        """The raw COPY: the decompressed file into a new table of text columns."""
        content = gzip.decompress(snapshot.read_bytes()).decode("utf-8")
        columns = ", ".join(f'"{h}" text' for h in header)
        if temporary:
            conn.execute(text(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP"))
        else:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            conn.execute(text(f"CREATE TABLE {table} ({columns})"))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(
            f"COPY {table} FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)"
        ) as copy:
            copy.write(content)

    def run_copy() -> None:
        with engine.begin() as conn:
            copy_file(conn, "bench_raw_copy")
            conn.execute(text("DROP TABLE bench_raw_copy"))

    def run_floor() -> None:
        """COPY, then one typed INSERT into a bare copy of premise and its five indexes."""
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            copy_file(conn, "bench_floor_raw", temporary=True)
            conn.execute(text("DROP TABLE IF EXISTS bench_floor"))
            conn.execute(text("CREATE TABLE bench_floor (LIKE premise INCLUDING DEFAULTS)"))
            conn.execute(text(FLOOR_INSERT))
            for ddl in FLOOR_INDEXES:
                conn.execute(text(ddl))
            conn.execute(text("DROP TABLE bench_floor"))

    rounds: dict[str, list[float]] = {k: [] for k in ("copy", "update", "first", "floor")}
    cpu_rounds: dict[str, list[float]] = {k: [] for k in rounds}

    def measure(key: str, func: Callable[[], None]) -> None:
        wall, used = time.perf_counter(), cpu() if cpu else 0.0
        func()
        rounds[key].append(time.perf_counter() - wall)
        if cpu:
            cpu_rounds[key].append(cpu() - used)

    for _ in range(args.repeat):
        measure("copy", run_copy)
        if previous is not None:  # fortnightly case: the new file over the previous one
            reset()
            import_ipe(engine, previous, territory="46", user="bench")
            measure("update", run_import)
        reset()
        measure("first", run_import)
        measure("floor", run_floor)

    def report(label: str, key: str) -> None:
        line = f"{label:<58}: "
        for name, runs in (("temps", rounds[key]), ("CPU", cpu_rounds[key])):
            if not runs:
                continue
            base = rounds["copy"] if name == "temps" else cpu_rounds["copy"]
            ratios = [r / c for r, c in zip(runs, base, strict=True)]
            ratio = "" if key == "copy" else f" = {median(ratios):.2f}x"
            line += f"{name} {median(runs):.3f} s{ratio}   "
        print(line)

    print(f"Fichier : {snapshot.name} ({lines} lignes, {len(raw) / 1e6:.1f} Mo décompressé)")
    print(f"{args.repeat} tours ; médianes ; « x » = médiane des rapports au COPY du même tour")
    report("COPY brut du même fichier dans une table nue", "copy")
    if previous is not None:
        report(f"Import sur l'instantané précédent ({previous.name[:-7]})", "update")
    report("Premier chargement (tables vides, index construits après)", "first")
    report("Plancher : COPY + INSERT typé + 5 index, sans contrôle", "floor")
    print("Objectif : import ≤ 3x le COPY brut. CPU = ce processus + le serveur PostgreSQL.")
    engine.dispose()
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
