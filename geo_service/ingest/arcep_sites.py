"""Import ARCEP's "Mon réseau mobile" sites file: the ANFR station of each New Deal site.

`<AAAA>_T<n>_sites_Metropole.csv`, `;`, UTF-8: one line per operator's site with its ANFR station
(`id_station_anfr`), `x`/`y` in Lambert-93 and `latitude`/`longitude` in WGS84 (decimal point or
comma), and 0/1 flags (`site_DCC` New Deal site, `site_ZB` zone blanche centre-bourg…).

Each line flagged `site_DCC` in the territory is matched to one of our New Deal sites: first by
code (`id_site_partage` is the operators' site name that the DCC file gives as
`nom_site_operateurs`), else the nearest of our New Deal sites hosting that operator within the
linking distance (ARCEP's position is the built site, the DCC one the arrêté's: they differ by
some metres, and `num_site` is the operator's own number, never ours). The link (method ARCEP)
carries the distance; service dates then come from ANFR.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pyproj import Transformer
from sqlalchemy import Connection, Engine, text

from geo_service.analysis.mobile_links import default_distance_m, link_sites
from geo_service.db.changes import log_change
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.arcep_common import (
    L93_BOUNDS,
    columns_by_name,
    departements,
    flag,
    number,
    require_utf8,
    snapshot_of,
    value,
)
from geo_service.ingest.common import problem, territory_context
from geo_service.ingest.csv_source import read_delimited
from geo_service.ingest.dcc import OPERATORS
from geo_service.reference.territory_config import member_departements

KIND = "arcep-sites"
REQUIRED = ("id_station_anfr", "site_DCC")
_TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
_OPERATOR_NAMES = {
    "ORANGE": "ORANGE",
    "SFR": "SFR",
    "FREE": "FREE MOBILE",
    "FREE MOBILE": "FREE MOBILE",
    "BOUYGUES": "BOUYGUES TELECOM",
    "BOUYGUES TELECOM": "BOUYGUES TELECOM",
}
_MATCH = """
WITH u AS (
  SELECT * FROM unnest(CAST(:lines AS int[]), CAST(:shared AS text[]), CAST(:ops AS text[]),
                       CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS u(line, shared, op, x, y)
), p AS (SELECT u.*, ST_SetSRID(ST_MakePoint(u.x, u.y), 2154) AS g FROM u)
SELECT p.line, m.code, m.distance_m, m.by_code
FROM p
JOIN commune pc ON pc.territory_code = :t AND ST_Intersects(pc.geom, p.g)
CROSS JOIN LATERAL (
  SELECT s.code, ST_Distance(s.geom, p.g) AS distance_m, s.nom_site_operateurs = p.shared AS by_code
  FROM mobile_site s JOIN commune c ON c.insee = s.insee AND c.territory_code = :t
  WHERE s.programme = 'NEW_DEAL'
    AND (s.nom_site_operateurs = p.shared
         OR (ST_DWithin(s.geom, p.g, :d)
             AND (p.op IS NULL OR EXISTS (SELECT 1 FROM unnest(string_to_array(s.operateurs, ','))
                                          o WHERE upper(trim(o)) = p.op))))
  ORDER BY (s.nom_site_operateurs = p.shared) IS TRUE DESC, s.geom <-> p.g, s.code LIMIT 1
) m
"""


def _operator(code_op: str | None, nom_op: str | None) -> str | None:
    if code_op in OPERATORS:
        return OPERATORS[code_op]
    return _OPERATOR_NAMES.get(" ".join((nom_op or "").upper().split()))


def read_arcep_sites(
    path: Path, *, departements_of_territory: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """The New Deal lines that may lie in the territory (by `insee_dep` when given): station,
    operator, shared-site code, Lambert-93 position; the line problems; the data line count."""
    src = read_delimited(path, delimiter=";")
    require_utf8(path, src.file, src.encoding)
    col = columns_by_name(src.file, src.header, REQUIRED)
    has_xy = "x" in col and "y" in col
    if not has_xy and not ("latitude" in col and "longitude" in col):
        raise ImportRejectedError(
            f"{src.file} : colonnes de position absentes (x et y, ou latitude et longitude).",
            [problem(src.file, 1, "x", None, "colonnes de position absentes")],
        )
    grid = src.cells.to_numpy(dtype=object)
    file, wanted = src.file, {d.lstrip("0").zfill(2) for d in departements_of_territory}
    problems = [p.as_dict() for p in src.problems]
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i in range(len(grid)):

        def cell(name: str, i: int = i) -> str | None:
            return value(grid[i, col[name]]) if name in col else None

        line = int(src.lines[i])
        deps = departements(cell("insee_dep"))
        if deps and not wanted & deps:
            continue
        is_dcc, why = flag(cell("site_dcc"))
        if why:
            problems.append(problem(file, line, "site_DCC", cell("site_dcc"), why))
            continue
        if not is_dcc:
            continue
        station = cell("id_station_anfr")
        if station is None:
            continue  # not yet declared to ANFR: left to the proximity link
        if len(station) > 20:
            problems.append(
                problem(file, line, "id_station_anfr", station, "numéro de station ANFR trop long")
            )
            continue
        if station in seen:
            problems.append(
                problem(
                    file,
                    line,
                    "id_station_anfr",
                    station,
                    f"id_station_anfr en double (déjà ligne {seen[station]})",
                )
            )
            continue
        seen[station] = line
        try:
            if has_xy and cell("x") is not None and cell("y") is not None:
                column, x, y = "x", number(cell("x")), number(cell("y"))
            else:
                column = "longitude"
                lon, lat = number(cell("longitude")), number(cell("latitude"))
                if lon is None or lat is None:
                    raise ValueError("coordonnées absentes")
                x, y = _TO_L93.transform(lon, lat)
        except ValueError as exc:
            reason = str(exc) if str(exc) == "coordonnées absentes" else "coordonnées illisibles"
            raw = (
                f"{cell('x')} {cell('y')}" if has_xy else f"{cell('longitude')} {cell('latitude')}"
            )
            problems.append(problem(file, line, "x" if has_xy else "longitude", raw, reason))
            continue
        assert x is not None and y is not None
        if not (L93_BOUNDS[0] <= x <= L93_BOUNDS[2] and L93_BOUNDS[1] <= y <= L93_BOUNDS[3]):
            problems.append(
                problem(
                    file,
                    line,
                    column,
                    f"{x:g} {y:g}",
                    "coordonnées hors de la France métropolitaine (Lambert-93 attendu)",
                )
            )
            continue
        rows.append(
            {
                "line": line,
                "station": station,
                "operator": _operator(cell("code_op"), cell("nom_op")),
                "shared": cell("id_site_partage"),
                "x": x,
                "y": y,
            }
        )
    return rows, problems, src.line_count


def import_arcep_sites_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
    max_distance_m: float | None = None,
    today: date | None = None,
) -> journal.ImportResult:
    """Link the territory's New Deal sites to the ANFR stations ARCEP names (method ARCEP),
    then link the others by proximity and date their service from ANFR."""
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, KIND, sha, territory=territory)
    if earlier is not None:
        return journal.already_imported(KIND, path, sha, earlier[0])
    territory_context(conn, territory)
    rows, problems, lines = read_arcep_sites(
        path, departements_of_territory=set(member_departements(conn, territory))
    )
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    snapshot = snapshot_of(path, snapshot_date, today or date.today())
    journal_id = journal.open_entry(
        conn, kind=KIND, path=path, sha256=sha, snapshot=snapshot, user=user, territory=territory
    )
    distance = default_distance_m() if max_distance_m is None else max_distance_m
    matches = conn.execute(
        text(_MATCH),
        {
            "lines": [r["line"] for r in rows],
            "shared": [r["shared"] for r in rows],
            "ops": [r["operator"] for r in rows],
            "xs": [r["x"] for r in rows],
            "ys": [r["y"] for r in rows],
            "t": territory,
            "d": distance,
        },
    ).all()
    by_line = {r["line"]: r for r in rows}
    current = {
        (r.site_code, r.sta_nm_anfr): (r.methode, r.distance_m)
        for r in conn.execute(
            text("SELECT site_code, sta_nm_anfr, methode, distance_m FROM mobile_site_station")
        )
    }
    linked = 0
    for match in matches:
        station = by_line[match.line]["station"]
        metres = round(float(match.distance_m), 2)
        before = current.get((match.code, station))
        if before is not None and before[0] == "ARCEP" and abs((before[1] or 0) - metres) < 0.01:
            continue
        conn.execute(
            text(
                "INSERT INTO mobile_site_station (site_code, sta_nm_anfr, methode, distance_m,"
                " import_id) VALUES (:s, :a, 'ARCEP', :m, :j) ON CONFLICT (site_code, sta_nm_anfr)"
                " DO UPDATE SET methode = 'ARCEP', distance_m = EXCLUDED.distance_m,"
                " import_id = EXCLUDED.import_id"
            ),
            {"s": match.code, "a": station, "m": metres, "j": journal_id},
        )
        log_change(
            conn,
            table="mobile_site_station",
            key=f"{match.code}/{station}",
            user=user,
            before=None if before is None else {"methode": before[0], "distance_m": before[1]},
            after={"methode": "ARCEP", "distance_m": metres, "par_code": bool(match.by_code)},
            valid_from=snapshot,
            import_id=journal_id,
        )
        linked += 1
    proximity = link_sites(
        conn, territory, import_id=journal_id, max_distance_m=max_distance_m, user=user, today=today
    )
    counts = {
        "lignes": lines,
        "lignes_new_deal": len(rows),
        "sites_relies": len(matches),
        "liens_arcep": linked,
        "sans_site": len(rows) - len(matches),
        "liens_proximite": proximity,
        "rejetees": len(problems),
    }
    status = "PARTIEL" if problems else "OK"
    journal.close_entry(
        conn, journal_id, status=status, counts=counts, problems=problems, duration_ms=watch.ms()
    )
    return journal.ImportResult(
        kind=KIND,
        file_name=path.name,
        sha256=sha,
        status=status,
        journal_id=journal_id,
        snapshot_date=snapshot,
        counts=counts,
        problems=problems,
        duration_ms=watch.ms(),
        message=(
            f"{path.name} importé : {len(matches)} station(s) ANFR reliée(s) à nos sites New Deal"
            f" ({linked} nouveau(x) lien(s)), {len(rows) - len(matches)} sans site connu,"
            f" {len(problems)} ligne(s) rejetée(s)."
        ),
    )


def import_arcep_sites(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """One transaction; a refused file is journalled apart and changes nothing."""
    return journal.run_import(
        engine,
        KIND,
        path,
        lambda conn, who: import_arcep_sites_conn(
            conn,
            path,
            territory=territory,
            user=who,
            snapshot_date=snapshot_date,
            skip_invalid=skip_invalid,
        ),
        snapshot_date=snapshot_date,
        user=user,
        territory=territory,
    )
