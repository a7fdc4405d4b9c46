"""What the four operating registers share (incidents, PM controls, abonnés, border exchanges):
a CSV read by header names (`;` or `,` detected, UTF-8 or cp1252, plain or compressed, through
csv_source), typed cells refused with French reasons, the territory's communes and PM, and the
one-transaction import that upserts rows and logs each creation or change to asset_change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo_service.db.changes import log_change
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, problem, territory_context
from geo_service.ingest.csv_source import read_delimited, reject, unpack
from geo_service.ingest.operations_cells import header_key

Row = tuple[int, dict[str, Any]]  # (line in the file, parsed values)
_DELIMITERS = (";", ",", "\t")


@dataclass(frozen=True)
class Column:
    """A column read by name (or one of its aliases); `parse` raises ValueError(reason)."""

    name: str
    parse: Callable[[str], Any]
    required: bool = True
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """What rows are checked against: the territory's communes and PM (PM → its commune)."""

    territory: str
    insee: set[str]
    pms: dict[str, str | None]


@dataclass(frozen=True)
class Register:
    """An operating register: its import kind, table (a constant, never user input), natural key
    (unique with territory_code), stored columns, and its reader."""

    kind: str
    table: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    read: Callable[[Path, Context], tuple[list[Row], list[dict[str, Any]]]]


# --- files ----------------------------------------------------------------------------------


def detect_delimiter(path: Path) -> str:
    """The separator of the header line: the most frequent of ';', ',' and tab (';' if none)."""
    data, _member = unpack(path, path.read_bytes())
    first = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    counts = {d: first.count(d.encode()) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def read_table(
    path: Path, columns: Sequence[Column]
) -> tuple[list[Row], list[dict[str, Any]], dict[str, str]]:
    """Parsed rows, line problems, and the file's own name of each column read."""
    table = read_delimited(path, delimiter=detect_delimiter(path))
    keys = [header_key(h) for h in table.header]
    positions: dict[str, int] = {}
    for column in columns:
        for name in (column.name, *column.aliases):
            if name in keys:
                positions[column.name] = keys.index(name)
                break
    missing = [c.name for c in columns if c.required and c.name not in positions]
    if missing:
        raise ImportRejectedError(
            f"{table.file} : colonnes absentes : {', '.join(missing)}.",
            [problem(table.file, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    if table.line_count == 0:
        raise reject(table.file, 0, "aucune ligne de données")
    names = {c: table.header[i] for c, i in positions.items()}
    problems = [p.as_dict() for p in table.problems]
    rows: list[Row] = []
    for i in range(len(table.cells)):
        line = int(table.lines[i])
        values: dict[str, Any] = {}
        bad = False
        for column in columns:
            raw = (
                str(table.cells.iat[i, positions[column.name]]) if column.name in positions else ""
            )
            try:
                values[column.name] = column.parse(raw)
            except ValueError as exc:
                name = names.get(column.name, column.name)
                problems.append(problem(table.file, line, name, raw, str(exc)))
                bad = True
        if not bad:
            rows.append((line, values))
    return rows, problems, names


def load_context(conn: Connection, territory: str) -> Context:
    insee, _bounds = territory_context(conn, territory)
    pms = {
        r.reference: r.insee
        for r in conn.execute(
            text(
                "SELECT DISTINCT ON (p.reference) p.reference, c.insee FROM pm p"
                " LEFT JOIN commune c ON c.territory_code = :t AND ST_Contains(c.geom, p.geom)"
                " WHERE p.territory_code = :t ORDER BY p.reference, c.insee"
            ),
            {"t": territory},
        )
    }
    return Context(territory, insee, pms)


def duplicates(
    file: str, rows: list[Row], key: tuple[str, ...], column: str, shown: str | None = None
) -> tuple[list[Row], list[dict[str, Any]]]:
    """Rows whose key was already seen in the file are refused (the first one is kept)."""
    seen: dict[tuple[Any, ...], int] = {}
    kept: list[Row] = []
    problems = []
    for line, values in rows:
        k = tuple(values[c] for c in key)
        if k in seen:
            problems.append(
                problem(
                    file, line, shown or column, values[column], f"doublon (déjà ligne {seen[k]})"
                )
            )
            continue
        seen[k] = line
        kept.append((line, values))
    return kept, problems


# --- writing --------------------------------------------------------------------------------


def write_rows(
    conn: Connection,
    register: Register,
    rows: list[dict[str, Any]],
    *,
    territory: str,
    user: str,
    journal_id: int,
    valid_from: date,
) -> tuple[int, int, int]:
    """Upsert rows by their natural key; each creation or change goes to asset_change (an
    unchanged row is left alone). Returns (created, changed, unchanged)."""
    table, key, columns = register.table, register.key, register.columns
    existing = {
        tuple(r[c] for c in key): dict(r)
        for r in conn.execute(
            text(f"SELECT {', '.join(columns)} FROM {table} WHERE territory_code = :t"),
            {"t": territory},
        ).mappings()
    }
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    statement = text(
        f"INSERT INTO {table} (territory_code, import_id, {', '.join(columns)})"
        f" VALUES (:territory_code, :import_id, {', '.join(':' + c for c in columns)})"
        f" ON CONFLICT (territory_code, {', '.join(key)}) DO UPDATE SET {updates},"
        " import_id = EXCLUDED.import_id"
    )
    created = changed = unchanged = 0
    batch = []
    for row in rows:
        k = tuple(row[c] for c in key)
        before = existing.get(k)
        if before is not None and all(before[c] == row[c] for c in columns):
            unchanged += 1
            continue
        batch.append({**row, "territory_code": territory, "import_id": journal_id})
        log_change(
            conn,
            table=table,
            key="/".join([territory, *(str(v) for v in k)])[:80],
            user=user,
            before=before,
            after=row,
            valid_from=valid_from,
            import_id=journal_id,
        )
        if before is None:
            created += 1
        else:
            changed += 1
    if batch:
        conn.execute(statement, batch)
    return created, changed, unchanged


def import_register_conn(
    conn: Connection,
    register: Register,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """Read, check and upsert one register file inside the caller's transaction."""
    kind = register.kind
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, kind, sha, territory=territory)
    if earlier is not None:
        return journal.already_imported(kind, path, sha, earlier[0])
    rows, problems = register.read(path, load_context(conn, territory))
    problems.sort(key=lambda p: (p["line"], p["column"] or ""))
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    snapshot = snapshot_date or date_from_name(path.name) or date.today()
    journal_id = journal.open_entry(
        conn, kind=kind, path=path, sha256=sha, snapshot=snapshot, user=user, territory=territory
    )
    created, changed, unchanged = write_rows(
        conn,
        register,
        [values for _line, values in rows],
        territory=territory,
        user=user,
        journal_id=journal_id,
        valid_from=snapshot,
    )
    counts = {
        "lignes": len(rows) + len(problems),
        "crees": created,
        "modifies": changed,
        "inchanges": unchanged,
        "rejetees": len(problems),
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
            f"{path.name} importé : {created} créés, {changed} modifiés, {unchanged} inchangés,"
            f" {len(problems)} rejetés."
        ),
    )


def import_register(
    engine: Engine,
    register: Register,
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
        register.kind,
        path,
        lambda conn, who: import_register_conn(
            conn,
            register,
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
