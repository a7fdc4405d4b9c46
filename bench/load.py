"""Load benchmark: an open-loop load on a local server, as `make run` starts it
(geo-service serve --workers 2 on 127.0.0.1, demo database), mixing what the public and the
élus ask: « quand ? » by address and by point, address suggestions, premises and zones tiles,
commune pages. Prints throughput, p50/p95/p99 per kind and the errors, then searches the
highest rate answered without error.

    .venv/bin/python bench/load.py [--start-server] [--rate 200] [--duration 60] [--no-search]

Open loop: requests leave at the planned rate whatever the answers (latency counts from the
planned departure, so a slow server is not hidden); in-flight requests are capped
(--max-in-flight), the run is bounded in time, and only 127.0.0.1 is ever asked.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo_service.settings import Settings  # noqa: E402

# kind → share of the requests
MIX = {
    "quand-adresse": 0.20,
    "quand-point": 0.20,
    "adresses": 0.20,
    "tuile-prises": 0.15,
    "tuile-zones": 0.15,
    "page-commune": 0.10,
}


@dataclass
class Inputs:
    addresses: list[tuple[str, float, float, str]]  # label, lat, lon, insee


@dataclass
class Run:
    rate: float
    duration: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: int = 0
    skipped: int = 0
    elapsed: float = 0.0

    @property
    def answered(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values()) + self.skipped


def load_inputs(limit: int = 2000) -> Inputs:
    """Addresses of the demo territory (with their point and commune), from the database."""
    with psycopg.connect(Settings().libpq_url) as conn:
        rows = conn.execute(
            "SELECT concat_ws(' ', numero, rep, nom_voie, code_postal, nom_commune), "
            "ST_Y(ST_Transform(geom, 4326)), ST_X(ST_Transform(geom, 4326)), insee "
            "FROM reference_address ORDER BY md5(id) LIMIT %s",
            (limit,),
        ).fetchall()
    if not rows:
        raise SystemExit("Aucune adresse dans la base : chargez la démonstration (make demo).")
    return Inputs([(str(r[0]), float(r[1]), float(r[2]), str(r[3])) for r in rows])


def tile_of(lat: float, lon: float, z: int = 14) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def request_for(kind: str, inputs: Inputs, rng: random.Random) -> tuple[str, dict[str, str]]:
    label, lat, lon, insee = rng.choice(inputs.addresses)
    if kind == "quand-adresse":
        return "/api/v1/quand", {"adresse": label}
    if kind == "quand-point":
        return "/api/v1/quand", {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}"}
    if kind == "adresses":
        return "/api/v1/adresses", {"q": label[: rng.randint(4, 14)]}
    if kind in ("tuile-prises", "tuile-zones"):
        x, y = tile_of(lat, lon)
        return f"/tiles/{kind.split('-')[1]}/14/{x}/{y}.pbf", {}
    return f"/communes/{insee}", {}


async def run_load(
    base: str, inputs: Inputs, *, rate: float, duration: float, max_in_flight: int, timeout: float
) -> Run:
    run = Run(rate, duration)
    rng = random.Random(46)
    kinds, weights = list(MIX), list(MIX.values())
    in_flight = 0
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:

        async def one(kind: str, path: str, params: dict[str, str], planned: float) -> None:
            nonlocal in_flight
            try:
                response = await client.get(path, params=params)
                if response.status_code == 200:
                    run.latencies[kind].append(time.perf_counter() - planned)
                else:
                    run.errors[f"{kind} {response.status_code}"] += 1
            except httpx.HTTPError as exc:
                run.errors[f"{kind} {type(exc).__name__}"] += 1
            finally:
                in_flight -= 1

        tasks = []
        start = time.perf_counter()
        total = int(rate * duration)
        for i in range(total):
            planned = start + i / rate
            delay = planned - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            kind = rng.choices(kinds, weights)[0]
            path, params = request_for(kind, inputs, rng)
            if in_flight >= max_in_flight:
                run.skipped += 1  # the server is that far behind: counted as an error
                continue
            in_flight += 1
            run.sent += 1
            tasks.append(asyncio.create_task(one(kind, path, params, planned)))
        await asyncio.wait(tasks, timeout=timeout + 5) if tasks else None
        run.elapsed = time.perf_counter() - start
    return run


def ms(values: list[float], q: float) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f}"


def report(run: Run) -> None:
    print(
        f"\nCharge ouverte {run.rate:g} req/s pendant {run.duration:g} s : {run.sent} envoyées, "
        f"{run.answered} réponses 200 en {run.elapsed:.1f} s → {run.answered / run.elapsed:.1f} req/s"
    )
    print(f"{'type':<15}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind in MIX:
        values = run.latencies.get(kind, [])
        print(
            f"{kind:<15}{len(values):>7}{ms(values, 0.50):>9}{ms(values, 0.95):>9}{ms(values, 0.99):>9}"
        )
    if run.error_count:
        print(f"Erreurs : {run.error_count}")
        for what, count in sorted(run.errors.items()):
            print(f"  {what} : {count}")
        if run.skipped:
            print(f"  non envoyées (plus de requêtes en cours que permis) : {run.skipped}")
    else:
        print("Erreurs : 0")


async def search_rate(
    base: str,
    inputs: Inputs,
    *,
    low: float,
    high: float,
    step_duration: float,
    steps: int,
    **kw: float,
) -> float:
    """Bisection on the rate between 0 errors (low) and some errors (high)."""
    for _ in range(steps):
        rate = (low + high) / 2
        await asyncio.sleep(2)  # let the server drain
        run = await run_load(base, inputs, rate=rate, duration=step_duration, **kw)  # type: ignore[arg-type]
        p99 = statistics.quantiles(
            [v for vs in run.latencies.values() for v in vs] or [0, 0], n=100
        )[98]
        print(
            f"  {rate:6.1f} req/s : {run.error_count} erreur(s), "
            f"{run.answered / run.elapsed:.1f} réponses/s, p99 {p99 * 1000:.0f} ms"
        )
        if run.error_count:
            high = rate
        else:
            low = rate
    return low


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """geo-service serve as `make run` starts it, on a free local port."""
    port = free_port()
    geo = Path(sys.executable).with_name("geo-service")
    process = subprocess.Popen(
        [str(geo), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise SystemExit("Le serveur n'a pas démarré (geo-service serve).")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="serveur déjà lancé (local)")
    parser.add_argument(
        "--start-server", action="store_true", help="lance geo-service serve lui-même"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200.0, help="requêtes par seconde")
    parser.add_argument("--duration", type=float, default=60.0, help="secondes")
    parser.add_argument("--max-in-flight", type=int, default=400)
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument("--no-search", action="store_true", help="sans recherche du débit maximal")
    parser.add_argument("--search-duration", type=float, default=15.0)
    parser.add_argument("--search-steps", type=int, default=5)
    args = parser.parse_args()
    if min(args.rate, args.duration) <= 0 or args.rate * args.duration > 100_000:
        parser.error("--rate × --duration doit rester entre 1 et 100 000 requêtes")
    process = None
    base = args.url
    if args.start_server:
        process, base = start_server(args.workers)
    elif urlsplit(base).hostname not in ("127.0.0.1", "localhost"):
        parser.error("ce banc ne charge qu'un serveur local (127.0.0.1)")
    try:
        inputs = load_inputs()
        kw = {"max_in_flight": args.max_in_flight, "timeout": args.timeout}
        run = asyncio.run(run_load(base, inputs, rate=args.rate, duration=args.duration, **kw))
        report(run)
        if not args.no_search:
            print(
                f"\nRecherche du débit maximal sans erreur (paliers de {args.search_duration:g} s) :"
            )
            low, high = (0.0, args.rate) if run.error_count else (args.rate, args.rate * 2)
            best = asyncio.run(
                search_rate(
                    base,
                    inputs,
                    low=low,
                    high=high,
                    step_duration=args.search_duration,
                    steps=args.search_steps,
                    **kw,
                )
            )
            print(
                f"Débit maximal sans erreur trouvé : {best:.0f} req/s (± {(high - low) / 2**args.search_steps:.0f})"
            )
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
