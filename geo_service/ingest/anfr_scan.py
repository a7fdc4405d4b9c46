"""One pass over each ANFR table, keeping what concerns the territory.

Supports first: every line's DMS position is read (it decides), the lines inside the territory's
WGS84 box are placed in PostGIS against its communes; then the stations carried by the supports
kept, then those stations' emitters. Only kept lines are checked beyond their position (a line
that cannot be placed is a problem when it names a commune of the territory), and a code twice
among them is a problem; lines of the rest of France are counted, not checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from geo_service.ingest.anfr_reader import AnfrSource, Rows, Table, stream
from geo_service.ingest.anfr_rows import (
    CellError,
    References,
    emitter_record,
    fault,
    position,
    read_reference,
    station_record,
    support_record,
)
from geo_service.ingest.common import problem
from geo_service.sql import statements

Progress = Callable[[str, float | None], None]
SCAN_SHARE = 0.85  # of the progress bar: reading the three big tables


@dataclass
class Extract:
    """The territory's rows, ready for COPY, with the problems and the counts."""

    supports: list[tuple[Any, ...]] = field(default_factory=list)
    stations: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[str, int]] = field(default_factory=list)
    emitters: list[tuple[Any, ...]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class _Meter:
    """Progress over the three big tables, by bytes read."""

    def __init__(self, source: AnfrSource, progress: Progress) -> None:
        self.progress = progress
        self.total = sum(source.tables[t].size for t in _BIG) or 1
        self.done = 0

    def start(self, table: Table) -> Callable[[int, int], None]:
        self.progress(f"lecture de {table.display}…", SCAN_SHARE * self.done / self.total)
        offset = self.done
        self.done += table.size

        def tick(read: int, size: int) -> None:
            share = SCAN_SHARE * (offset + min(read, size)) / self.total
            percent = 100 * read // max(size, 1)
            self.progress(f"{table.display} : {min(percent, 100)} %", share)

        return tick


_BIG = ("SUP_SUPPORT", "SUP_STATION", "SUP_EMETTEUR")
_STAGE_COLUMNS = {
    "anfr_candidate": ("line", "lon", "lat"),
    "stage_anfr_support": (
        "line",
        "sup_id",
        "nature",
        "proprietaire",
        "hauteur_m",
        "adresse",
        "code_postal",
    ),
    "stage_anfr_station": (
        "sta_nm_anfr",
        "exploitant",
        "date_implantation",
        "date_modif",
        "date_en_service",
    ),
    "stage_anfr_link": ("sta_nm_anfr", "sup_id"),
    "stage_anfr_emetteur": (
        "emr_id",
        "sta_nm_anfr",
        "systeme",
        "technologie",
        "aer_id",
        "date_service",
    ),
}


def copy_rows(conn: Connection, table: str, rows: Any) -> None:
    """COPY `rows` into one of the staging tables (psycopg 3's binary-safe row writer)."""
    columns = ", ".join(_STAGE_COLUMNS[table])
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _references(source: AnfrSource, problems: list[dict[str, Any]]) -> References:
    found = []
    for name in ("SUP_EXPLOITANT", "SUP_PROPRIETAIRE", "SUP_NATURE"):
        rows, lines = stream(source.tables[name])
        found.append(read_reference(rows, lines))
        problems.extend(rows.problems)
    return References(*found)


def _twice(rows: Rows, line: int, column: str, value: Any, first: int) -> dict[str, Any]:
    return problem(rows.table.display, line, column, value, f"doublon de la ligne {first}")


def scan(conn: Connection, source: AnfrSource, *, territory: str, progress: Progress) -> Extract:
    """Read the export's tables and keep the territory's supports, stations and emitters (the
    support positions go to the `anfr_candidate` staging table)."""
    out = Extract()
    refs = _references(source, out.problems)
    meter = _Meter(source, progress)
    kept_stations = _supports(conn, source, territory, refs, out, meter)
    stations = _stations(source, kept_stations, refs, out, meter)
    _emitters(source, stations, kept_stations, out, meter)
    out.links = [link for link in out.links if link[0] in stations]
    out.counts["stations_sans_fiche"] = len(kept_stations - stations.keys())
    out.problems.sort(key=lambda p: (p["file"], p["line"]))
    return out


def _supports(
    conn: Connection,
    source: AnfrSource,
    territory: str,
    refs: References,
    out: Extract,
    meter: _Meter,
) -> set[str]:
    sql = statements("anfr_merge")
    box = conn.execute(text(sql["wgs84_bounds"]), {"t": territory}).one()
    insee = {
        r[0]
        for r in conn.execute(
            text("SELECT insee FROM commune WHERE territory_code = :t"), {"t": territory}
        )
    }
    table = source.tables["SUP_SUPPORT"]
    rows, lines = stream(table, on_progress=meter.start(table))
    where, ident = rows.index["COM_CD_INSEE"], rows.index["SUP_ID"]
    candidates: list[tuple[int, list[str]]] = []
    points: list[tuple[int, float, float]] = []
    outside: set[str] = set()  # SUP_ID of the supports left out (one line per station)
    unplaced = 0
    for line, cells in lines:
        try:
            lon, lat = position(cells, rows.index)
        except CellError as exc:
            if cells[where].strip() in insee:  # ours by its commune, yet it cannot be placed
                out.problems.append(fault(rows, line, cells, exc))
            else:
                unplaced += 1
            continue
        if box.xmin <= lon <= box.xmax and box.ymin <= lat <= box.ymax:
            candidates.append((line, cells))
            points.append((line, lon, lat))
        else:
            outside.add(cells[ident])
    out.problems.extend(rows.problems)
    copy_rows(conn, "anfr_candidate", points)
    conn.execute(text(sql["place_candidates"]))
    inside = {
        r.line
        for r in conn.execute(text(sql["candidates_inside"]), {"t": territory})
        if r.insee is not None
    }
    seen: dict[tuple[int, str], int] = {}
    supports: dict[int, tuple[Any, ...]] = {}
    kept: set[str] = set()
    for line, cells in candidates:
        if line not in inside:
            outside.add(cells[ident])
            continue
        try:
            sup_id, sta, *rest = support_record(rows, line, cells, refs)
        except CellError as exc:
            out.problems.append(fault(rows, line, cells, exc))
            continue
        if (sup_id, sta) in seen:
            out.problems.append(
                _twice(rows, line, "SUP_ID", f"{sup_id} / {sta}", seen[sup_id, sta])
            )
            continue
        seen[sup_id, sta] = line
        supports.setdefault(sup_id, (line, sup_id, *rest))
        out.links.append((sta, sup_id))
        kept.add(sta)
    out.supports = list(supports.values())
    out.counts.update(
        lignes_supports=rows.lines,
        supports=len(supports),
        supports_hors_territoire=len(outside),
        supports_non_localises=unplaced,
    )
    return kept


def _stations(
    source: AnfrSource, kept: set[str], refs: References, out: Extract, meter: _Meter
) -> dict[str, tuple[Any, ...]]:
    table = source.tables["SUP_STATION"]
    rows, lines = stream(table, on_progress=meter.start(table))
    key = rows.index["STA_NM_ANFR"]
    stations: dict[str, tuple[Any, ...]] = {}
    first: dict[str, int] = {}
    outside = 0
    for line, cells in lines:
        sta = cells[key].strip()
        if sta not in kept:
            outside += 1
            continue
        if sta in first:
            out.problems.append(_twice(rows, line, "STA_NM_ANFR", sta, first[sta]))
            stations.pop(sta, None)  # which of the two is right cannot be told
            continue
        first[sta] = line
        try:
            stations[sta] = station_record(rows, cells, refs)
        except CellError as exc:
            out.problems.append(fault(rows, line, cells, exc))
    out.problems.extend(rows.problems)
    out.stations = list(stations.values())
    out.counts.update(
        lignes_stations=rows.lines, stations=len(stations), stations_hors_territoire=outside
    )
    return stations


def _emitters(
    source: AnfrSource,
    stations: dict[str, tuple[Any, ...]],
    kept: set[str],
    out: Extract,
    meter: _Meter,
) -> None:
    table = source.tables["SUP_EMETTEUR"]
    rows, lines = stream(table, on_progress=meter.start(table))
    key = rows.index["STA_NM_ANFR"]
    first: dict[int, int] = {}
    emitters: dict[int, tuple[Any, ...]] = {}
    outside = dropped = 0
    for line, cells in lines:
        sta = cells[key].strip()
        if sta not in stations:
            if sta in kept:
                dropped += 1  # its station was refused (--skip-invalid) or has no record
            else:
                outside += 1
            continue
        try:
            record = emitter_record(rows, cells, sta)
        except CellError as exc:
            out.problems.append(fault(rows, line, cells, exc))
            continue
        emr_id = record[0]
        if emr_id in first:
            out.problems.append(_twice(rows, line, "EMR_ID", emr_id, first[emr_id]))
            continue
        first[emr_id] = line
        emitters[emr_id] = record
    out.problems.extend(rows.problems)
    out.emitters = list(emitters.values())
    out.counts.update(
        lignes_emetteurs=rows.lines,
        emetteurs=len(emitters),
        emetteurs_hors_territoire=outside,
        emetteurs_ecartes=dropped,
    )
