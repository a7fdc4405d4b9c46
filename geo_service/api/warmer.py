"""The server keeps the shared cache warm by itself: a low-priority background thread renders
every public page for the current data version when the server starts and again after each
import or edit (it looks every `PERIOD_S` seconds). With several worker processes, a
PostgreSQL advisory lock lets one of them do it; the others serve what it stores."""

from __future__ import annotations

import logging
import os
import threading

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from geo_service.cache import ResponseCache, data_version, preload
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
