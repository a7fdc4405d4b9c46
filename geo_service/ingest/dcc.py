"""Import ARCEP's New Deal "dispositif de couverture ciblée" sites file as published.

`<AAAA>_T<n>_dcc_Metropole_sites.csv` (data.arcep.fr): `;`, UTF-8 (with or without BOM), `NA`
for missing values, Lambert-93 `x_lambert_93`/`y_lambert_93`, 0/1 obligation flags per operator
in columns named by their MCC-MNC (`20801`…), `op_leader` as an MCC-MNC, 0/1 status flags, and
`insee_dep` possibly naming several départements. Headers are read by name.

The sites whose point lies in one of the territory's communes become NEW_DEAL mobile sites
(code = `numero_site`), created or updated with history; the fields of the syndicat's register
(zone signalée, carence, IRU, opposition, last control) are never touched, nor are the sites
the file no longer lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo_service.analysis.lifecycle import state_as_of
from geo_service.analysis.mobile import MOBILE_LIFECYCLE
from geo_service.analysis.mobile_links import link_sites
from geo_service.db.changes import log_change
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.arcep_common import (
    L93_BOUNDS,
    columns_by_name,
    date_format,
    departements,
    flag,
    number,
    parse_arrete_date,
    require_utf8,
    snapshot_of,
    value,
)
from geo_service.ingest.common import problem, territory_context
from geo_service.ingest.csv_source import read_delimited
from geo_service.reference.territory_config import member_departements

KIND = "dcc"
# MCC-MNC of the four operators, as ARCEP names the flag columns and op_leader
OPERATORS = {
    "20801": "ORANGE",
    "20810": "SFR",
    "20815": "FREE MOBILE",
    "20820": "BOUYGUES TELECOM",
}
REQUIRED = (
    "numero_site",
    "num_arrete",
    "date_publication_arrete",
    "insee_dep",
    "x_lambert_93",
    "y_lambert_93",
    *OPERATORS,
    "op_leader",
    "sites_mes",
    "sites_6_mois",
    "sites_6_24_mois",
    "sites_attente_deploiement",
)
OPTIONAL = ("nom_site_arrete", "nom_site_operateurs", "nom_de_la_zone")
# the fields this file owns (the register keeps the others)
OWNED = (
    "nom",
    "insee",
    "programme",
    "etat",
    "operateurs",
    "op_leader",
    "date_arrete",
    "num_arrete",
    "nom_zone",
    "nom_site_operateurs",
    "date_construction",
    "date_mise_en_service",
    "source_mise_en_service",
)


def _cut(text_value: str | None, size: int) -> str | None:
    return None if text_value is None else text_value[:size]


@dataclass
class _Read:
    rows: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    lines: int
    other_departements: int


def read_dcc(path: Path, *, departements_of_territory: set[str]) -> _Read:
    """Validated rows of the file that may lie in the territory (by `insee_dep`, when given),
    with the line-level problems found (French reasons)."""
    src = read_delimited(path, delimiter=";")
    require_utf8(path, src.file, src.encoding)
    col = columns_by_name(src.file, src.header, REQUIRED)
    grid = src.cells.to_numpy(dtype=object)
    file = src.file
    problems = [p.as_dict() for p in src.problems]
    wanted = {d.lstrip("0").zfill(2) for d in departements_of_territory}

    def cell(i: int, name: str) -> str | None:
        key = name.lower()
        return value(grid[i, col[key]]) if key in col else None

    scope = [
        i
        for i in range(len(grid))
        if not (deps := departements(cell(i, "insee_dep"))) or wanted & deps
    ]
    raw_dates = [(int(src.lines[i]), d) for i in scope if (d := cell(i, "date_publication_arrete"))]
    date_format(file, raw_dates)
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i in scope:
        line = int(src.lines[i])
        bad: list[dict[str, Any]] = []

        def fail(
            column: str, raw: Any, reason: str, line: int = line, bad: list[Any] = bad
        ) -> None:
            bad.append(problem(file, line, column, raw, reason))

        code = cell(i, "numero_site")
        if code is None:
            fail("numero_site", None, "numéro de site absent")
        elif len(code) > 40:
            fail("numero_site", code, "numéro de site trop long (40 caractères au plus)")
        elif code in seen:
            fail("numero_site", code, f"numero_site en double (déjà ligne {seen[code]})")
        else:
            seen[code] = line
        raw_date = cell(i, "date_publication_arrete")
        arrete = None
        if raw_date is None:
            fail("date_publication_arrete", None, "date de publication de l'arrêté absente")
        else:
            arrete, why = parse_arrete_date(raw_date)
            if why:
                fail("date_publication_arrete", raw_date, why)
        try:
            x, y = number(cell(i, "x_lambert_93")), number(cell(i, "y_lambert_93"))
        except ValueError:
            x = y = None
            fail(
                "x_lambert_93",
                f"{cell(i, 'x_lambert_93')} {cell(i, 'y_lambert_93')}",
                "coordonnées illisibles",
            )
        else:
            if x is None or y is None:
                fail("x_lambert_93", None, "coordonnées absentes")
            elif not (L93_BOUNDS[0] <= x <= L93_BOUNDS[2] and L93_BOUNDS[1] <= y <= L93_BOUNDS[3]):
                fail(
                    "x_lambert_93",
                    f"{x:g} {y:g}",
                    "coordonnées hors de la France métropolitaine (Lambert-93 attendu)",
                )
        operators = []
        for mcc, name in OPERATORS.items():
            hosted, why = flag(cell(i, mcc))
            if why:
                fail(mcc, cell(i, mcc), why)
            elif hosted:
                operators.append(name)
        leader = cell(i, "op_leader")
        if leader is not None and leader not in OPERATORS:
            fail(
                "op_leader",
                leader,
                "opérateur inconnu (MCC-MNC attendu : 20801, 20810, 20815, 20820)",
            )
        status: dict[str, bool | None] = {}
        for name in ("sites_mes", "sites_6_mois", "sites_6_24_mois", "sites_attente_deploiement"):
            status[name], why = flag(cell(i, name))
            if why:
                fail(name, cell(i, name), why)
        if bad:
            problems.extend(bad)
            continue
        rows.append(
            {
                "line": line,
                "code": code,
                "x": x,
                "y": y,
                "date_arrete": arrete,
                "num_arrete": _cut(cell(i, "num_arrete"), 60),
                "operateurs": ", ".join(operators) or None,
                "op_leader": OPERATORS.get(leader or ""),
                "nom_zone": _cut(cell(i, "nom_de_la_zone"), 200),
                "nom_site_operateurs": _cut(cell(i, "nom_site_operateurs"), 40),
                "nom": _cut(cell(i, "nom_site_arrete") or cell(i, "nom_de_la_zone"), 200)
                or f"Site New Deal {code}",
                "en_service": bool(status["sites_mes"]),
                "en_construction": bool(status["sites_6_mois"]),
            }
        )
    return _Read(rows, problems, src.line_count, len(grid) - len(scope))


_LOCATE = """
SELECT u.code, c.insee FROM unnest(CAST(:codes AS text[]), CAST(:xs AS float8[]),
    CAST(:ys AS float8[])) AS u(code, x, y)
JOIN commune c ON c.territory_code = :t
 AND ST_Intersects(c.geom, ST_SetSRID(ST_MakePoint(u.x, u.y), 2154))
"""
_COLUMNS = ", ".join(OWNED)


def _merged(
    row: dict[str, Any], before: dict[str, Any] | None, insee: str, snapshot: date
) -> dict[str, Any]:
    """The site's owned fields after this file: the register's dates stay, a stage the file
    flags as reached (in service, or within 6 months: under construction) without a date gets
    the file's date ("at the latest"), and the state follows the dates."""
    old = before or {}
    site: dict[str, Any] = {
        "nom": old.get("nom") or row["nom"],  # a name given by the register stays
        "insee": insee,
        "programme": "NEW_DEAL",
        "operateurs": row["operateurs"],
        "op_leader": row["op_leader"],
        "date_arrete": row["date_arrete"],
        "num_arrete": row["num_arrete"],
        "nom_zone": row["nom_zone"],
        "nom_site_operateurs": row["nom_site_operateurs"],
        "date_construction": old.get("date_construction"),
        "date_mise_en_service": old.get("date_mise_en_service"),
        "source_mise_en_service": old.get("source_mise_en_service"),
    }
    if row["en_service"] and site["date_mise_en_service"] is None:
        site["date_mise_en_service"] = max(snapshot, row["date_arrete"])
        site["source_mise_en_service"] = "DCC"
    if row["en_construction"] and not row["en_service"] and site["date_construction"] is None:
        if site["date_mise_en_service"] is None:
            site["date_construction"] = max(snapshot, row["date_arrete"])
    dates = {**old, **site}
    site["etat"] = state_as_of(MOBILE_LIFECYCLE, dates, snapshot) or "ARRETE"
    return site


def import_dcc_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
    today: date | None = None,
) -> journal.ImportResult:
    """Create or update the territory's New Deal sites from one DCC sites file (history in
    asset_change), then link them to ANFR stations by proximity."""
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, KIND, sha, territory=territory)
    if earlier is not None:
        return journal.already_imported(KIND, path, sha, earlier[0])
    territory_context(conn, territory)
    read = read_dcc(path, departements_of_territory=set(member_departements(conn, territory)))
    problems = read.problems
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    snapshot = snapshot_of(path, snapshot_date, today or date.today())
    journal_id = journal.open_entry(
        conn, kind=KIND, path=path, sha256=sha, snapshot=snapshot, user=user, territory=territory
    )
    rows = read.rows
    located = {
        r.code: r.insee
        for r in conn.execute(
            text(_LOCATE),
            {
                "codes": [r["code"] for r in rows],
                "xs": [r["x"] for r in rows],
                "ys": [r["y"] for r in rows],
                "t": territory,
            },
        )
    }
    inside = [r for r in rows if r["code"] in located]
    existing = {
        r["code"]: dict(r)
        for r in conn.execute(
            text(
                f"SELECT code, {_COLUMNS}, date_signalement, date_carence, date_retenue,"
                " date_abandon, ST_X(geom) AS x, ST_Y(geom) AS y FROM mobile_site"
                " WHERE code = ANY(:codes)"
            ),
            {"codes": [r["code"] for r in inside]},
        ).mappings()
    }
    created = changed = 0
    for row in inside:
        before = existing.get(row["code"])
        after = _merged(row, before, located[row["code"]], snapshot)
        moved = (
            before is None
            or abs(before["x"] - row["x"]) > 0.01
            or abs(before["y"] - row["y"]) > 0.01
        )
        diff = [k for k in OWNED if before is None or before[k] != after[k]]
        if not diff and not moved:
            continue
        params = {**after, "code": row["code"], "x": row["x"], "y": row["y"], "j": journal_id}
        if before is None:
            conn.execute(
                text(
                    f"INSERT INTO mobile_site (code, {_COLUMNS}, import_id, geom) VALUES (:code, "
                    + ", ".join(f":{k}" for k in OWNED)
                    + ", :j, ST_SetSRID(ST_MakePoint(:x, :y), 2154))"
                ),
                params,
            )
            created += 1
        else:
            conn.execute(
                text(
                    "UPDATE mobile_site SET "
                    + ", ".join(f"{k} = :{k}" for k in OWNED)
                    + ", import_id = :j, geom = ST_SetSRID(ST_MakePoint(:x, :y), 2154)"
                    " WHERE code = :code"
                ),
                params,
            )
            changed += 1
        keys = diff + (["x", "y"] if moved else [])
        old = {**(before or {})}
        new = {**after, "x": row["x"], "y": row["y"]}
        log_change(
            conn,
            table="mobile_site",
            key=row["code"],
            user=user,
            before=None if before is None else {k: old[k] for k in keys},
            after={k: new[k] for k in keys}
            if before is not None
            else {**after, "x": row["x"], "y": row["y"]},
            valid_from=snapshot,
            import_id=journal_id,
        )
    links = link_sites(conn, territory, import_id=journal_id, user=user, today=today)
    counts = {
        "lignes": read.lines,
        "sites_du_territoire": len(inside),
        "hors_territoire": read.other_departements + len(rows) - len(inside),
        "crees": created,
        "modifies": changed,
        "liens_proximite": links,
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
            f"{path.name} importé : {len(inside)} sites New Deal du territoire, {created} créés,"
            f" {changed} modifiés, {len(problems)} ligne(s) rejetée(s)."
        ),
    )


def import_dcc(
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
        lambda conn, who: import_dcc_conn(
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
