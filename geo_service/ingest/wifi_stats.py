"""The WiFi operator portal's monthly statistics (`geo-service import wifi-stats`).

Format (documented in the README): one line per borne and month, header by name,
`borne;mois;sessions;utilisateurs` (`;` or `,` detected, UTF-8 or cp1252, plain, .gz or .zip);
`mois` is `AAAA-MM` or `MM/AAAA`; `sessions` and `utilisateurs` (distinct users of the month)
are non-negative integers. Months are upserted into wifi_usage; a changed month keeps its
history (asset_change), the file is journalled, all in one transaction.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo_service.db.changes import log_change
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, problem
from geo_service.ingest.csv_source import read_delimited, reject, reject_binary, unpack

KIND = "wifi-stats"
COLUMNS = ("borne", "mois", "sessions", "utilisateurs")
_ALIASES = {"code_borne": "borne", "code": "borne", "month": "mois", "users": "utilisateurs"}
_MONTH = (
    (re.compile(r"(\d{4})-(\d{1,2})"), 1, 2),
    (re.compile(r"(\d{1,2})/(\d{4})"), 2, 1),
)
_MAX_COUNT = 10_000_000


def _delimiter(path: Path) -> str:
    """`;` or `,`, whichever the header line holds (`;` when both or neither)."""
    raw = path.read_bytes()
    data, member = unpack(path, raw)
    reject_binary(f"{path.name}/{member}" if member else path.name, data)
    first = data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    return "," if b"," in first and b";" not in first else ";"


def parse_month(value: str) -> date:
    """'2024-03' or '03/2024' → 2024-03-01; ValueError with a French reason otherwise."""
    for pattern, year, month in _MONTH:
        m = pattern.fullmatch(value.strip())
        if m:
            if not 1 <= int(m[month]) <= 12:
                raise ValueError("mois inexistant")
            return date(int(m[year]), int(m[month]), 1)
    raise ValueError("mois illisible (attendu AAAA-MM ou MM/AAAA)")


def _count(value: str, label: str) -> int:
    cleaned = value.strip().replace(" ", "")
    if not cleaned:
        raise ValueError(f"{label} vide")
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        raise ValueError(f"{label} : nombre entier attendu")
    number = int(cleaned)
    if number < 0:
        raise ValueError(f"{label} négatif")
    if number > _MAX_COUNT:
        raise ValueError(f"{label} invraisemblable")
    return number


def read_wifi_stats(
    path: Path, *, bornes: set[str], last_month: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The valid (borne, mois, sessions, utilisateurs) lines and the problems of the others:
    unknown borne (in this territory), bad or future month, bad or negative count, more users
    than sessions, the same borne and month twice."""
    table = read_delimited(path, delimiter=_delimiter(path))
    header = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in table.header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ImportRejectedError(
            f"{table.file} : colonnes absentes : {', '.join(missing)}.",
            [problem(table.file, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    where = {c: header.index(c) for c in COLUMNS}
    problems = [p.as_dict() for p in table.problems]
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, date], int] = {}
    for i, line in enumerate(table.lines):
        cells = {c: str(table.cells.iat[i, j]) for c, j in where.items()}
        found = []
        row: dict[str, Any] = {"borne": cells["borne"], "line": int(line)}
        if not cells["borne"]:
            found.append(("borne", "code de borne vide"))
        elif cells["borne"] not in bornes:
            found.append(("borne", "borne inconnue du territoire (importez d'abord le registre)"))
        try:
            row["mois"] = parse_month(cells["mois"])
            if row["mois"] > last_month:
                found.append(("mois", "mois à venir (après la date du fichier)"))
        except ValueError as exc:
            found.append(("mois", str(exc)))
        for column in ("sessions", "utilisateurs"):
            try:
                row[column] = _count(cells[column], column)
            except ValueError as exc:
                found.append((column, str(exc)))
        if not found and row["utilisateurs"] > row["sessions"]:
            found.append(("utilisateurs", "plus d'utilisateurs distincts que de sessions"))
        key = (row["borne"], row.get("mois"))
        if not found and key in seen:
            found.append(("mois", f"borne et mois en double (déjà ligne {seen[key]})"))
        if found:
            problems += [problem(table.file, int(line), c, cells[c], r) for c, r in found]
            continue
        seen[(row["borne"], row["mois"])] = int(line)
        rows.append(row)
    if not rows and not problems:
        raise reject(table.file, 0, "aucune ligne de données")
    return rows, problems


def import_wifi_stats_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    snapshot_date: date | None = None,
    skip_invalid: bool = False,
) -> journal.ImportResult:
    """Upsert the months of the file into wifi_usage; new and changed months are recorded in
    asset_change (key `<borne>/<AAAA-MM>`) with the import id; unchanged months are left alone."""
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, KIND, sha, territory=territory)
    if earlier is not None:
        return journal.already_imported(KIND, path, sha, earlier[0])
    snapshot = snapshot_date or date_from_name(path.name) or date.today()
    bornes = {
        r[0]
        for r in conn.execute(
            text(
                "SELECT b.code FROM wifi_borne b JOIN commune c ON c.insee = b.insee"
                " WHERE c.territory_code = :t"
            ),
            {"t": territory},
        )
    }
    rows, problems = read_wifi_stats(path, bornes=bornes, last_month=snapshot.replace(day=1))
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    journal_id = journal.open_entry(
        conn, kind=KIND, path=path, sha256=sha, snapshot=snapshot, user=user, territory=territory
    )
    stored = {
        (r.borne_code, r.mois): (r.sessions, r.utilisateurs)
        for r in conn.execute(
            text(
                "SELECT borne_code, mois, sessions, utilisateurs FROM wifi_usage"
                " WHERE borne_code = ANY(:codes)"
            ),
            {"codes": sorted({r["borne"] for r in rows})},
        )
    }
    written = []
    created = changed = 0
    for row in rows:
        before = stored.get((row["borne"], row["mois"]))
        if before == (row["sessions"], row["utilisateurs"]):
            continue
        written.append({**row, "j": journal_id})
        log_change(
            conn,
            table="wifi_usage",
            key=f"{row['borne']}/{row['mois']:%Y-%m}",
            user=user,
            before=None if before is None else {"sessions": before[0], "utilisateurs": before[1]},
            after={"sessions": row["sessions"], "utilisateurs": row["utilisateurs"]},
            valid_from=snapshot,
            import_id=journal_id,
        )
        created, changed = (created + 1, changed) if before is None else (created, changed + 1)
    if written:
        conn.execute(
            text(
                "INSERT INTO wifi_usage (borne_code, mois, sessions, utilisateurs, import_id)"
                " VALUES (:borne, :mois, :sessions, :utilisateurs, :j)"
                " ON CONFLICT (borne_code, mois) DO UPDATE SET sessions = EXCLUDED.sessions,"
                " utilisateurs = EXCLUDED.utilisateurs, import_id = EXCLUDED.import_id"
            ),
            written,
        )
    rejected = len({p["line"] for p in problems})
    counts = {
        "lignes": len(rows) + rejected,
        "crees": created,
        "modifies": changed,
        "inchanges": len(rows) - created - changed,
        "rejetees": rejected,
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
            f"{path.name} importé : {created} mois créés, {changed} modifiés,"
            f" {counts['inchanges']} inchangés, {rejected} lignes rejetées."
        ),
    )


def import_wifi_stats(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    user: str | None = None,
    skip_invalid: bool = False,
    snapshot_date: date | None = None,
) -> journal.ImportResult:
    """Import the portal's statistics in one transaction (a refused file is journalled apart and
    changes nothing); months after the snapshot date (given, in the name, else today) are refused."""
    return journal.run_import(
        engine,
        KIND,
        path,
        lambda conn, who: import_wifi_stats_conn(
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
