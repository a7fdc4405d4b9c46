"""Import the operator's list of expensive premises (prises chères), dated by its delivery."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, problem
from geo_service.ingest.textfile import decode_text_file

COLUMNS = (
    "IdentifiantImmeuble",
    "CodeInseeImmeuble",
    "NombreLogements",
    "Motif",
    "CoutEstimeEuros",
)


def read_operator_list(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(decode_text_file(path)), delimiter=";")
    header = {h.strip().lower(): h for h in reader.fieldnames or []}
    missing = [c for c in COLUMNS[:3] if c.lower() not in header]
    if missing:
        raise ImportRejectedError(
            f"{path.name} : colonnes absentes : {', '.join(missing)}.",
            [problem(path.name, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    rows, problems, seen = [], [], set()
    for line, raw in enumerate(reader, start=2):
        get = {c: (raw.get(header.get(c.lower(), ""), "") or "").strip() for c in COLUMNS}
        ident = get["IdentifiantImmeuble"]
        if not ident:
            problems.append(
                problem(path.name, line, "IdentifiantImmeuble", None, "identifiant vide")
            )
            continue
        if ident in seen:
            problems.append(
                problem(path.name, line, "IdentifiantImmeuble", ident, "identifiant en double")
            )
            continue
        seen.add(ident)
        try:
            logements = int(get["NombreLogements"])
            if logements < 0:
                raise ValueError
        except ValueError:
            problems.append(
                problem(
                    path.name,
                    line,
                    "NombreLogements",
                    get["NombreLogements"],
                    "nombre entier positif attendu",
                )
            )
            continue
        try:
            cout = (
                float(get["CoutEstimeEuros"].replace(",", ".")) if get["CoutEstimeEuros"] else None
            )
        except ValueError:
            problems.append(
                problem(
                    path.name, line, "CoutEstimeEuros", get["CoutEstimeEuros"], "montant illisible"
                )
            )
            continue
        rows.append(
            {
                "ident": ident,
                "insee": get["CodeInseeImmeuble"] or None,
                "logements": logements,
                "motif": get["Motif"] or None,
                "cout": cout,
            }
        )
    return rows, problems


def import_onereuses_conn(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    snapshot_date: date | None = None,
    user: str | None = None,
) -> journal.ImportResult:
    """Replace the operator list of that date (a list is a dated document, kept side by side)."""
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, "onereuses", sha, territory=territory)
    if earlier is not None:
        return journal.already_imported("onereuses", path, sha, earlier[0])
    list_date = snapshot_date or date_from_name(path.name)
    if list_date is None:
        raise ImportRejectedError(
            f"{path.name} : date de la liste inconnue (--date).",
            [problem(path.name, 0, None, None, "date de la liste inconnue")],
        )
    rows, problems = read_operator_list(path)
    if problems:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    journal_id = journal.open_entry(
        conn,
        kind="onereuses",
        path=path,
        sha256=sha,
        snapshot=list_date,
        user=user,
        territory=territory,
    )
    # the list of that date for this territory only: another territory's list stays
    conn.execute(
        text(
            "DELETE FROM operator_expensive o WHERE o.list_date = :d AND NOT EXISTS ("
            "SELECT 1 FROM import_journal j WHERE j.id = o.import_id AND j.territory_code <> :t)"
        ),
        {"d": list_date, "t": territory},
    )
    raw = conn.connection.driver_connection
    with raw.cursor().copy(  # type: ignore[union-attr]
        "COPY operator_expensive (list_date, identifiant_immeuble, insee, logements, motif, cout_estime, import_id) FROM STDIN"
    ) as copy:  # type: ignore[union-attr]
        for r in rows:
            copy.write_row(
                (
                    list_date,
                    r["ident"],
                    r["insee"],
                    r["logements"],
                    r["motif"],
                    r["cout"],
                    journal_id,
                )
            )
    unknown = conn.execute(
        text(
            "SELECT count(*) FROM operator_expensive o WHERE o.import_id = :j AND NOT EXISTS (SELECT 1 FROM premise p WHERE p.identifiant_immeuble = o.identifiant_immeuble)"
        ),
        {"j": journal_id},
    ).scalar_one()
    counts = {
        "lignes": len(rows),
        "logements": sum(r["logements"] for r in rows),
        "immeubles_inconnus": int(unknown),
    }
    journal.close_entry(
        conn, journal_id, status="OK", counts=counts, problems=[], duration_ms=watch.ms()
    )
    return journal.ImportResult(
        kind="onereuses",
        file_name=path.name,
        sha256=sha,
        status="OK",
        journal_id=journal_id,
        snapshot_date=list_date,
        counts=counts,
        duration_ms=watch.ms(),
        message=f"{path.name} : {len(rows)} immeubles ({counts['logements']} logements) listés au {list_date:%d/%m/%Y}.",
    )


def import_onereuses(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    snapshot_date: date | None = None,
    user: str | None = None,
) -> journal.ImportResult:
    """One transaction; a refused list is journalled apart and changes nothing."""
    return journal.run_import(
        engine,
        "onereuses",
        path,
        lambda conn, who: import_onereuses_conn(
            conn, path, territory=territory, snapshot_date=snapshot_date, user=who
        ),
        snapshot_date=snapshot_date,
        user=user,
        territory=territory,
    )
