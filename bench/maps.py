"""Benchmark: weight of the public map page and vector-tile throughput (ours, tipg, bare SQL).

    .venv/bin/python bench/maps.py [--seconds 3] [--workers 4] [--per-zoom 24] [--demo DIR]

(a) HTML weight: our public-page-style Folium map (vector tiles through VectorGridProtobuf)
    against a naive Folium map embedding every premise as a CircleMarker.
    Goal: ours ≤ 1 MB and ≤ 1/100 of the naive page.
(b) Tiles/s of the `prises` layer over a fixed list of tiles at z10-z14 that hold premises,
    all measured in this run: the bare tile SQL (psycopg), our tile function in process, our
    endpoint over HTTP (uvicorn on 127.0.0.1) and tipg over HTTP (its own venv, bench/.venv-tipg,
    serving the same `premise` table of the same database). Goal: ours ≥ 2× tipg and ≥ 0.5× SQL.

Everything runs on 127.0.0.1; every loop is bounded in passes and in seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import httpx
import mapbox_vector_tile
import psycopg
from _common import ROOT, bench_database
from folium import plugins
from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg

from geo_service.analysis.tiles import (
    LAYERS,
    TileId,
    render_tile,
    tile_params,
    tile_statement,
    tile_url_template,
)
from geo_service.db.session import make_engine
from geo_service.maps.assets import localize
from geo_service.maps.styles import base_tiles
from geo_service.settings import Settings

TERRITORY = "46"
ZOOMS = range(10, 15)
WORLD = 2 * math.pi * 6_378_137.0
OUTPUT = ROOT / "bench" / "output"
TIPG_VENV = ROOT / "bench" / ".venv-tipg"
TIPG_VERSION = "1.6.1"
TIPG_COLLECTION = "public.premise"
TIPG_PROPERTIES = "identifiant_immeuble,etat,logements,pm_reference,insee,amii"
MAX_PASSES = 200
Tile = tuple[int, int, int]


# --- data -------------------------------------------------------------------------------------
def ensure_network(engine: Engine, demo: Path) -> int:
    """The number of premises; loads the demo territory first when the table is empty."""
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM premise")).scalar_one()
    if count:
        return int(count)
    if not demo.is_dir():
        print(f"Génération du territoire de démonstration dans {demo}…", flush=True)
        from geo_service.demo.generate import generate_demo

        generate_demo(TERRITORY, demo)
    from geo_service.ingest.batch import load_folder

    print(f"Chargement de {demo} dans la base de mesure (quelques minutes)…", flush=True)
    load_folder(engine, demo, territory=TERRITORY, user="bench")
    with engine.begin() as conn:
        conn.execute(text("ANALYZE premise"))
        return int(conn.execute(text("SELECT count(*) FROM premise")).scalar_one())


def tile_list(engine: Engine, per_zoom: int) -> dict[int, list[Tile]]:
    """Per zoom, the tiles holding premises; at most `per_zoom`, evenly spread (deterministic)."""
    sql = text(
        "SELECT floor((ST_X(m) + :w / 2) / (:w / 2 ^ :z))::int AS x, "
        "floor((:w / 2 - ST_Y(m)) / (:w / 2 ^ :z))::int AS y "
        "FROM (SELECT ST_Transform(geom, 3857) AS m FROM premise WHERE removed_on IS NULL) p "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    )
    tiles = {}
    with engine.connect() as conn:
        for z in ZOOMS:
            rows = conn.execute(sql, {"w": WORLD, "z": z}).all()
            step = max(1, math.ceil(len(rows) / per_zoom))
            tiles[z] = [(z, r.x, r.y) for r in rows[::step]]
    return tiles


# --- (a) HTML weight ----------------------------------------------------------------------------
def public_map(bounds: tuple[float, float, float, float]) -> folium.Map:
    """What the public page draws: a base map and our three vector-tile layers."""
    base = base_tiles(Settings().base_tiles)
    fmap = folium.Map(tiles=None, control_scale=True)
    folium.TileLayer(base["url"], attr=base["attribution"], name="Fond de carte").add_to(fmap)
    layers = {
        "zones": ("Zones PM", {"weight": 1, "color": "#0072B2", "fill": True, "fillOpacity": 0.2}),
        "communes": ("Communes", {"weight": 0.6, "color": "#555555", "fill": False}),
        "prises": ("Immeubles", {"radius": 3, "weight": 0, "fill": True, "fillColor": "#009E73"}),
    }
    for layer, (name, style) in layers.items():
        plugins.VectorGridProtobuf(
            url=tile_url_template(layer),
            name=name,
            options={"vectorTileLayerStyles": {layer: style}, "maxNativeZoom": 16},
        ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    west, south, east, north = bounds
    fmap.fit_bounds([[south, west], [north, east]])
    return localize(fmap)


def naive_map(engine: Engine) -> folium.Map:
    """Every premise as a CircleMarker with its identifier and state (what tiles replace)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT identifiant_immeuble, etat, logements, ST_Y(g) AS lat, ST_X(g) AS lon "
                "FROM (SELECT *, ST_Transform(geom, 4326) AS g FROM premise "
                "WHERE removed_on IS NULL) p ORDER BY id"
            )
        ).all()
    fmap = folium.Map(tiles="OpenStreetMap", prefer_canvas=True)
    for r in rows:
        folium.CircleMarker(
            [r.lat, r.lon],
            radius=3,
            weight=0,
            fill=True,
            fill_color="#009E73" if r.etat == "DEPLOYE" else "#D55E00",
            tooltip=f"{r.identifiant_immeuble} — {r.etat} ({r.logements} logements)",
        ).add_to(fmap)
    return fmap


def html_weight(engine: Engine) -> None:
    with engine.connect() as conn:
        bounds = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
                "ST_Extent(ST_Transform(geom, 4326)) AS e FROM territory WHERE code = :t) x"
            ),
            {"t": TERRITORY},
        ).one()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    ours = public_map(tuple(bounds)).get_root().render().encode()
    (OUTPUT / "carte_tuiles.html").write_bytes(ours)
    start = time.perf_counter()
    naive = naive_map(engine).get_root().render().encode()
    (OUTPUT / "carte_naive.html").write_bytes(naive)
    print("(a) Poids de la page HTML de la carte")
    print(f"    tuiles vectorielles (VectorGridProtobuf) : {len(ours) / 1e3:10.1f} ko")
    print(
        f"    naïve (un CircleMarker par immeuble)      : {len(naive) / 1e6:10.1f} Mo"
        f"  (rendu {time.perf_counter() - start:.0f} s)"
    )
    print(
        f"    rapport naïve / tuiles : {len(naive) / len(ours):.0f}x "
        f"(objectif : tuiles ≤ 1 Mo et ≤ 1/100 de la naïve) — pages dans {OUTPUT}"
    )


# --- (b) tiles/s --------------------------------------------------------------------------------
@dataclass
class Rate:
    tiles_per_s: dict[int, float]
    bytes_per_tile: float

    def overall(self, tiles: dict[int, list[Tile]]) -> float:
        """Tiles/s over the whole fixed list: its size / the time one pass of it takes."""
        seconds = sum(len(tiles[z]) / self.tiles_per_s[z] for z in tiles)
        return sum(len(v) for v in tiles.values()) / seconds


def measure(
    fetch: Callable[[Tile], int], tiles: list[Tile], workers: int, seconds: float
) -> tuple[float, float]:
    """(tiles/s, bytes/tile): at least one full pass, then until `seconds` (≤ MAX_PASSES)."""
    jobs = iter(itertools.islice(itertools.cycle(tiles), len(tiles) * MAX_PASSES))
    lock = threading.Lock()
    state = {"issued": 0, "done": 0, "bytes": 0}
    start = time.perf_counter()
    deadline = start + seconds

    def work() -> None:
        while True:
            with lock:
                if state["issued"] >= len(tiles) and time.perf_counter() > deadline:
                    return
                job = next(jobs, None)
                state["issued"] += 1
            if job is None:
                return
            size = fetch(job)
            with lock:
                state["done"] += 1
                state["bytes"] += size

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return state["done"] / elapsed, state["bytes"] / max(state["done"], 1)


def run(
    fetch: Callable[[Tile], int], tiles: dict[int, list[Tile]], workers: int, seconds: float
) -> Rate:
    for z in tiles:  # warm-up: one pass (caches, prepared statements, connections)
        measure(fetch, tiles[z], workers, 0)
    rates, sizes = {}, []
    for z in tiles:
        rates[z], size = measure(fetch, tiles[z], workers, seconds)
        sizes.append(size)
    return Rate(rates, sum(sizes) / len(sizes))


class PerThread:
    """One resource (connection, HTTP client) per thread, all closed at the end."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory, self.local, self.made = factory, threading.local(), []

    def get(self) -> Any:
        if not hasattr(self.local, "value"):
            self.local.value = self.factory()
            self.made.append(self.local.value)
        return self.local.value

    def close(self) -> None:
        for value in self.made:
            value.close()


def bare_sql_fetcher(url: str) -> tuple[Callable[[Tile], int], PerThread]:
    """The very statements of geo_service/sql/tiles.sql, run with psycopg and nothing around
    (binary results, as render_tile does)."""
    compiled = {
        name: str(tile_statement(name).compile(dialect=pg_psycopg.dialect()))
        for name in {LAYERS["prises"].statement_for(z) for z in ZOOMS}
    }
    serial = "-c max_parallel_workers_per_gather=0"  # as render_tile runs them
    conns = PerThread(lambda: psycopg.connect(url, autocommit=True, options=serial))

    def fetch(tile: Tile) -> int:
        params = tile_params(TileId(*tile), territory=TERRITORY)
        sql = compiled[LAYERS["prises"].statement_for(tile[0])]
        with conns.get().cursor(binary=True) as cursor:
            row = cursor.execute(sql, params).fetchone()
        return len(row[0] or b"") if row else 0

    return fetch, conns


def in_process_fetcher(engine: Engine) -> tuple[Callable[[Tile], int], PerThread]:
    conns = PerThread(engine.connect)

    def fetch(tile: Tile) -> int:
        return len(render_tile(conns.get(), LAYERS["prises"], TileId(*tile), territory=TERRITORY))

    return fetch, conns


def http_fetcher(template: str) -> tuple[Callable[[Tile], int], PerThread]:
    clients = PerThread(lambda: httpx.Client(timeout=120, headers={"Accept-Encoding": "identity"}))

    def fetch(tile: Tile) -> int:
        z, x, y = tile
        response = clients.get().get(template.format(z=z, x=x, y=y))
        response.raise_for_status()
        return len(response.content)

    return fetch, clients


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(name: str, command: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    """Start a uvicorn server on 127.0.0.1, wait for /healthz, stop it (this process only)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = (OUTPUT / f"{name}.log").open("w")
    base = f"http://127.0.0.1:{port}"
    flags = ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(
        [*command, *flags, "--no-access-log"],
        env={**os.environ, **env},
        cwd=OUTPUT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} n'a pas démarré : voir {log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def ensure_tipg() -> Path:
    """bench/.venv-tipg with tipg (never installed into the project's venv)."""
    python = TIPG_VENV / "bin" / "python"
    if not (TIPG_VENV / ".installed").exists():
        print(f"Installation de tipg {TIPG_VERSION} dans {TIPG_VENV}…", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(TIPG_VENV)], check=True)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        with (OUTPUT / "tipg-install.log").open("w") as log:
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", f"tipg=={TIPG_VERSION}", "uvicorn"],
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        (TIPG_VENV / ".installed").touch()
    return python


def feature_count(content: bytes) -> int:
    """Features in a tile, whatever its layer is called (tipg names it `default`)."""
    decoded = mapbox_vector_tile.decode(content)
    return sum(len(layer["features"]) for layer in decoded.values())


def servers(url: str, tipg_python: Path) -> dict[str, tuple[list[str], dict[str, str], str]]:
    """name → (uvicorn command, environment, tile URL template with {base})."""
    tipg_env = {
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": f'["{TIPG_COLLECTION}"]',
        "TIPG_TILE_BUFFER": "64",  # as ours (tipg's default is 256)
        "TIPG_MAX_FEATURES_PER_TILE": "10000000",  # every premise, as ours (default: 10 000)
    }
    return {
        "geo_service": (
            [sys.executable, "-m", "uvicorn", "--factory", "geo_service.main:create_app"],
            {"DATABASE_URL": url, "GEO_SERVICE_DEPARTEMENT": TERRITORY, "PYTHONPATH": str(ROOT)},
            "{base}/tiles/prises/{{z}}/{{x}}/{{y}}.pbf",
        ),
        "tipg": (
            [str(tipg_python), "-m", "uvicorn", "tipg.main:app"],
            tipg_env,
            f"{{base}}/collections/{TIPG_COLLECTION}/tiles/WebMercatorQuad/{{{{z}}}}/{{{{x}}}}/"
            f"{{{{y}}}}?properties={TIPG_PROPERTIES}",
        ),
    }


def tile_rates(
    url: str, engine: Engine, tiles: dict[int, list[Tile]], w: int, seconds: float
) -> dict[str, Rate]:
    """Tiles/s of each method, all in this run."""
    results: dict[str, Rate] = {}
    for label, (fetch, pool), workers in (
        ("SQL nu (psycopg, 1 connexion)", bare_sql_fetcher(url), 1),
        ("le nôtre en processus (1 fil)", in_process_fetcher(engine), 1),
        (f"SQL nu (psycopg, {w} connexions)", bare_sql_fetcher(url), w),
    ):
        results[label] = run(fetch, tiles, workers, seconds)
        pool.close()
    z, x, y = tiles[max(tiles)][len(tiles[max(tiles)]) // 2]
    for name, (command, env, template) in servers(url, ensure_tipg()).items():
        with serve(name, command, env, free_port()) as base:
            fetch, pool = http_fetcher(template.format(base=base))
            label = "le nôtre" if name == "geo_service" else name
            results[f"{label} HTTP (uvicorn, {w} clients)"] = run(fetch, tiles, w, seconds)
            pool.close()
            content = httpx.get(template.format(base=base).format(z=z, x=x, y=y)).content
            print(f"    contrôle z{z}/{x}/{y} : {name} → {feature_count(content)} immeubles")
    return results


def report(results: dict[str, Rate], tiles: dict[int, list[Tile]], w: int) -> None:
    head = "".join(f"{'z' + str(z):>8}" for z in tiles)
    print(f"\n    {'méthode':40}{head}{'global':>9}{'ko/tuile':>10}")
    for label, rate in results.items():
        cells = "".join(f"{rate.tiles_per_s[z]:8.0f}" for z in tiles)
        print(f"    {label:40}{cells}{rate.overall(tiles):9.0f}{rate.bytes_per_tile / 1e3:10.1f}")
    sql1, ours, sqlw, ours_http, tipg_http = (r.overall(tiles) for r in results.values())
    print(
        f"\n    le nôtre HTTP / tipg HTTP          : {ours_http / tipg_http:5.2f}x (objectif ≥ 2)"
    )
    print(f"    le nôtre en processus / SQL nu (1) : {ours / sql1:5.2f}x (objectif ≥ 0,5)")
    print(f"    le nôtre HTTP / SQL nu ({w} conn.)   : {ours_http / sqlw:5.2f}x")
    print("    (z10-z11 : le nôtre agrège par commune, tipg envoie chaque immeuble)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="durée par zoom et méthode")
    parser.add_argument("--workers", type=int, default=4, help="clients HTTP en parallèle")
    parser.add_argument("--per-zoom", type=int, default=24, help="tuiles par niveau de zoom")
    parser.add_argument("--demo", type=Path, default=Settings().demo_path(TERRITORY))
    parser.add_argument("--skip-html", action="store_true", help="ne pas mesurer (a)")
    parser.add_argument(
        "--database",
        default="geo_service_bench_maps",
        help="base de mesure (à part : bench/import_ipe.py vide les tables du réseau de la sienne)",
    )
    args = parser.parse_args()

    url = bench_database(args.database)
    engine = make_engine(url)
    print(f"Base {args.database} : {ensure_network(engine, args.demo)} immeubles\n")
    if not args.skip_html:
        html_weight(engine)
    tiles = tile_list(engine, args.per_zoom)
    if not all(tiles.values()):
        print("Aucune tuile à mesurer : la table premise est vide ?")
        return 1
    counts = ", ".join(f"z{z}: {len(v)}" for z, v in tiles.items())
    print(
        f"\n(b) Tuiles « prises » : {sum(map(len, tiles.values()))} tuiles fixes ({counts}), "
        f"{args.seconds:g} s par zoom et par méthode"
    )
    report(tile_rates(url, engine, tiles, args.workers, args.seconds), tiles, args.workers)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
