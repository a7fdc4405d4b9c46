"""Load benchmark: an open-loop load on a local server, as `make run` starts it
(geo-service serve on 127.0.0.1, one process more than cores, demo database), mixing what the public and the
élus ask: « quand ? » by address and by point, address suggestions, premises and zones tiles,
commune pages. Prints throughput, p50/p95/p99 per kind and the errors, then searches the
highest rate answered without error.

    .venv/bin/python bench/load.py [--start-server] [--rate 200] [--duration 60] [--no-search]

Open loop: requests leave at the planned rate whatever the answers (latency counts from the
planned departure, so a slow server is not hidden); in-flight requests are capped
(--max-in-flight), the run is bounded in time, and only 127.0.0.1 is ever asked.

Before the load, `geo-service cache warm` fills the shared page cache for the current data
version (the élu pages are measured as served from the cache; --no-warm to measure them cold).
The client is a small HTTP/1.1 keep-alive client on asyncio (uvloop when installed): it shares
the machine's cores with the server, so it must cost little per request (its CPU time is
printed).
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
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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
    client_cpu: float = 0.0

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


def request_for(kind: str, inputs: Inputs, rng: random.Random) -> str:
    label, lat, lon, insee = rng.choice(inputs.addresses)
    if kind == "quand-adresse":
        return "/api/v1/quand?" + urlencode({"adresse": label})
    if kind == "quand-point":
        return f"/api/v1/quand?lat={lat:.6f}&lon={lon:.6f}"
    if kind == "adresses":
        return "/api/v1/adresses?" + urlencode({"q": label[: rng.randint(4, 14)]})
    if kind in ("tuile-prises", "tuile-zones"):
        x, y = tile_of(lat, lon)
        return f"/tiles/{kind.split('-')[1]}/14/{x}/{y}.pbf"
    return f"/communes/{insee}"


KEEP_ALIVE_S = 4.0  # below uvicorn's keep-alive timeout (5 s)


class HttpError(Exception):
    """The connection failed or the answer could not be read."""


class Client:
    """GETs over a pool of keep-alive HTTP/1.1 connections to one local server: a few
    microseconds of Python per request, where a general-purpose client spends a millisecond."""

    def __init__(self, base: str, *, max_connections: int) -> None:
        parts = urlsplit(base)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        # (reader, writer, when it was last used): uvicorn closes a connection idle for 5 s
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.slots = asyncio.Semaphore(max_connections)

    async def get(self, target: str) -> int:
        """Status of GET target, body read and dropped. A kept-alive connection the server
        closed meanwhile (its keep-alive timeout) is replaced once, as browsers do."""
        async with self.slots:
            for attempt in (1, 2):
                kept = self._kept() if attempt == 1 else None
                reused = kept is not None
                reader, writer = kept if kept is not None else await self._connect()
                try:
                    status = await self._exchange(reader, writer, target)
                except asyncio.IncompleteReadError as exc:
                    writer.close()
                    if reused and not exc.partial and attempt == 1:
                        continue  # closed while idle: nothing was answered, ask again
                    raise HttpError(type(exc).__name__) from exc
                except (OSError, asyncio.LimitOverrunError, ValueError) as exc:
                    writer.close()
                    if reused and isinstance(exc, ConnectionError) and attempt == 1:
                        continue  # reset while idle: same as above
                    raise HttpError(type(exc).__name__) from exc
                except BaseException:  # cancelled (time-out): the connection is in an unknown state
                    writer.close()
                    raise
                return status
            raise AssertionError("unreachable")

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str
    ) -> int:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\nAccept: */*\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status, length, chunked, close = _parse_head(head)
        if chunked:
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")
        elif length:
            await reader.readexactly(length)
        if close:
            writer.close()
        else:
            self.idle.append((reader, writer, time.monotonic()))
        return status

    def _kept(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The most recently used kept-alive connection, dropping those the server may have
        closed already."""
        while self.idle:
            reader, writer, used = self.idle.pop()
            if time.monotonic() - used < KEEP_ALIVE_S:
                return reader, writer
            writer.close()
        return None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        except OSError as exc:
            raise HttpError(type(exc).__name__) from exc

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()
        self.idle.clear()


def _parse_head(head: bytes) -> tuple[int, int, bool, bool]:
    """(status, content length, chunked, connection: close) of a response head."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    return status, length, chunked, close


async def run_load(
    base: str, inputs: Inputs, *, rate: float, duration: float, max_in_flight: int, timeout: float
) -> Run:
    run = Run(rate, duration)
    rng = random.Random(46)
    kinds, weights = list(MIX), list(MIX.values())
    total = int(rate * duration)
    # drawn before the clock starts, so that the client's own work does not delay departures
    plan = []
    for _ in range(total):
        kind = rng.choices(kinds, weights)[0]
        plan.append((kind, request_for(kind, inputs, rng)))
    in_flight = 0
    client = Client(base, max_connections=max_in_flight)

    async def one(kind: str, target: str, planned: float) -> None:
        nonlocal in_flight
        try:
            async with asyncio.timeout(timeout):
                status = await client.get(target)
            if status == 200:
                run.latencies[kind].append(time.perf_counter() - planned)
            else:
                run.errors[f"{kind} {status}"] += 1
        except TimeoutError:
            run.errors[f"{kind} délai dépassé"] += 1
        except HttpError as exc:
            run.errors[f"{kind} {exc}"] += 1
        finally:
            in_flight -= 1

    tasks = []
    cpu = time.process_time()
    start = time.perf_counter()
    for i, (kind, target) in enumerate(plan):
        planned = start + i / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if in_flight >= max_in_flight:
            run.skipped += 1  # the server is that far behind: counted as an error
            continue
        in_flight += 1
        run.sent += 1
        tasks.append(asyncio.create_task(one(kind, target, planned)))
    if tasks:
        await asyncio.wait(tasks, timeout=timeout + 5)
    run.elapsed = time.perf_counter() - start
    run.client_cpu = time.process_time() - cpu
    client.close()
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
        f" (CPU du client : {100 * run.client_cpu / run.elapsed:.0f} % d'un cœur)"
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
        per_kind = ", ".join(f"{kind} {ms(run.latencies.get(kind, []), 0.99)}" for kind in MIX)
        errors = ", ".join(f"{what} : {n}" for what, n in sorted(run.errors.items()))
        if run.skipped:
            errors += f"{', ' if errors else ''}non envoyées : {run.skipped}"
        print(
            f"  {rate:6.1f} req/s : {run.error_count} erreur(s)"
            + (f" ({errors})" if errors else "")
            + f", {run.answered / run.elapsed:.1f} réponses/s, p99 {p99 * 1000:.0f} ms"
            f" ({per_kind})",
            flush=True,
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


def geo_service_command() -> str:
    """The checkout's own `geo-service` (next to this Python, i.e. in .venv/bin)."""
    geo = Path(sys.executable).with_name("geo-service")
    if not geo.exists():
        raise SystemExit(f"{geo} introuvable : lancez « make install » (ou « make bench »).")
    return str(geo)


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def start_server(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """geo-service serve as `make run` starts it, on a free local port, in its own process
    group (so that stopping it stops its workers too); its log goes to bench/output/."""
    port = free_port()
    log_path = ROOT / "bench" / "output" / "load-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [geo_service_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", str(workers)],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=os.environ.copy(),
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if healthy(base):
            return process, base
        time.sleep(0.2)
    stop_server(process)
    raise SystemExit(f"Le serveur n'a pas démarré (geo-service serve) : voir {log_path}.")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL if it is still there after 20 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def warm_cache() -> None:
    """`geo-service cache warm` for the database of DATABASE_URL (what is there is kept)."""
    start = time.perf_counter()
    print("Préchauffage du cache partagé (geo-service cache warm)…", flush=True)
    done = subprocess.run(
        [geo_service_command(), "cache", "warm"], env=os.environ.copy(), check=False
    )
    if done.returncode != 0:
        raise SystemExit("Le préchauffage du cache a échoué (geo-service cache warm).")
    print(f"Préchauffage : {time.perf_counter() - start:.0f} s.")


def use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="serveur déjà lancé (local)")
    parser.add_argument(
        "--start-server", action="store_true", help="lance geo-service serve lui-même"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="processus du serveur (0 : comme make run)"
    )
    parser.add_argument("--rate", type=float, default=200.0, help="requêtes par seconde")
    parser.add_argument("--duration", type=float, default=60.0, help="secondes")
    parser.add_argument("--max-in-flight", type=int, default=400)
    parser.add_argument("--timeout", type=float, default=15.0)
    parser.add_argument(
        "--no-warm",
        action="store_true",
        help="sans « geo-service cache warm » avant la charge (pages mesurées à froid)",
    )
    parser.add_argument("--no-search", action="store_true", help="sans recherche du débit maximal")
    parser.add_argument("--search-duration", type=float, default=15.0)
    parser.add_argument("--search-steps", type=int, default=5)
    args = parser.parse_args()
    if min(args.rate, args.duration) <= 0 or args.rate * args.duration > 100_000:
        parser.error("--rate × --duration doit rester entre 1 et 100 000 requêtes")
    if not args.start_server and urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
        parser.error("ce banc ne charge qu'un serveur local (127.0.0.1)")
    use_uvloop()
    inputs = load_inputs()
    if not args.no_warm:
        warm_cache()
    process = None
    base = args.url
    if args.start_server:
        process, base = start_server(args.workers)
    elif not healthy(base):
        parser.error(f"aucun serveur ne répond sur {base} (ou lancez avec --start-server)")
    try:
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
                f"Débit maximal sans erreur trouvé : {best:.0f} req/s "
                f"(± {(high - low) / 2**args.search_steps:.0f})"
            )
    finally:
        if process is not None:
            stop_server(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
