"""`rapport tout`: the département's dossier, every EPCI's and one sheet per commune, built from
one `YearContext` in several processes (forked after the context is read: the workers need no
database), each document timed by kind."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from geo_service.reports.context import YearContext
from geo_service.reports.data import Level
from geo_service.reports.render import Format, build

_CONTEXT: YearContext | None = None  # inherited by the forked workers


@dataclass(frozen=True)
class Job:
    level: Level
    code: str | None
    path: Path


@dataclass(frozen=True)
class Done:
    job: Job
    seconds: float  # wall time in its process
    cpu_seconds: float  # CPU time of its process (what a busy machine does not inflate)


def file_name(ctx: YearContext, level: Level, code: str | None, fmt: Format) -> str:
    """rapport_2024_departement_46.pdf, rapport_2024_epci_<siren>.pdf, rapport_2024_commune_<insee>.pdf"""
    return f"rapport_{ctx.year}_{level}_{code or ctx.territory}.{fmt}"


def jobs(ctx: YearContext, folder: Path, fmt: Format = "pdf") -> list[Job]:
    out = [Job("departement", None, folder / file_name(ctx, "departement", None, fmt))]
    out += [
        Job("epci", e["siren"], folder / "epci" / file_name(ctx, "epci", e["siren"], fmt))
        for e in ctx.epcis
    ]
    out += [
        Job("commune", c["insee"], folder / "communes" / file_name(ctx, "commune", c["insee"], fmt))
        for c in ctx.communes
    ]
    return out


def _run(job: Job, fmt: Format = "pdf") -> Done:
    assert _CONTEXT is not None
    start, cpu = time.perf_counter(), time.process_time()
    job.path.parent.mkdir(parents=True, exist_ok=True)
    job.path.write_bytes(build(_CONTEXT, job.level, job.code, fmt))
    return Done(job, time.perf_counter() - start, time.process_time() - cpu)


def _run_pdf(job: Job) -> Done:
    return _run(job, "pdf")


def _run_html(job: Job) -> Done:
    return _run(job, "html")


def build_all(
    ctx: YearContext,
    folder: Path,
    *,
    fmt: Format = "pdf",
    processes: int | None = None,
    on_done: Callable[[Done], None] | None = None,
) -> list[Done]:
    """Write every document of the year under `folder` (communes/ and epci/ below it)."""
    global _CONTEXT
    _CONTEXT = ctx
    todo = jobs(ctx, folder, fmt)
    # the big documents first, so that the commune sheets fill the processes at the end
    workers = max(1, processes or min(len(os.sched_getaffinity(0)), 4))
    runner = _run_pdf if fmt == "pdf" else _run_html
    done: list[Done] = []
    for result in _results(todo, runner, workers):
        done.append(result)
        if on_done:
            on_done(result)
    return done


def _results(todo: list[Job], runner: Callable[[Job], Done], workers: int) -> Iterator[Done]:
    if workers == 1:
        yield from map(runner, todo)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        yield from pool.map(runner, todo, chunksize=4)
