"""Benchmark: import of the full demo IPE snapshot vs a raw COPY of the same file.

    .venv/bin/python bench/import_ipe.py [--repeat 5] [--snapshot PATH]

Goal (issue): the import (read, validate, stage, merge with history) takes at most 3x the raw
COPY of the same file into a bare table. Both are timed in the same run; medians are printed,
for a first load into empty tables (every line new: parsed, checked, inserted, indexes built
afterwards) and for the usual fortnightly case (the new snapshot over the previous one: the
lines whose fingerprint did not change are skipped, the others parsed, checked and merged).
"""

from __future__ import annotations

import argparse
import gzip
import sys

from _common import ROOT, bench_database, median, timed
from sqlalchemy import text

from geo_service.db.session import make_engine
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from geo_service.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--snapshot", help="IPE file (default: the last demo snapshot)")
    args = parser.parse_args()

    demo = Settings().demo_path("46")
    snapshots = sorted((demo / "ipe").glob("IPE_*.csv.gz"))
    if not snapshots:
        print(f"Pas de démonstration dans {demo} : lancez « geo-service demo generate ».")
        return 1
    snapshot = ROOT / args.snapshot if args.snapshot else snapshots[-1]
    url = bench_database("geo_service_bench_import")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("TRUNCATE premise_history, premise, pm_history, pm, nro, import_journal CASCADE")
        )
    import_gracethd(engine, next((demo / "gracethd").glob("*.gpkg")), territory="46")

    raw = gzip.decompress(snapshot.read_bytes()).decode("utf-8")
    lines = raw.count("\n") - 1
    header = raw.split("\n", 1)[0].split(";")

    def reset() -> None:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE premise_history, premise, address_street CASCADE"))
            conn.execute(text("DELETE FROM pm_history"))
            conn.execute(text("DELETE FROM import_journal WHERE kind = 'ipe'"))

    def run_import() -> None:
        import_ipe(engine, snapshot, territory="46", user="bench")

    def run_copy() -> None:
        content = gzip.decompress(snapshot.read_bytes()).decode("utf-8")
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS bench_raw_copy"))
            conn.execute(
                text(
                    "CREATE TABLE bench_raw_copy (" + ", ".join(f'"{h}" text' for h in header) + ")"
                )
            )
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(
                "COPY bench_raw_copy FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)"
            ) as copy:
                copy.write(content)
            conn.execute(text("DROP TABLE bench_raw_copy"))

    previous = snapshots[-2] if len(snapshots) > 1 and snapshot == snapshots[-1] else None
    import_runs, update_runs = [], []
    for _ in range(args.repeat):
        reset()
        import_runs += timed(run_import, 1)
        if previous is not None:  # fortnightly case: the new file over the previous one
            reset()
            import_ipe(engine, previous, territory="46", user="bench")
            update_runs += timed(run_import, 1)
    copy_runs = timed(run_copy, args.repeat)
    imp, cop = median(import_runs), median(copy_runs)
    print(f"Fichier : {snapshot.name} ({lines} lignes, {len(raw) / 1e6:.1f} Mo décompressé)")
    print(
        f"Import complet (lecture, contrôles, COPY, fusion, historique) : médiane {imp:.3f} s  {['%.3f' % r for r in import_runs]}"
    )
    print(
        f"COPY brut du même fichier dans une table nue             : médiane {cop:.3f} s  {['%.3f' % r for r in copy_runs]}"
    )
    print(f"Rapport import / COPY brut : {imp / cop:.2f}x (objectif ≤ 3x)")
    if update_runs:
        upd = median(update_runs)
        print(
            f"Import sur l'instantané précédent ({previous.name}) : médiane {upd:.3f} s  {['%.3f' % r for r in update_runs]}"
        )
        print(f"Rapport import de mise à jour / COPY brut : {upd / cop:.2f}x")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
