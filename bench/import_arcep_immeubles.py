"""Benchmark: `import arcep-immeubles` of a national-size synthetic "Carte fibre" file for the Lot,
against a raw COPY of the same file into an unlogged table.

    .venv/bin/python bench/import_arcep_immeubles.py [--lines 40000000] [--repeat 1] [--zip]

The file is generated in a temporary folder (removed at the end, never in the repository) in the
published layout: comma-separated, cp1252, WGS84 x/y, 21 columns (the 18 of the original layout
and the newer pm_date_mad, date_completude, date_completude_manquante), other départements'
lines and the Lot's (its share of the national file: ~130 000 buildings in ~40 million lines,
points drawn inside the Lot's communes by PostGIS). Each round times, one after the other: the
raw COPY of the whole file into an unlogged table of text columns (FORMAT csv, from the client,
as `psql \\copy` does), then the import of the same file (streamed, territory kept, checked,
COPYed, merged with history) as a new quarter. Goal (issue #15): import ≤ 3x the raw COPY.
With `--zip` the import also reads the file zipped, as ARCEP publishes it (decompressed on the
fly; the COPY has no zip to read).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
from _common import bench_database, median
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.ingest.arcep_immeubles import import_arcep_immeubles
from geo_service.ingest.csv_source import fmt_int

HEADER = (
    "x,y,imb_id,num_voie,cp_no_voie,type_voie,nom_voie,batiment,code_insee,code_poste,nom_com,"
    "catg_loc_imb,imb_etat,pm_date_mad,pm_ref,pm_etat,code_l331,geom_mod,type_imb,"
    "date_completude,date_completude_manquante"
)
NATIONAL_LINES = 40_000_000
DEFAULT_LINES = 10_000_000  # what runs in about 3 minutes on the shared 2-core test machine
LOT_SHARE = 130_000 / NATIONAL_LINES
BLOCK = 500_000  # other départements' lines are written as one block repeated (ids repeat)
STATES = ["deploye", "en cours de deploiement", "cible", "signe", "raccordable demande"]
STREETS = ["RUE DE L'ÉGLISE", "AVENUE GAMBETTA", "CHEMIN DU PECH", "PLACE DE LA HALLE"]
NAME = "carte_fibre_immeubles_2024_T2_20240912.csv"


def _lines(
    rng: np.random.Generator,
    insee: list[str],
    lon: np.ndarray,
    lat: np.ndarray,
    tag: str,
) -> bytes:
    """Lines in the published layout, cp1252 (f-strings: a million lines a second or so)."""
    n = len(insee)
    states = [STATES[i] for i in rng.integers(0, len(STATES), n)]
    streets = [STREETS[i].split(" ", 1) for i in rng.integers(0, len(STREETS), n)]
    numbers = rng.integers(1, 120, n).tolist()
    text_ = "".join(
        f"{x:.7f},{y:.7f},IMB/{c}/{tag}/{k:X},{num},,{street[0]},{street[1]},,{c},{c[:2]}100,"
        f"Commune,individuel,{state},,FI-{c}-{k % 997:04d},deploye,FRTE,non,pavillon,"
        "2024-05-01,non\r\n"
        for k, (x, y, c, num, street, state) in enumerate(
            zip(lon.tolist(), lat.tolist(), insee, numbers, streets, states, strict=True)
        )
    )
    return text_.encode("cp1252")


def generate(engine: Engine, target: Path, lines: int) -> tuple[int, int]:
    """Write the synthetic file; (lines, the Lot's lines)."""
    rng = np.random.default_rng(46)
    lot = max(1, round(lines * LOT_SHARE))
    with engine.connect() as conn:
        points = conn.execute(
            text(
                "SELECT c.insee, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat FROM ("
                " SELECT insee, (ST_Dump(ST_GeneratePoints(geom, GREATEST(1, round(:n * population::float8"
                "  / sum(population) OVER ())::int), 46))).geom FROM commune"
                "  WHERE territory_code = '46') c0 CROSS JOIN LATERAL"
                " (SELECT ST_Transform(c0.geom, 4326) AS geom) p JOIN commune c USING (insee)"
            ),
            {"n": lot},
        ).all()
    lot_text = _lines(
        rng,
        [p.insee for p in points],
        np.array([p.lon for p in points]),
        np.array([p.lat for p in points]),
        "L",
    )
    others = [f"{d:02d}" for d in range(1, 96) if d not in (20, 46)]
    size = min(BLOCK, max(lines - len(points), 1))
    insee = [
        f"{others[d]}{c:03d}"
        for d, c in zip(rng.integers(0, len(others), size), rng.integers(1, 600, size), strict=True)
    ]
    block = _lines(rng, insee, rng.uniform(-4.5, 8, size), rng.uniform(42.3, 51, size), "X")
    full, rest = divmod(lines - len(points), size)
    parts = [block] * full
    if rest:
        parts.append(b"\r\n".join(block.split(b"\r\n")[:rest]) + b"\r\n")
    lot_lines = lot_text.split(b"\r\n")[:-1]
    shares = np.array_split(np.arange(len(lot_lines)), max(len(parts), 1))
    with target.open("wb") as out:
        out.write(HEADER.encode() + b"\r\n")
        for index, share in enumerate(shares):  # the Lot's lines spread through the file
            if index < len(parts):
                out.write(parts[index])
            if share.size:
                out.write(b"\r\n".join(lot_lines[share[0] : share[-1] + 1]) + b"\r\n")
    return lines, len(points)


def raw_copy(engine: Engine, path: Path) -> None:
    """The whole file into an unlogged table of text columns (FORMAT csv, cp1252)."""
    columns = ", ".join(f"{h} text" for h in HEADER.split(","))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_arcep_raw"))
        conn.execute(text(f"CREATE UNLOGGED TABLE bench_arcep_raw ({columns})"))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        sql = "COPY bench_arcep_raw FROM STDIN (FORMAT csv, HEADER true, ENCODING 'WIN1252')"
        with cursor.copy(sql) as copy, path.open("rb") as source:
            while block := source.read(1 << 20):
                copy.write(block)
        conn.execute(text("DROP TABLE bench_arcep_raw"))


def _backend_cpu(engine: Engine) -> dict[int, float]:
    """CPU seconds used so far by each server process of the bench database (same machine)."""
    with engine.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        out: dict[int, float] = {}
        tick = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
        return out


def measured(engine: Engine, func: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process and the database's server processes): CPU time
    is far less disturbed than wall time by the other tenants of a shared machine."""
    before, own = _backend_cpu(engine), time.process_time()
    wall = time.perf_counter()
    func()
    wall = time.perf_counter() - wall
    after = _backend_cpu(engine)
    server = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
    return wall, time.process_time() - own + server


def _rate(label: str, lines: int, runs: list[tuple[float, float]]) -> str:
    wall, cpu = median([r[0] for r in runs]), median([r[1] for r in runs])
    return (
        f"{label:<46}: {wall:7.1f} s ({fmt_int(round(lines / wall)):>10} lignes/s), "
        f"CPU {cpu:6.1f} s ({fmt_int(round(lines / cpu)):>10} lignes/s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--lines",
        type=int,
        default=DEFAULT_LINES,
        help=f"lines of the synthetic file (default {fmt_int(DEFAULT_LINES)}: about 3 minutes "
        f"here; the national file is ~{fmt_int(NATIONAL_LINES)})",
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--zip", action="store_true", help="also time the import of the zip")
    args = parser.parse_args()
    url = bench_database("geo_service_bench_arcep")
    engine = make_engine(url)
    with engine.begin() as conn:  # the bench database's own: earlier runs' imports forgotten
        conn.execute(text("TRUNCATE arcep_immeuble, import_journal CASCADE"))
    work = Path(tempfile.mkdtemp(prefix="bench_arcep_"))
    try:
        free = shutil.disk_usage(work).free
        need = int(args.lines * 170 * (1.5 if args.zip else 1.1))
        if free < need:
            print(
                f"Disque insuffisant dans {work} : {free / 1e9:.1f} Go libres, {need / 1e9:.1f} requis"
            )
            return 1
        path = work / NAME
        start = time.perf_counter()
        lines, lot = generate(engine, path, args.lines)
        print(
            f"Fichier synthétique : {fmt_int(lines)} lignes dont {fmt_int(lot)} du Lot, "
            f"{path.stat().st_size / 1e9:.2f} Go, écrit en {time.perf_counter() - start:.0f} s"
        )
        archive = None
        if args.zip:
            archive = work / "2024t2-immeuble.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
                zf.write(path, NAME)
        copies: list[tuple[float, float]] = []
        imports: list[tuple[float, float]] = []
        zipped: list[tuple[float, float]] = []
        quarters = iter(date(1900 + y, 12, 31) for y in range(200))  # a new quarter each run
        results = []

        def run_import(source: Path) -> None:
            results.append(
                import_arcep_immeubles(
                    engine, source, territory="46", user="bench", snapshot_date=next(quarters)
                )
            )

        for _ in range(args.repeat):
            copies.append(measured(engine, lambda: raw_copy(engine, path)))
            imports.append(measured(engine, lambda: run_import(path)))
            if archive is not None:
                zipped.append(measured(engine, lambda: run_import(archive)))  # type: ignore[arg-type]
        wrong = [r.message for r in results if r.counts.get("valides") != lot]
        if wrong:
            print(f"Import inattendu : {wrong[0]}")
            return 1
        print(f"{args.repeat} tour(s), médianes :")
        print(_rate("COPY brut du fichier entier (table UNLOGGED)", lines, copies))
        print(_rate("import arcep-immeubles du même fichier (Lot)", lines, imports))
        if zipped:
            print(_rate("import arcep-immeubles du même fichier zippé", lines, zipped))
        for name, index in (("temps", 0), ("CPU", 1)):
            ratios = [i[index] / c[index] for i, c in zip(imports, copies, strict=True)]
            print(f"Rapport import / COPY ({name}) : {median(ratios):.2f}x (objectif ≤ 3x)")
        copy_s, import_s = median([c[0] for c in copies]), median([i[0] for i in imports])
        if lines < NATIONAL_LINES:
            scale = NATIONAL_LINES / lines
            print(
                f"Extrapolation (linéaire, ×{scale:.1f}) au fichier national de "
                f"{fmt_int(NATIONAL_LINES)} lignes : COPY ~{copy_s * scale:.0f} s, import "
                f"~{import_s * scale:.0f} s (les deux lisent tout le fichier ; seul l'import "
                "garde le Lot)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS bench_arcep_raw"))
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
