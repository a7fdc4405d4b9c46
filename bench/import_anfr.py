"""Benchmark: `import anfr` of a national-size ANFR export for the Lot vs a raw COPY of it.

    .venv/bin/python bench/import_anfr.py [--repeat 3] [--emitters 1000000]

Writes a synthetic export in the published layout (cp1252, CRLF, `;`, DMS with hemispheres,
decimal commas, JJ/MM/AAAA) into a temporary folder: ~100 000 supports spread over France (the
Lot's share about its share of the country's area, a few overseas in the southern hemisphere),
~130 000 stations, ~1 000 000 emitters. Each round times, one after the other, the raw COPY of
every table (all rows, no filtering, text columns) into unlogged scratch tables, then the import
for the Lot from empty ANFR tables (read, check, keep the territory, stage, merge, history).
Goal (issue #11): import ≤ 3× the raw COPY.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import bench_database, median
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.ingest.anfr import import_anfr
from geo_service.ingest.anfr_reader import TABLES

OPERATORS = [("23", "ORANGE"), ("137", "SFR"), ("6", "BOUYGUES TELECOM"), ("240", "FREE MOBILE")]
OWNERS = [("8", "TDF"), ("22", "Towercast"), ("4", "Commune"), ("12", "Société de réseaux")]
NATURES = [("11", "Pylône autostable"), ("12", "Pylône haubané"), ("21", "Château d'eau")]
SYSTEMS = np.array(["GSM 900", "GSM 1800", "UMTS 900", "UMTS 2100", "LTE 700", "LTE 800",
                    "LTE 1800", "LTE 2100", "LTE 2600", "5G NR 3500", "FH", "PMR"])  # fmt: skip
METROPOLE = (-4.7, 42.4, 8.1, 51.0)  # lon/lat box
LOT_BOX = (0.96, 44.20, 2.22, 45.05)
LOT_SHARE = (
    0.008  # of the supports drawn in the Lot's box: with the uniform ones ≈ 0.9 % in the Lot
)
OVERSEAS_SHARE = 0.01  # La Réunion: southern latitudes


def _write(path: Path, header: tuple[str, ...], columns: list[np.ndarray]) -> None:
    body = "\r\n".join(map(";".join, zip(*(c.tolist() for c in columns), strict=True)))
    path.write_bytes((";".join(header) + "\r\n" + body + "\r\n").encode("cp1252"))


def _dms(values: np.ndarray, positive: str, negative: str) -> list[np.ndarray]:
    hemisphere = np.where(values < 0, negative, positive)
    v = np.abs(values)
    deg = np.floor(v)
    minutes = np.floor((v - deg) * 60)
    seconds = np.round((v - deg - minutes / 60) * 3600, 1).clip(0, 59.9)
    secs = np.char.replace(np.char.mod("%.1f", seconds), ".", ",")
    return [deg.astype(int).astype(str), minutes.astype(int).astype(str), secs, hemisphere]


def generate(folder: Path, emitters: int, seed: int = 46) -> dict[str, int]:
    """Write the export's six tables into `folder`; return their line counts."""
    rng = np.random.default_rng(seed)
    n_sup = emitters // 10
    n_sta = emitters * 13 // 100
    box = np.array([METROPOLE] * n_sup)
    region = rng.random(n_sup)
    box[region < LOT_SHARE] = LOT_BOX
    box[region > 1 - OVERSEAS_SHARE] = (55.2, -21.4, 55.8, -20.9)
    lon = box[:, 0] + rng.random(n_sup) * (box[:, 2] - box[:, 0])
    lat = box[:, 1] + rng.random(n_sup) * (box[:, 3] - box[:, 1])
    sup_ids = np.arange(100_000, 100_000 + n_sup)
    # every support carries a station, the others go to random supports (shared pylons)
    carrier = np.concatenate([np.arange(n_sup), rng.integers(0, n_sup, n_sta - n_sup)])
    stations = np.char.zfill((np.arange(n_sta) * 7 + 10_000_000).astype(str), 10)
    dates = np.array([f"{d:02d}/{m:02d}/{y}" for y in range(2000, 2025) for m in range(1, 13)
                      for d in (1, 9, 17, 25)])  # fmt: skip
    pick = lambda pool, n: np.asarray(pool)[rng.integers(0, len(pool), n)]  # noqa: E731
    empty = np.full(n_sta, "", dtype=object)
    _write(
        folder / "SUP_SUPPORT.txt",
        TABLES["SUP_SUPPORT"],
        [
            sup_ids[carrier].astype(str),
            stations,
            pick([c for c, _ in NATURES], n_sta),
            *[c[carrier] for c in _dms(lat, "N", "S")],
            *[c[carrier] for c in _dms(lon, "E", "W")],
            np.char.replace(np.char.mod("%.1f", rng.uniform(8, 60, n_sup)), ".", ",")[carrier],
            pick([c for c, _ in OWNERS], n_sta),
            np.full(n_sta, "Lieu-dit Le Pech"),
            empty,
            empty,
            empty,
            np.full(n_sta, "46100"),
            np.full(n_sta, "46102"),
        ],
    )
    service = pick(dates, n_sta)
    service[rng.random(n_sta) < 0.05] = ""
    _write(
        folder / "SUP_STATION.txt",
        TABLES["SUP_STATION"],
        [
            stations,
            pick([c for c, _ in OPERATORS], n_sta),
            np.arange(n_sta).astype(str),
            pick(dates, n_sta),
            pick(dates, n_sta),
            service,
        ],
    )
    emitter_service = pick(dates, emitters)
    emitter_service[rng.random(emitters) < 0.05] = ""
    _write(
        folder / "SUP_EMETTEUR.txt",
        TABLES["SUP_EMETTEUR"],
        [
            np.arange(1, emitters + 1).astype(str),
            pick(SYSTEMS, emitters),
            stations[rng.integers(0, n_sta, emitters)],
            rng.integers(1, 3_000_000, emitters).astype(str),
            emitter_service,
        ],
    )
    for name, rows in (
        ("SUP_EXPLOITANT", OPERATORS),
        ("SUP_PROPRIETAIRE", OWNERS),
        ("SUP_NATURE", NATURES),
    ):
        codes, labels = (np.array(c) for c in zip(*rows, strict=True))
        _write(folder / f"{name}.txt", TABLES[name], [codes, labels])
    return {"SUP_SUPPORT": n_sta, "SUP_STATION": n_sta, "SUP_EMETTEUR": emitters}


def raw_copy(engine: Engine, folder: Path) -> None:
    """Every table, all rows, into unlogged tables of text columns (created, then dropped)."""
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for name, columns in TABLES.items():
            table = f"bench_raw_{name.lower()}"
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            conn.execute(
                text(f"CREATE UNLOGGED TABLE {table} ({', '.join(f'{c} text' for c in columns)})")
            )
            with (
                cursor.copy(
                    f"COPY {table} FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true,"
                    " ENCODING 'WIN1252')"
                ) as copy,
                (folder / f"{name}.txt").open("rb") as handle,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        for name in TABLES:
            conn.execute(text(f"DROP TABLE bench_raw_{name.lower()}"))


def reset(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("TRUNCATE anfr_emetteur, anfr_station_support, anfr_station, anfr_support")
        )
        conn.execute(text("DELETE FROM asset_change WHERE table_name = 'anfr_station'"))
        conn.execute(text("DELETE FROM audit_log WHERE object_type = 'import_anfr'"))
        conn.execute(text("DELETE FROM import_journal WHERE kind = 'anfr'"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--emitters", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_anfr_"))
    try:
        start = time.perf_counter()
        export = work / "20240131-export-etalab"
        export.mkdir()
        lines = generate(export, args.emitters)
        size = sum(p.stat().st_size for p in export.iterdir()) / 1e6
        listed = ", ".join(f"{n} {t}" for t, n in lines.items())
        print(f"Export synthétique (lignes) : {listed} ; {size:.0f} Mo, écrit en "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        engine = make_engine(bench_database("geo_service_bench_anfr"))
        copies: list[float] = []
        imports: list[float] = []
        result = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            raw_copy(engine, export)
            copies.append(time.perf_counter() - t0)
            reset(engine)
            t0 = time.perf_counter()
            result = import_anfr(engine, export, territory="46", user="bench")
            imports.append(time.perf_counter() - t0)
        assert result is not None and result.status == "OK", result
        ratios = [i / c for i, c in zip(imports, copies, strict=True)]
        c = result.counts
        print(f"Gardés pour le Lot : {c['supports']} supports, {c['stations']} stations, "
              f"{c['emetteurs']} émetteurs ; hors territoire : {c['stations_hors_territoire']} "
              f"stations, {c['emetteurs_hors_territoire']} émetteurs")  # fmt: skip
        print(f"{args.repeat} tours ; médianes")
        print(f"COPY brut des 6 tables (tables non journalisées) : {median(copies):.2f} s")
        print(f"import anfr pour le Lot (tables vides)           : {median(imports):.2f} s"
              f" = {median(ratios):.2f}x le COPY")  # fmt: skip
        print("Objectif : import ≤ 3x le COPY brut.")
        engine.dispose()
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
