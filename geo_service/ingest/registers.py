"""The syndicat's own registers (CSV, `;`): mobile sites, WiFi bornes, MED sites.

Formats are documented in the README. Each row is validated; a change to an existing object is
recorded in asset_change (before/after, who, from which import).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pyproj import Transformer
from sqlalchemy import Connection, Engine, text

from geo_service.db.changes import log_change
from geo_service.db.enums import EMPLACEMENTS_BORNE, ETATS_SITE_MOBILE, PROGRAMMES_MOBILE
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.common import date_from_name, parse_date, problem, territory_context
from geo_service.ingest.textfile import decode_text_file

Parser = Callable[[str], Any]


def _text(value: str) -> str | None:
    return value.strip() or None


def _required(value: str) -> str:
    if not value.strip():
        raise ValueError("valeur obligatoire vide")
    return value.strip()


def _int(value: str) -> int | None:
    if not value.strip():
        return None
    number = int(value.strip())
    if number < 0:
        raise ValueError("nombre négatif")
    return number


def _date(value: str) -> date | None:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise ValueError("date illisible (attendu AAAA-MM-JJ)") from exc


def _one_of(values: tuple[str, ...]) -> Parser:
    def parse(value: str) -> str:
        if value.strip().upper() not in values:
            raise ValueError(f"valeur inconnue (attendu : {', '.join(values)})")
        return value.strip().upper()

    return parse


def _radius(value: str) -> int:
    number = int(value.strip())
    if not 0 < number <= 300:
        raise ValueError("rayon hors de 1-300 m")
    return number


@dataclass(frozen=True)
class Register:
    kind: str
    table: str
    columns: dict[str, Parser]


REGISTERS = {
    "sites": Register(
        "sites",
        "mobile_site",
        {
            "code": _required,
            "nom": _required,
            "code_insee": _text,
            "programme": _one_of(PROGRAMMES_MOBILE),
            "etat": _one_of(ETATS_SITE_MOBILE),
            "operateurs": _text,
            "date_signalement": _date,
            "date_arrete": _date,
            "date_mise_en_service": _date,
            "anfr": _text,
        },
    ),
    "bornes": Register(
        "bornes",
        "wifi_borne",
        {
            "code": _required,
            "nom": _required,
            "code_insee": _text,
            "emplacement": _one_of(EMPLACEMENTS_BORNE),
            "rayon_m": _radius,
            "date_installation": _date,
            "connexions_mois": _int,
        },
    ),
    "med": Register(
        "med",
        "med_site",
        {
            "code": _required,
            "nom": _required,
            "code_insee": _text,
            "foyers": lambda v: _int(v) or 0,
            "date_alimentation": _date,
            "date_enedis": _date,
            "date_reception_dalle": _date,
            "date_pose_armoire": _date,
            "date_recette": _date,
            "date_reception_orange": _date,
            "date_ouverture": _date,
        },
    ),
}

_TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)


def read_register(
    path: Path, register: Register, *, known_insee: set[str], bounds: tuple[float, ...]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validated rows (with x/y in Lambert-93) and the problems found."""
    content = decode_text_file(path)
    reader = csv.DictReader(io.StringIO(content), delimiter=";")
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in [*register.columns, "longitude", "latitude"] if c not in header]
    if missing:
        raise ImportRejectedError(
            f"{path.name} : colonnes absentes : {', '.join(missing)}.",
            [problem(path.name, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    reader.fieldnames = header
    rows: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        if None in raw:
            problems.append(problem(path.name, line, None, None, "trop de champs sur la ligne"))
            continue
        row: dict[str, Any] = {}
        bad = False
        for column, parse in register.columns.items():
            value = raw.get(column)
            if value is None:
                problems.append(problem(path.name, line, column, None, "ligne tronquée"))
                bad = True
                break
            try:
                row[column] = parse(value)
            except ValueError as exc:
                problems.append(
                    problem(
                        path.name,
                        line,
                        column,
                        value,
                        str(exc) if "invalid literal" not in str(exc) else "nombre entier attendu",
                    )
                )
                bad = True
        if row.get("code_insee") and row["code_insee"] not in known_insee:
            problems.append(
                problem(
                    path.name,
                    line,
                    "code_insee",
                    row["code_insee"],
                    "commune inconnue du territoire",
                )
            )
            bad = True
        try:
            lon = float((raw.get("longitude") or "").replace(",", "."))
            lat = float((raw.get("latitude") or "").replace(",", "."))
            x, y = _TO_L93.transform(lon, lat)
            if not (bounds[0] <= x <= bounds[2] and bounds[1] <= y <= bounds[3]):
                problems.append(
                    problem(path.name, line, "longitude", f"{lon} {lat}", "hors du territoire")
                )
                bad = True
            row["x"], row["y"] = x, y
        except ValueError:
            problems.append(
                problem(
                    path.name, line, "longitude", raw.get("longitude"), "coordonnées illisibles"
                )
            )
            bad = True
        code = row.get("code")
        if code in seen:
            problems.append(
                problem(path.name, line, "code", code, f"code en double (déjà ligne {seen[code]})")
            )
            bad = True
        elif code:
            seen[code] = line
        if not bad:
            rows.append(row)
    if not rows and not problems:
        raise ImportRejectedError(
            f"{path.name} : aucune ligne de données.",
            [problem(path.name, 1, None, None, "aucune ligne de données")],
        )
    return rows, problems


def _columns(register: Register) -> list[str]:
    return ["insee" if c == "code_insee" else c for c in register.columns]


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
    """Upsert the register rows; each creation/change is written to asset_change."""
    register = REGISTERS[kind]
    watch = journal.Stopwatch()
    user = user or journal.current_user()
    sha = journal.file_sha256(path)
    earlier = journal.previous_success(conn, kind, sha)
    if earlier is not None:
        return journal.already_imported(kind, path, sha, earlier[0])
    insee, bounds = territory_context(conn, territory)
    rows, problems = read_register(path, register, known_insee=insee, bounds=bounds)
    if problems and not skip_invalid:
        raise ImportRejectedError(
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé.", problems
        )
    snapshot = snapshot_date or date_from_name(path.name) or date.today()
    journal_id = journal.open_entry(
        conn, kind=kind, path=path, sha256=sha, snapshot=snapshot, user=user
    )
    columns = _columns(register)
    table = register.table  # from the REGISTERS whitelist, never from user input
    existing = {
        r["code"]: r
        for r in conn.execute(
            text(f"SELECT {', '.join(columns)}, ST_X(geom) AS x, ST_Y(geom) AS y FROM {table}")
        ).mappings()
    }
    created = changed = 0
    for row in rows:
        values = {("insee" if k == "code_insee" else k): v for k, v in row.items()}
        before = existing.get(row["code"])
        comparable = {k: values[k] for k in columns}
        if before is not None:
            same_place = (
                abs(before["x"] - values["x"]) < 0.01 and abs(before["y"] - values["y"]) < 0.01
            )
            if same_place and all(before[k] == comparable[k] for k in columns):
                continue
        assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "code")
        conn.execute(
            text(
                f"INSERT INTO {table} ({', '.join(columns)}, import_id, geom) VALUES "
                f"({', '.join(':' + c for c in columns)}, :j, ST_SetSRID(ST_MakePoint(:x, :y), 2154)) "
                f"ON CONFLICT (code) DO UPDATE SET {assignments}, import_id = EXCLUDED.import_id, geom = EXCLUDED.geom"
            ),
            {**values, "j": journal_id},
        )
        log_change(
            conn,
            table=table,
            key=row["code"],
            user=user,
            before=before,
            after={**comparable, "x": round(values["x"], 2), "y": round(values["y"], 2)},
            valid_from=snapshot,
            import_id=journal_id,
        )
        if before is None:
            created += 1
        else:
            changed += 1
    counts = {
        "lignes": len(rows) + len(problems),
        "crees": created,
        "modifies": changed,
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
        message=f"{path.name} importé : {created} créés, {changed} modifiés, {len(problems)} rejetés.",
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
