"""Benchmark (issue #12, « scale »): the whole pipeline on synthetic France at several fractions
of national size (44 M locaux at 100 %).

    .venv/bin/python bench/scale.py [--fractions 0.01,0.1] [--departements all|46,48] [--keep]

For each fraction: generation (`geo_service.demo.france`), first IPE load and a raw COPY of the
same file, the fortnightly import (second snapshot over the first) and its raw COPY (each import
with its slowest SQL statements, where it spends its time beyond the COPY), a full
refresh of the state cube, raccordables at every level now and as of the first snapshot, « quand ? »
and of the national levels alone as of that date, « quand ? » over 300 points near random
premises (p50 / p99), tiles (layer `prises`) p99 at z10 to z14 around random premises, one élu
page cold (the commune with the most premises) and one as `cache warm` renders it (the
territory-wide parts already computed for another page), and the database size on disk. Each fraction has its own database (`geo_service_bench_scale_<‰>`), dropped and created
again each run; the generated files go to `bench/output/scale-data/` (git-ignored), removed at the
end unless `--keep`. Prints a table and the goals, writes `bench/output/scale.json` and
`bench/output/scale.png` (log-log, cost against locaux); figures at 100 % not measured are
projected from the two largest fractions (a power law), and said so.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from _common import ROOT, median, timed
from _scale_report import GOALS, print_table, project, write_plot
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from geo_service.analysis.quand import quand_point
from geo_service.analysis.raccordables import raccordables, raccordables_json
from geo_service.analysis.tiles import render_tile, tile_id, tile_layer
from geo_service.analysis.unit_report import commune_unit
from geo_service.api.routes.elus import unit_html
from geo_service.api.warm import warm
from geo_service.cache import territory_results
from geo_service.db.cluster import create_database
from geo_service.db.migrate import upgrade
from geo_service.db.session import make_engine
from geo_service.demo import france
from geo_service.errors import NotFoundError
from geo_service.ingest.cube import refresh_cube
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from geo_service.main import create_app
from geo_service.reference.load import load_reference
from geo_service.settings import Settings

OUTPUT = ROOT / "bench" / "output"
DATA = OUTPUT / "scale-data"
QUAND_POINTS = 300
TILES_PER_ZOOM = 40
ZOOMS = (10, 11, 12, 13, 14)
TILES = "OpenStreetMap"


def fresh_database(name: str) -> str:
    """Drop and create the database `name` next to the configured one, migrated."""
    settings = Settings()
    params = psycopg.conninfo.conninfo_to_dict(settings.libpq_url)
    admin = psycopg.conninfo.make_conninfo(**{**params, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                psycopg.sql.Identifier(name)
            )
        )
    create_database(psycopg.conninfo.make_conninfo(**{**params, "dbname": name}), admin_url=admin)
    user = params.get("user", "")
    pw = f":{params['password']}" if params.get("password") else ""
    url = f"postgresql://{user}{pw}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{name}"
    upgrade(url)
    return url


def raw_copy(engine: Engine, path: Path) -> float:
    """Seconds to COPY the decompressed file into a bare table of text columns."""
    content = gzip.decompress(path.read_bytes()).decode("utf-8")
    header = content.split("\n", 1)[0].split(";")
    columns = ", ".join(f'"{h}" text' for h in header)
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE bench_raw_copy ({columns})"))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(
            "COPY bench_raw_copy FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)"
        ) as copy:
            copy.write(content)
    elapsed = time.perf_counter() - start
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_raw_copy"))
    return elapsed


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """XYZ tile (Web Mercator) holding a point."""
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def percentile(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def sample_points(engine: Engine, n: int, seed: int) -> list[tuple[float, float]]:
    """(lon, lat) of n premises drawn at random (repeatable)."""
    with engine.connect() as conn:
        total = conn.execute(text("SELECT max(id) FROM premise")).scalar_one()
        ids = random.Random(seed).sample(range(1, int(total) + 1), min(n, int(total)))
        rows = conn.execute(
            text(
                "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(geom, 4326) g FROM premise "
                "WHERE id = ANY(:ids)) s"
            ),
            {"ids": ids},
        ).all()
    return [(float(x), float(y)) for x, y in rows]


def served_raccordables(engine: Engine) -> dict[str, Any]:
    """GET /api/v1/stats/raccordables?level=tous as a worker serves it once `cache warm` (which
    the server runs itself after each import) has stored the answer: data version, shared
    cache, HTTP."""
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False), departement="fr"
    )
    report = warm(engine, settings, kinds={"raccordables"})
    with TestClient(create_app(settings)) as client:

        def ask() -> None:
            answer = client.get("/api/v1/stats/raccordables", params={"level": "tous"})
            if answer.status_code != 200:
                raise RuntimeError(f"raccordables : HTTP {answer.status_code}")

        served = 1000 * median(timed(ask, 7))
        renders = client.app.state.response_cache.renders  # type: ignore[attr-defined]
    if renders:
        raise RuntimeError("raccordables calculés par le serveur malgré le préchauffage")
    return {"raccordables_warm_s": report.seconds, "raccordables_served_ms": served}


def measure_queries(engine: Engine, first_day: date) -> dict[str, Any]:
    """Raccordables, quand, tiles and an élu page on the loaded database."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        # what GET /api/v1/stats/raccordables?level=tous does: the JSON text built by PostgreSQL
        out["raccordables_ms"] = 1000 * median(
            timed(lambda: raccordables_json(conn, territory="fr"), 5)
        )
        out["raccordables_asof_ms"] = 1000 * median(
            timed(lambda: raccordables_json(conn, territory="fr", as_of=first_day), 5)
        )
        # the same records as Python dicts (CLI, reports)
        out["raccordables_dicts_ms"] = 1000 * median(
            timed(lambda: raccordables(conn, territory="fr"), 5)
        )
        national = ("departement_membre", "departement")
        out["raccordables_national_asof_ms"] = 1000 * median(
            timed(lambda: raccordables(conn, territory="fr", as_of=first_day, levels=national), 5)
        )
        out["raccordables_rows"] = len(raccordables(conn, territory="fr"))
        conn.rollback()
    out.update(served_raccordables(engine))
    with engine.connect() as conn:
        rng = random.Random(12)
        latencies, answered = [], 0
        for lon, lat in sample_points(engine, QUAND_POINTS, 12):
            lon, lat = lon + rng.uniform(-0.002, 0.002), lat + rng.uniform(-0.002, 0.002)
            start = time.perf_counter()
            try:
                quand_point(conn, lat=lat, lon=lon, territory="fr")
                answered += 1
            except NotFoundError:
                pass
            latencies.append(1000 * (time.perf_counter() - start))
        conn.rollback()
        out["quand_p50_ms"], out["quand_p99_ms"] = (
            statistics.median(latencies),
            percentile(latencies, 99),
        )
        out["quand_answered"] = answered
        layer = tile_layer("prises")
        centres = sample_points(engine, TILES_PER_ZOOM, 14)
        for z in ZOOMS:
            runs, sizes = [], []
            for lon, lat in centres:
                tile = tile_id(z, *tile_of(lon, lat, z))
                start = time.perf_counter()
                data = render_tile(conn, layer, tile, territory="fr")
                runs.append(1000 * (time.perf_counter() - start))
                sizes.append(len(data))
                conn.rollback()  # render_tile switches parallel plans off for the transaction
            out[f"tile_z{z}_p99_ms"] = percentile(runs, 99)
            out[f"tile_z{z}_max_kb"] = max(sizes) / 1024
        biggest, second = conn.execute(
            text("SELECT insee FROM premise GROUP BY insee ORDER BY count(*) DESC, insee LIMIT 2")
        ).scalars()
        unit = commune_unit(conn, "fr", biggest)
        out["elu_page_ms"] = 1000 * timed(lambda: unit_html(conn, "fr", unit, TILES), 1)[0]
        out["elu_commune"] = f"{biggest} {unit.nom}"
        with territory_results():  # as `cache warm` renders them: territory-wide parts once
            unit_html(conn, "fr", unit, TILES)
            other = commune_unit(conn, "fr", second)
            page = timed(lambda: unit_html(conn, "fr", other, TILES), 1)[0]
        out["elu_page_warm_ms"] = 1000 * page
        out["db_mb"] = (
            conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20
        )
    return out


PROFILE_TOP = 8  # statements of each IPE import shown, the slowest first


@contextmanager
def statement_times(engine: Engine) -> Iterator[Counter[str]]:
    """Seconds spent in each SQL statement (its first words) while the block runs: where an
    import spends its time beyond the raw COPY."""
    spent: Counter[str] = Counter()

    def before(conn, cursor, statement, params, context, many):  # type: ignore[no-untyped-def]
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, params, context, many):  # type: ignore[no-untyped-def]
        spent[" ".join(statement.split())[:80]] += time.perf_counter() - conn.info["bench_started"]

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield spent
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def run_fraction(fraction: float, departements: list[str], keep: bool) -> dict[str, Any]:
    """Every figure of one fraction."""
    tag = f"{round(fraction * 1000):04d}"
    folder = DATA / f"fr-{tag}"
    shutil.rmtree(folder, ignore_errors=True)
    row: dict[str, Any] = {"fraction": fraction, "departements": len(departements)}
    say = lambda m: print(f"  [{fraction:g}] {m}", flush=True)  # noqa: E731
    start = time.perf_counter()
    manifest = france.generate_france(departements, fraction, folder)
    row["generation_s"] = time.perf_counter() - start
    counts = manifest["counts"]
    row.update(
        locaux=counts["locaux"],
        lignes=counts["lignes_1"],
        pm=counts["pm"],
        communes=counts["communes"],
    )
    say(
        f"généré en {row['generation_s']:.1f} s : {counts['locaux']} locaux, {counts['lignes_1']} lignes"
    )
    url = fresh_database(f"geo_service_bench_scale_{tag}")
    engine = make_engine(url, application_name="bench-scale")
    try:
        start = time.perf_counter()
        with engine.begin() as conn:
            load_reference(conn, "fr", territory_dir=folder)
        row["reference_s"] = time.perf_counter() - start
        first_day = date.fromisoformat(manifest["snapshot_dates"][0])
        start = time.perf_counter()
        import_gracethd(
            engine, france.gracethd_path(folder), territory="fr", snapshot_date=first_day
        )
        row["gracethd_s"] = time.perf_counter() - start
        say(f"référentiel {row['reference_s']:.1f} s, GraceTHD {row['gracethd_s']:.1f} s")
        first, second = france.snapshot_paths(folder)
        for key, path in (("first", first), ("fortnight", second)):
            row[f"{key}_copy_s"] = raw_copy(engine, path)
            start = time.perf_counter()
            with statement_times(engine) as spent:
                result = import_ipe(engine, path, territory="fr", user="bench")
            row[f"{key}_s"] = time.perf_counter() - start
            row[f"{key}_statements"] = spent.most_common(PROFILE_TOP)
            if result.status != "OK" or result.problems:
                raise RuntimeError(
                    f"{path.name} : {result.status}, {len(result.problems)} problèmes"
                )
            row[f"{key}_ratio"] = row[f"{key}_s"] / row[f"{key}_copy_s"]
            say(f"{path.name} : {row[f'{key}_s']:.1f} s, COPY {row[f'{key}_copy_s']:.1f} s")
            for statement, seconds in row[f"{key}_statements"]:
                say(f"    {seconds:7.2f} s  {statement}")
        row["lines_per_s"] = row["lignes"] / row["first_s"]
        with engine.begin() as conn:
            start = time.perf_counter()
            refresh_cube(conn, date(2000, 1, 1), "fr")
            row["cube_s"] = time.perf_counter() - start
        say(f"cube {row['cube_s']:.1f} s ; requêtes…")
        row.update(measure_queries(engine, first_day))
    finally:
        engine.dispose()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return row


def report(rows: list[dict[str, Any]], departements: int) -> None:
    """Table, goals, JSON and plot of the measured fractions (projected to 100 % for France)."""
    projected = project(rows) if departements == 96 and rows[-1]["fraction"] < 1 else None
    print_table(rows, projected)
    plot = write_plot(rows, projected, OUTPUT / "scale.png")
    missing = " (matplotlib absent : pas de graphique)"
    print(f"Résultats : {OUTPUT / 'scale.json'}" + (f", graphique : {plot}" if plot else missing))
    summary = {"mesures": rows, "projection_100": projected, "objectifs": GOALS}
    (OUTPUT / "scale.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fractions", default="0.01,0.1", help="ex. 0.01,0.1 (1 = 44 M locaux)")
    parser.add_argument("--departements", default="all", help="« all » ou une liste : 46,48")
    parser.add_argument("--keep", action="store_true", help="garder les fichiers générés")
    parser.add_argument(
        "--rapport",
        action="store_true",
        help="réafficher le tableau et refaire le graphique depuis bench/output/scale.json",
    )
    args = parser.parse_args()
    if args.rapport:
        saved = json.loads((OUTPUT / "scale.json").read_text(encoding="utf-8"))
        report(saved["mesures"], saved["mesures"][0]["departements"])
        return 0
    fractions = sorted(france.check_fraction(float(f)) for f in args.fractions.split(","))
    departements = france.parse_departements(args.departements)
    rows: list[dict[str, Any]] = []
    for fraction in fractions:
        print(f"Fraction {fraction:g} ({len(departements)} départements)…", flush=True)
        rows.append(run_fraction(fraction, departements, args.keep))
        OUTPUT.mkdir(parents=True, exist_ok=True)
        (OUTPUT / "scale.json").write_text(
            json.dumps({"mesures": rows}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    report(rows, len(departements))
    return 0


if __name__ == "__main__":
    sys.exit(main())
