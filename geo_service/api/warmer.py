"""The server keeps the shared cache warm by itself: a low-priority background thread renders
every public page for the current data version when the server starts and again after each
import or edit (it looks every `PERIOD_S` seconds). With several worker processes, a
PostgreSQL advisory lock lets one of them do it; the others serve what it stores."""

from __future__ import annotations

import logging
import math
import os
import threading

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from geo_service.cache import ResponseCache, data_version, preload
from geo_service.errors import GeoServiceError
from geo_service.settings import Settings

log = logging.getLogger(__name__)

PERIOD_S = 30.0
LOCK_KEY = 46_460_001  # pg advisory lock of the warm-up (any constant shared by the workers)


def _lower_priority() -> None:
    """Nice this thread (Linux: a thread is a schedulable task), so requests go first."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


def warm_once(engine: Engine, settings: Settings) -> bool:
    """Warm the current version if no other process is doing it; True when this one did."""
    from geo_service.api.warm import warm

    with engine.connect() as lock:
        if not lock.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
            return False
        try:
            warm(engine, settings)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            lock.commit()
    return True


_A_PREMISE = text(
    "SELECT ST_Y(ST_Transform(p.geom, 4326)), ST_X(ST_Transform(p.geom, 4326)) FROM premise p "
    "JOIN commune c ON c.insee = p.insee AND c.territory_code = :t "
    "WHERE p.removed_on IS NULL LIMIT 1"
)


def _first_reads(conn: Connection, territory: str) -> None:
    """The most frequent public reads once, at a premise of the territory (if any)."""
    from geo_service.analysis.quand import quand_point, search_addresses
    from geo_service.analysis.tiles import LAYERS, TileId, render_tile

    point = conn.execute(_A_PREMISE, {"t": territory}).first()
    if point is None:
        return
    lat, lon = float(point[0]), float(point[1])
    try:
        quand_point(conn, lat=lat, lon=lon, territory=territory)
        search_addresses(conn, "rue de la", territory=territory)
    except GeoServiceError:
        pass
    n = 2**14
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    for layer in LAYERS.values():
        render_tile(conn, layer, TileId(14, x, y), territory=territory)


def warm_connections(engine: Engine, settings: Settings, count: int) -> None:
    """Open `count` of the pool's connections and run the hot reads once on each, before the
    worker serves: a new PostgreSQL backend's first « quand ? » costs 30 ms instead of 4 (PROJ
    set up for ST_Transform, catalog caches, PostGIS loaded) and the process's first address
    search builds its street index; met by the first burst of requests instead, it stalled
    every process for 2 to 4 s (503s at 200 req/s). The database down or empty: no warm-up."""
    opened: list[Connection] = []
    try:
        for _ in range(count):
            conn = engine.connect()
            opened.append(conn)
            _first_reads(conn, settings.departement)
            conn.commit()  # not ROLLBACK: the statements stay prepared (geo_service.api.deps)
    except SQLAlchemyError as exc:
        log.warning("connexions non préparées au démarrage : %s", exc)
    finally:
        for conn in opened:
            conn.close()


def preload_at_start(engine: Engine, store: ResponseCache) -> None:
    """The shared table's pages of the current version into a starting worker's memory; the
    database being down only leaves the memory empty."""
    try:
        with engine.connect() as conn:
            version = data_version(conn)
        copied = preload(engine, store, version)
    except SQLAlchemyError as exc:
        log.warning("cache mémoire non prérempli : %s", exc)
        return
    if copied:
        log.info("cache mémoire prérempli : %d réponses (version %s)", copied, version)


def _loop(
    engine: Engine, settings: Settings, store: ResponseCache | None, stop: threading.Event
) -> None:
    _lower_priority()
    warmed: str | None = None
    while not stop.wait(2.0 if warmed is None else PERIOD_S):
        try:
            with engine.connect() as conn:
                version = data_version(conn)
            if version != warmed and warm_once(engine, settings):
                warmed = version
            elif warmed is None:
                warmed = version  # another process warms this version
            if store is not None:  # what this or another process rendered, into memory
                preload(engine, store, version)
        except Exception:  # the database may be restarting: try again at the next period
            log.warning("préchauffage du cache interrompu", exc_info=True)


def start(
    engine: Engine, settings: Settings, store: ResponseCache | None = None
) -> threading.Event:
    """Start the background warm-up (and the copy of its pages into `store`, the worker's
    memory cache); set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(
        target=_loop, args=(engine, settings, store, stop), name="prechauffage", daemon=True
    ).start()
    return stop
