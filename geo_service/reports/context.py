"""Everything the year's documents need, read from the database once for the whole territory
(one query per kind of figure, not one per document): `rapport tout` builds 300+ documents from
one `YearContext`, in several processes, with no database connection in the workers."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
from sqlalchemy import Connection, text

from geo_service.analysis import oublies
from geo_service.analysis.operations import (
    Grouping,
    control_progress,
    list_controls,
    restoration_delays,
)
from geo_service.analysis.programmes import programme_indicators
from geo_service.analysis.progress import armoires
from geo_service.analysis.raccordables import raccordables_series
from geo_service.analysis.rad import rad_list
from geo_service.analysis.take_up import (
    border_exchanges,
    list_border_buildings,
    take_up,
    take_up_series,
)
from geo_service.analysis.unit_report import quarter_ends
from geo_service.analysis.wifi import wifi_bornes
from geo_service.errors import NotFoundError

GROUPINGS: tuple[Grouping, ...] = ("total", "commune", "epci", "mois", "categorie")
FIRST_YEAR = 2018  # the demo's and the Lot's first IPE; the roll-out's maps start there


def year_end(year: int, today: date | None = None) -> date:
    """The date the year's figures are taken on: 31 December, or today for the current year."""
    return min(date(year, 12, 31), today or date.today())


@dataclass
class YearContext:
    """The territory's figures for one year, grouped so that each document picks its unit."""

    territory: str
    territory_name: str
    year: int
    as_of: date
    previous: date
    communes: list[dict[str, Any]]  # insee, nom, epci_siren, epci_nom, amii, population
    epcis: list[dict[str, Any]]  # siren, nom
    geometry: gpd.GeoDataFrame  # communes (insee, nom, epci_siren, geometry) in Lambert-93
    raccordables: dict[date, dict[tuple[str, str], dict[str, Any]]]  # day → (level, code) → row
    quarters: list[date]
    years: list[int]  # years of the roll-out maps (FIRST_YEAR … year)
    targets: dict[tuple[str, str], list[tuple[date, int, str]]]
    armoires: list[dict[str, Any]]
    pm_communes: dict[str, set[str]]  # PM reference → INSEE codes of its premises
    nro: list[dict[str, Any]]
    rad: list[dict[str, Any]]
    oublies_zones: list[dict[str, Any]]
    oublies_absents: list[dict[str, Any]]
    incidents: dict[str, dict[str, Any]]  # 'total', 'commune', 'epci', 'mois', 'dsp', 'dsp_mois'
    controls: dict[str, dict[str, Any]]  # territory / 'dsp'
    controlled_pm: set[str]
    take_up: dict[str, dict[str, Any]]  # territory / 'dsp' / 'serie'
    borders: dict[str, Any]
    border_buildings: list[dict[str, Any]]
    programmes: dict[str, dict[str, Any]]  # 'departement' and each EPCI's SIREN
    bornes: list[dict[str, Any]]
    missing: list[str] = field(default_factory=list)  # the registers without any data

    def commune(self, insee: str) -> dict[str, Any]:
        for c in self.communes:
            if c["insee"] == insee:
                return c
        raise NotFoundError(f"Commune inconnue sur ce territoire : code INSEE « {insee} ».")

    def epci(self, siren: str) -> dict[str, Any]:
        for e in self.epcis:
            if e["siren"] == siren:
                return e
        raise NotFoundError(f"EPCI inconnu sur ce territoire : SIREN « {siren} ».")

    def members(self, siren: str) -> list[dict[str, Any]]:
        return [c for c in self.communes if c["epci_siren"] == siren]

    def racc(self, day: date, level: str, code: str) -> dict[str, Any]:
        empty = {"logements": 0, "raccordables": 0, "raccordables_demande": 0, "taux": 0.0}
        return self.raccordables.get(day, {}).get((level, code), empty)


def _reference(conn: Connection, territory: str) -> tuple[str, list[Any], list[Any], Any]:
    name = conn.execute(
        text("SELECT nom FROM territory WHERE code = :t"), {"t": territory}
    ).scalar_one()
    communes = conn.execute(
        text(
            "SELECT c.insee, c.nom, c.epci_siren, e.nom AS epci_nom, c.amii, c.population"
            " FROM commune c LEFT JOIN epci e ON e.siren = c.epci_siren"
            " AND e.territory_code = c.territory_code WHERE c.territory_code = :t"
            " ORDER BY c.nom, c.insee"
        ),
        {"t": territory},
    ).mappings()
    epcis = conn.execute(
        text(
            "SELECT e.siren, e.nom FROM epci e WHERE e.territory_code = :t AND EXISTS"
            " (SELECT 1 FROM commune c WHERE c.epci_siren = e.siren AND c.territory_code = :t)"
            " ORDER BY e.nom"
        ),
        {"t": territory},
    ).mappings()
    geometry = gpd.read_postgis(
        text(
            "SELECT insee, nom, epci_siren, amii, ST_SimplifyPreserveTopology(geom, 50) AS geom"
            " FROM commune WHERE territory_code = :t ORDER BY insee"
        ),
        conn,
        geom_col="geom",
        params={"t": territory},
    )
    return str(name), [dict(c) for c in communes], [dict(e) for e in epcis], geometry


def _targets(
    conn: Connection, territory: str
) -> dict[tuple[str, str], list[tuple[date, int, str]]]:
    out: dict[tuple[str, str], list[tuple[date, int, str]]] = defaultdict(list)
    rows = conn.execute(
        text(
            "SELECT level, code, target_date, raccordables, source FROM contract_target"
            " WHERE territory_code = :t ORDER BY level, code, target_date"
        ),
        {"t": territory},
    )
    for r in rows:
        out[(r.level, r.code)].append((r.target_date, int(r.raccordables), r.source or ""))
    return dict(out)


def _pm_communes(conn: Connection, territory: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    rows = conn.execute(
        text(
            "SELECT DISTINCT p.pm_reference, p.insee FROM premise p JOIN commune c"
            " ON c.insee = p.insee WHERE c.territory_code = :t AND p.pm_reference IS NOT NULL"
        ),
        {"t": territory},
    )
    for r in rows:
        out[r.pm_reference].add(r.insee)
    return dict(out)


def _nro(conn: Connection, territory: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            "SELECT n.code, n.date_installation, array_remove(array_agg(DISTINCT p.insee), NULL)"
            " AS insees FROM nro n LEFT JOIN pm ON pm.nro_code = n.code LEFT JOIN premise p"
            " ON p.pm_reference = pm.reference WHERE n.territory_code = :t AND NOT n.amii"
            " GROUP BY n.code, n.date_installation ORDER BY n.code"
        ),
        {"t": territory},
    ).mappings()
    return [{**r, "insees": set(r["insees"] or [])} for r in rows]


def _incidents(conn: Connection, territory: str, year: int, as_of: date) -> dict[str, Any]:
    out: dict[str, Any] = {
        by: restoration_delays(conn, territory=territory, year=year, as_of=as_of, by=by)
        for by in GROUPINGS
    }
    dsp_groupings: tuple[tuple[str, Grouping], ...] = (("dsp", "total"), ("dsp_mois", "mois"))
    for key, by in dsp_groupings:
        out[key] = restoration_delays(
            conn, territory=territory, perimetre="dsp", year=year, as_of=as_of, by=by
        )
    return out


def build_context(
    conn: Connection, territory: str, year: int, *, today: date | None = None
) -> YearContext:
    """Read the year's figures of the whole territory (the slow part of `rapport tout`)."""
    as_of = year_end(year, today)
    previous = date(year - 1, 12, 31)
    name, communes, epcis, geometry = _reference(conn, territory)
    quarters = quarter_ends(today=as_of)
    years = list(range(FIRST_YEAR, year + 1))
    year_ends = [date(y, 12, 31) for y in years[:-1]]
    days = sorted({*quarters, *year_ends, as_of, previous})
    series = raccordables_series(
        conn, territory=territory, dates=days, levels=("commune", "epci", "departement")
    )
    racc = {day: {(r["level"], r["code"]): r for r in rows} for day, rows in series.items()}
    programmes = {"departement": programme_indicators(conn, territory, as_of=as_of)}
    for e in epcis:
        programmes[e["siren"]] = programme_indicators(
            conn, territory, as_of=as_of, level="epci", code=e["siren"]
        )
    context = YearContext(
        territory=territory,
        territory_name=name,
        year=year,
        as_of=as_of,
        previous=previous,
        communes=communes,
        epcis=epcis,
        geometry=geometry,
        raccordables=racc,
        quarters=quarters,
        years=years,
        targets=_targets(conn, territory),
        armoires=armoires(conn, territory=territory, as_of=as_of),
        pm_communes=_pm_communes(conn, territory),
        nro=_nro(conn, territory),
        rad=rad_list(conn, territory=territory, as_of=as_of),
        oublies_zones=oublies.in_finished_zones(conn, territory=territory, as_of=as_of),
        oublies_absents=oublies.missing_from_operator(conn, territory=territory),
        incidents=_incidents(conn, territory, year, as_of),
        controls={
            territory: control_progress(conn, territory=territory, campagne=year, as_of=as_of),
            "dsp": control_progress(
                conn, territory=territory, campagne=year, perimetre="dsp", as_of=as_of
            ),
        },
        controlled_pm={
            c["pm_reference"]
            for c in list_controls(conn, territory=territory, campagne=year)
            if date.fromisoformat(str(c["date_controle"])) <= as_of
        },
        take_up={
            territory: take_up(conn, territory=territory, as_of=as_of),
            "dsp": take_up(conn, territory=territory, as_of=as_of, perimetre="dsp"),
            "serie": take_up_series(conn, territory=territory),
        },
        borders=border_exchanges(conn, territory=territory, as_of=as_of),
        border_buildings=[
            b
            for b in list_border_buildings(conn, territory=territory)
            if b["date_cosignature"] is None or date.fromisoformat(b["date_cosignature"]) <= as_of
        ],
        programmes=programmes,
        bornes=wifi_bornes(conn, territory, as_of=as_of),
    )
    if not context.incidents["total"]["lignes"] and not context.incidents["dsp"]["lignes"]:
        context.missing.append("incidents")
    if not context.controls[territory]["controles"] and not context.controls["dsp"]["controles"]:
        context.missing.append("contrôles des PM")
    if context.take_up[territory]["total"] is None and context.take_up["dsp"]["total"] is None:
        context.missing.append("abonnés")
    if not context.borders["lignes"]:
        context.missing.append("échanges frontaliers")
    return context


def count_by(rows: list[dict[str, Any]], key: str, insees: set[str]) -> Counter[str]:
    """How many rows of each `key` value among the rows of these communes."""
    return Counter(r[key] for r in rows if r.get("insee") in insees)
