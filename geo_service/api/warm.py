"""Fill the shared cache for the current data version (`geo-service cache warm`): the
raccordables of every level (the API's answers, a national territory's 51 000 units cost
~0.2 s to build), the public page, the communes index, the technical map, every commune's and
EPCI's public élu page and the progress series, rendered in one snapshot so that they all match
the version they are stored under. The keys are those the routes look up, so a warmed page is
never rendered again by a worker."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from fastapi.encoders import jsonable_encoder
from sqlalchemy import Connection, Engine, text

from geo_service.analysis.progress import progress
from geo_service.analysis.raccordables import default_levels, raccordables_json
from geo_service.analysis.reference import territory_name
from geo_service.analysis.unit_report import (
    commune_unit,
    departement_unit,
    epci_unit,
    index_rows,
)
from geo_service.api.routes.elus import technique_html, unit_cache_key, unit_html
from geo_service.api.routes.pages import public_html
from geo_service.api.routes.stats import raccordables_cache_key
from geo_service.cache import data_version, purge_older, shared_put, territory_results
from geo_service.maps import html
from geo_service.settings import Settings

log = logging.getLogger(__name__)

KINDS = (
    "raccordables",
    "page-public",
    "page-index",
    "page-technique",
    "page-departement_membre",
    "page-commune",
    "page-epci",
    "progress",
)
VERSION_CHECK_EVERY = 20  # pages between two looks at whether the data changed meanwhile

Render = Callable[[], bytes | str]


@dataclass
class WarmReport:
    version: str
    rendered: dict[str, int] = field(default_factory=dict)
    already: int = 0
    purged: int = 0
    seconds: float = 0.0
    interrupted: bool = False  # the data changed during the warm-up: its pages are stale

    @property
    def total(self) -> int:
        return sum(self.rendered.values())


def _targets(
    conn: Connection, settings: Settings, kinds: set[str]
) -> Iterator[tuple[str, str, Render]]:
    """(kind, key, render) of everything to warm, cheapest and most asked first."""
    code, tiles = settings.departement, settings.base_tiles
    if "raccordables" in kinds:  # today's figures: every level at once, then each alone
        for levels in (None, *((lv,) for lv in default_levels(conn, code))):
            yield (
                "raccordables",
                raccordables_cache_key(code, levels),
                lambda levels=levels: raccordables_json(conn, territory=code, levels=levels),  # type: ignore[misc]
            )
    rows = index_rows(conn, code)
    if "page-public" in kinds:
        yield "page-public", f"{code}:{tiles}", lambda: public_html(conn, settings)
    if "page-index" in kinds:
        yield (
            "page-index",
            code,
            lambda: html.index_page(rows, dept_name=territory_name(conn, code)),
        )
    if "page-technique" in kinds:
        yield "page-technique", f"{code}:{tiles}", lambda: technique_html(conn, settings)
    if "progress" in kinds:  # same key and body as GET /api/v1/stats/progress
        units = [("departement", code)]
        units += [("epci", e["code"]) for e in rows["epci"]]
        units += [("commune", c["code"]) for c in rows["communes"]]
        for level, unit_code in units:
            yield (
                "progress",
                f"{code}:{level}:{unit_code}:",
                lambda level=level, unit_code=unit_code: json.dumps(  # type: ignore[misc]
                    jsonable_encoder(
                        progress(conn, territory=code, level=level, code=unit_code, as_of=None)
                    ),
                    ensure_ascii=False,
                ),
            )
    for level, finder, listing in (
        ("page-departement_membre", departement_unit, rows["departements"]),
        ("page-epci", epci_unit, rows["epci"]),
        ("page-commune", commune_unit, rows["communes"]),
    ):
        if level not in kinds:
            continue
        for item in listing:
            unit = finder(conn, code, item["code"])
            kind, key = unit_cache_key(settings, unit)
            yield kind, key, lambda unit=unit: unit_html(conn, code, unit, tiles)  # type: ignore[misc]


def warm(
    engine: Engine,
    settings: Settings,
    *,
    kinds: set[str] | None = None,
    on_page: Callable[[str, str], None] | None = None,
) -> WarmReport:
    """Render what the shared cache lacks for the current version, store it page by page (the
    server uses each as soon as it is written), then purge the older versions."""
    wanted = set(kinds or KINDS)
    start = time.perf_counter()
    with (
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
        conn.begin(),
        territory_results(),
    ):
        version = data_version(conn)
        report = WarmReport(version=version)
        present = {
            (r.kind, r.key)
            for r in conn.execute(
                text("SELECT kind, key FROM page_cache WHERE data_version = :v"), {"v": version}
            )
        }
        done = 0
        for kind, key, render in _targets(conn, settings, wanted):
            if (kind, key) in present:
                report.already += 1
                continue
            body = render()
            shared_put(
                engine, [(kind, key, version, body.encode() if isinstance(body, str) else body)]
            )
            report.rendered[kind] = report.rendered.get(kind, 0) + 1
            if on_page is not None:
                on_page(kind, key)
            done += 1
            if done % VERSION_CHECK_EVERY == 0 and _current_version(engine) != version:
                report.interrupted = True
                break
    if not report.interrupted:
        report.purged = purge_older(engine, version)
    report.seconds = time.perf_counter() - start
    log.info(
        "cache préchauffé (version %s) : %d rendus, %d déjà présents, %.1f s",
        version,
        report.total,
        report.already,
        report.seconds,
    )
    return report


def _current_version(engine: Engine) -> str:
    with engine.connect() as conn:
        return data_version(conn)


def expected_keys(engine: Engine, settings: Settings, kinds: set[str]) -> set[tuple[str, str]]:
    """(kind, key) of everything `warm` would store (for checks and tests)."""
    with engine.connect() as conn:
        return {(kind, key) for kind, key, _ in _targets(conn, settings, kinds)}
