"""Shared set-up for the benchmarks: a dedicated database with the reference geography."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo_service.db.cluster import create_database  # noqa: E402
from geo_service.db.migrate import upgrade  # noqa: E402
from geo_service.db.session import make_engine  # noqa: E402
from geo_service.reference.load import load_reference  # noqa: E402
from geo_service.settings import Settings  # noqa: E402


def bench_database(name: str = "geo_service_bench", departement: str = "46") -> str:
    """Create (if needed) and migrate a benchmark database next to the configured one."""
    settings = Settings()
    params = psycopg.conninfo.conninfo_to_dict(settings.libpq_url)
    admin = psycopg.conninfo.make_conninfo(**{**params, "dbname": "postgres"})
    target = psycopg.conninfo.make_conninfo(**{**params, "dbname": name})
    create_database(target, admin_url=admin)
    user = params.get("user", "")
    pw = f":{params['password']}" if params.get("password") else ""
    url = f"postgresql://{user}{pw}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{name}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        load_reference(conn, departement, territory_dir=settings.territory_dir(departement))
    engine.dispose()
    return url


def timed(func: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of each run."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return runs


def median(values: list[float]) -> float:
    return statistics.median(values)
