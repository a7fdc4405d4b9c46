"""The syndicat's own registers (CSV, `;`): mobile sites, WiFi bornes, MED sites.

Formats are documented in the README (columns in `ingest.register_formats`). Headers are read by
name: extra columns are ignored, the newer columns are optional (an absent column leaves the
stored value alone), rows are merged by code with what is stored (for mobile sites, what the
public files created: an empty cell never blanks what they filled). Each row keeps its
programme's lifecycle rules; a creation or change is recorded in asset_change (before/after,
who, from which import).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pyproj import Transformer
from sqlalchemy import Connection, Engine, text

from geo_service.db.changes import log_change
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, problem, territory_context
from geo_service.ingest.csv_source import decode, reject, reject_binary
from geo_service.ingest.register_formats import REGISTERS, Register

__all__ = ["REGISTERS", "Register", "import_register", "import_register_conn", "read_register"]

_TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
_SEPARATORS = {",": ",", "\t": "tabulation", "|": "|"}
Locate = Callable[[float, float], str | None]


def _rows_of(path: Path) -> tuple[list[str], csv.DictReader[str]]:
    """The lower-case header and the record reader of a `;` register (UTF-8 or cp1252)."""
    raw = path.read_bytes()
    if not raw.strip():
        raise reject(path.name, 0, "fichier vide")
    reject_binary(path.name, raw)
    content, _encoding = decode(path.name, raw)
    first = content.replace("\r\n", "\n").split("\n", 1)[0]
    if ";" not in first:
        found = [name for sep, name in _SEPARATORS.items() if sep in first]
        if found:
            raise reject(path.name, 1, f"séparateur attendu « ; », trouvé « {found[0]} »")
    reader = csv.DictReader(io.StringIO(content), delimiter=";")
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    return header, reader


def _position(
    raw: dict[str, Any], before: dict[str, Any] | None, bounds: tuple[float, ...]
) -> tuple[float, float]:
    """(x, y) in Lambert-93 from the WGS84 cells (the stored position when both are empty on an
    existing row); ValueError with the French reason otherwise."""
    lon_cell, lat_cell = (raw.get("longitude") or "").strip(), (raw.get("latitude") or "").strip()
    if not lon_cell and not lat_cell and before is not None:
        return before["x"], before["y"]
    try:
        lon, lat = float(lon_cell.replace(",", ".")), float(lat_cell.replace(",", "."))
    except ValueError as exc:
        raise ValueError("coordonnées illisibles") from exc
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
        raise ValueError("coordonnées illisibles")
    x, y = _TO_L93.transform(lon, lat)
    if not (bounds[0] <= x <= bounds[2] and bounds[1] <= y <= bounds[3]):
        raise ValueError("hors du territoire")
    return x, y


@dataclass
class _Context:
    """What every line of one register is checked against."""

    file: str
    register: Register
    header: list[str]
    known_insee: set[str]
    bounds: tuple[float, ...]
    existing: dict[str, dict[str, Any]]
    locate: Locate | None
    today: date
    territory: str | None
    seen: dict[str, int] = field(default_factory=dict)

    @property
    def present(self) -> list[str]:
        return [c for c in self.register.columns if c in self.header]

    @property
    def absent(self) -> frozenset[str]:
        return frozenset(c for c in self.register.columns if c not in self.header)


def _read_row(
    ctx: _Context, raw: dict[str, Any], line: int
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """One line merged with the stored object of its code, or its problems."""
    register = ctx.register
    found: list[dict[str, Any]] = []

    def bad(column: str | None, value: Any, reason: str) -> None:
        found.append(problem(ctx.file, line, column, value, reason))

    code = (raw.get("code") or "").strip()
    if not code:
        bad("code", raw.get("code"), "valeur obligatoire vide")
        return None, found
    if code in ctx.seen:
        bad("code", code, f"code en double (déjà ligne {ctx.seen[code]})")
    ctx.seen.setdefault(code, line)
    before = ctx.existing.get(code)
    if before is not None and before.get("territory") not in (None, ctx.territory):
        bad("code", code, "code déjà utilisé dans un autre territoire")
    values: dict[str, Any] = {f: before.get(f) for f in register.fields} if before else {}
    for column in ctx.present:
        cell = raw.get(column)
        if cell is None:
            bad(column, None, "ligne tronquée")
            return None, found
        try:
            value = register.columns[column](cell)
        except ValueError as exc:
            bad(column, cell, str(exc))
            continue
        name = "insee" if column == "code_insee" else column
        if register.kind == "sites" and column == "etat":
            values["etat_declare"] = value
        elif value is None and before is not None and name in register.kept_when_empty:
            continue  # an empty cell never blanks what a public file (or the register) filled
        else:
            values[name] = value
            if value is not None:
                values.setdefault("own", set()).add(name)
    if register.kind == "med" and (raw.get("date_ouverture") or "").strip():
        values["ouverture_donnee"] = True
    if before is None:  # a new object: its identity cells are required
        for column in register.mandatory_cells:
            if values.get(column) is None and all(p["column"] != column for p in found):
                bad(column, raw.get(column), "valeur obligatoire vide")
    try:
        values["x"], values["y"] = _position(raw, before, ctx.bounds)
    except ValueError as exc:
        bad("longitude", f"{raw.get('longitude')} {raw.get('latitude')}", str(exc))
    else:
        if values.get("insee") is None and ctx.locate is not None:
            values["insee"] = ctx.locate(values["x"], values["y"])
            if values["insee"] is None:
                bad("longitude", raw.get("longitude"), "point hors des communes du territoire")
    if values.get("insee") and values["insee"] not in ctx.known_insee:
        bad("code_insee", values["insee"], "commune inconnue du territoire")
    if not found:
        for name, reason in register.derive(values, ctx.absent, ctx.today):
            bad(name, raw.get(name, values.get(name)), reason)
    return (None, found) if found else (values, [])


def read_register(
    path: Path,
    register: Register,
    *,
    known_insee: set[str],
    bounds: tuple[float, ...],
    existing: dict[str, dict[str, Any]] | None = None,
    locate: Locate | None = None,
    today: date | None = None,
    territory: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The validated rows, merged with the `existing` ones of the same code (x/y in Lambert-93,
    every field of the table), and the problems found (file, line, column, value, reason)."""
    header, reader = _rows_of(path)
    missing = [c for c in register.required if c not in header]
    if missing:
        raise ImportRejectedError(
            f"{path.name} : colonnes absentes : {', '.join(missing)}.",
            [problem(path.name, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    ctx = _Context(
        path.name,
        register,
        header,
        known_insee,
        bounds,
        existing or {},
        locate,
        today or date.today(),
        territory,
    )
    rows: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for line, raw in enumerate(reader, start=2):
        if None in raw:
            problems.append(problem(path.name, line, None, None, "trop de champs sur la ligne"))
            continue
        if not any((v or "").strip() for v in raw.values()):
            continue
        row, found = _read_row(ctx, raw, line)
        problems.extend(found)
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        raise ImportRejectedError(
            f"{path.name} : aucune ligne de données.",
            [problem(path.name, 1, None, None, "aucune ligne de données")],
        )
    return rows, problems


def _existing(conn: Connection, register: Register) -> dict[str, dict[str, Any]]:
    """The stored rows of the register's table by code, with their position and territory."""
    table = register.table  # from the REGISTERS whitelist, never from user input
    columns = ", ".join(f"o.{f}" for f in register.fields)
    rows = conn.execute(
        text(
            f"SELECT {columns}, ST_X(o.geom) AS x, ST_Y(o.geom) AS y, c.territory_code AS territory"
            f" FROM {table} o LEFT JOIN commune c ON c.insee = o.insee"
        )
    ).mappings()
    return {r["code"]: dict(r) for r in rows}


def _locator(conn: Connection, territory: str) -> Locate:
    def locate(x: float, y: float) -> str | None:
        return conn.execute(
            text(
                "SELECT insee FROM commune WHERE territory_code = :t"
                " AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 2154)) LIMIT 1"
            ),
            {"t": territory, "x": x, "y": y},
        ).scalar()

    return locate


def _unchanged(before: dict[str, Any], after: dict[str, Any], fields: list[str]) -> bool:
    same_place = abs(before["x"] - after["x"]) < 0.01 and abs(before["y"] - after["y"]) < 0.01
    return same_place and all(before.get(f) == after.get(f) for f in fields)


def import_register_conn(
    conn: Connection,
    kind: str,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """Upsert the register rows; each creation/change is written to asset_change. Dates are
    checked against the snapshot date (given, read in the file name, else today)."""
    register = REGISTERS[kind]
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, kind, sha)
    if earlier is not None:
        return journal.already_imported(kind, path, sha, earlier[0])
    insee, bounds = territory_context(conn, territory)
    snapshot = snapshot_date or date_from_name(path.name) or date.today()
    existing = _existing(conn, register)
    rows, problems = read_register(
        path,
        register,
        known_insee=insee,
        bounds=bounds,
        existing=existing,
        locate=_locator(conn, territory),
        today=snapshot,
        territory=territory,
    )
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    journal_id = journal.open_entry(
        conn, kind=kind, path=path, sha256=sha, snapshot=snapshot, user=user
    )
    fields = register.fields
    table = register.table  # from the REGISTERS whitelist, never from user input
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in fields if c != "code")
    upsert = text(
        f"INSERT INTO {table} ({', '.join(fields)}, import_id, geom) VALUES "
        f"({', '.join(':' + c for c in fields)}, :j, ST_SetSRID(ST_MakePoint(:x, :y), 2154)) "
        f"ON CONFLICT (code) DO UPDATE SET {assignments}, import_id = EXCLUDED.import_id,"
        " geom = EXCLUDED.geom"
    )
    created = changed = 0
    for row in rows:
        values = {f: row.get(f) for f in fields}
        before = existing.get(row["code"])
        if before is not None and _unchanged(before, row, fields):
            continue
        conn.execute(upsert, {**values, "x": row["x"], "y": row["y"], "j": journal_id})
        if (
            table == "mobile_site"
            and values.get("date_mise_en_service") is not None
            and (
                before is None
                or before.get("date_mise_en_service") != values["date_mise_en_service"]
            )
        ):
            # a service date the register sets is the syndicat's: ANFR no longer overwrites it
            conn.execute(
                text("UPDATE mobile_site SET source_mise_en_service = NULL WHERE code = :c"),
                {"c": row["code"]},
            )
        log_change(
            conn,
            table=table,
            key=row["code"],
            user=user,
            before=None
            if before is None
            else {
                **{f: before.get(f) for f in fields},
                "x": round(before["x"], 2),
                "y": round(before["y"], 2),
            },
            after={**values, "x": round(row["x"], 2), "y": round(row["y"], 2)},
            valid_from=snapshot,
            import_id=journal_id,
        )
        if before is None:
            created += 1
        else:
            changed += 1
    counts = {
        "lignes": len(rows) + len({p["line"] for p in problems}),
        "crees": created,
        "modifies": changed,
        "rejetees": len({p["line"] for p in problems}),
    }
    status = "PARTIEL" if problems else "OK"
    journal.close_entry(
        conn, journal_id, status=status, counts=counts, problems=problems, duration_ms=watch.ms()
    )
    return journal.ImportResult(
        kind=kind,
        file_name=path.name,
        sha256=sha,
        status=status,
        journal_id=journal_id,
        snapshot_date=snapshot,
        counts=counts,
        problems=problems,
        duration_ms=watch.ms(),
        message=(
            f"{path.name} importé : {created} créés, {changed} modifiés,"
            f" {counts['rejetees']} lignes rejetées."
        ),
    )


def import_register(
    engine: Engine,
    kind: str,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """One transaction; a refused register is journalled apart and changes nothing."""
    return journal.run_import(
        engine,
        kind,
        path,
        lambda conn, who: import_register_conn(
            conn,
            kind,
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
