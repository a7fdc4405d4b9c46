"""Benchmark: import of the full demo IPE snapshot vs a raw COPY of the same file.

    .venv/bin/python bench/import_ipe.py [--repeat 5] [--snapshot PATH]

Goal (issue): the import (read, validate, stage, merge with history) takes at most 3x the raw
COPY of the same file into a bare table. Each round times, one after the other so that they share
the machine's state: the raw COPY; the fortnightly case (the snapshot over the previous one, as
`demo load` and operators' deliveries do: unchanged lines are skipped by their fingerprint, the
others parsed, checked and merged); a first load into empty tables (every line new: parsed,
checked, inserted, indexes built afterwards); and, for scale, a floor that no first load can beat:
the same rows cast and inserted into a bare copy of the premise table with its indexes, without
any check, history, fingerprint or street. Medians of the times and of each round's ratios are
printed.
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

    def run_floor() -> None:
        """COPY, then one typed INSERT into a bare copy of premise and its five indexes."""
        content = gzip.decompress(snapshot.read_bytes()).decode("utf-8")
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            conn.execute(
                text(
                    "CREATE TEMP TABLE bench_floor_raw ("
                    + ", ".join(f'"{h}" text' for h in header)
                    + ") ON COMMIT DROP"
                )
            )
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(
                "COPY bench_floor_raw FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)"
            ) as copy:
                copy.write(content)
            conn.execute(text("DROP TABLE IF EXISTS bench_floor"))
            conn.execute(text("CREATE TABLE bench_floor (LIKE premise INCLUDING DEFAULTS)"))
            conn.execute(text(FLOOR_INSERT))
            for ddl in FLOOR_INDEXES:
                conn.execute(text(ddl))
            conn.execute(text("DROP TABLE bench_floor"))

    previous = snapshots[-2] if len(snapshots) > 1 and snapshot == snapshots[-1] else None
    rounds: dict[str, list[float]] = {"copy": [], "update": [], "first": [], "floor": []}
    for _ in range(args.repeat):
        rounds["copy"] += timed(run_copy, 1)
        if previous is not None:  # fortnightly case: the new file over the previous one
            reset()
            import_ipe(engine, previous, territory="46", user="bench")
            rounds["update"] += timed(run_import, 1)
        reset()
        rounds["first"] += timed(run_import, 1)
        rounds["floor"] += timed(run_floor, 1)
    cop = median(rounds["copy"])

    def report(label: str, key: str) -> None:
        runs = rounds[key]
        ratios = [r / c for r, c in zip(runs, rounds["copy"], strict=True)]
        print(
            f"{label:<58}: médiane {median(runs):.3f} s, {median(ratios):.2f}x le COPY  "
            f"{['%.3f' % r for r in runs]}"
        )

    print(f"Fichier : {snapshot.name} ({lines} lignes, {len(raw) / 1e6:.1f} Mo décompressé)")
    print(
        f"{'COPY brut du même fichier dans une table nue':<58}: médiane {cop:.3f} s  "
        f"{['%.3f' % r for r in rounds['copy']]}"
    )
    if previous is not None:
        report(f"Import sur l'instantané précédent ({previous.name[:-7]})", "update")
    report("Premier chargement (tables vides, index construits après)", "first")
    report("Plancher : COPY + INSERT typé + 5 index, sans contrôle", "floor")
    print("Objectif : import ≤ 3x le COPY brut.")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
