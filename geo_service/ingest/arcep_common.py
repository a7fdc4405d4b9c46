"""Reading ARCEP's open-data CSV files as published: headers by name, `NA` for missing values,
UTF-8 only, 0/1 flags, the quarter named in the file name."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from geo_service.errors import ImportRejectedError
from geo_service.ingest.common import date_from_name, problem
from geo_service.ingest.csv_source import reject, unpack

MISSING = {"", "NA", "N/A", "NULL"}
# metropolitan France in Lambert-93, with a margin (a WGS84 pair or swapped x/y falls outside)
L93_BOUNDS = (0.0, 6_000_000.0, 1_300_000.0, 7_200_000.0)
_QUARTER = re.compile(r"(?<!\d)(\d{4})_?T([1-4])(?!\d)", re.IGNORECASE)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+Z?)?")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2,4})")


def value(cell: Any) -> str | None:
    """A stripped cell, None for ARCEP's missing values (`NA`, empty)."""
    text_value = str(cell).strip()
    return None if text_value.upper() in MISSING else text_value


def columns_by_name(file: str, header: list[str], required: tuple[str, ...]) -> dict[str, int]:
    """Position of each column by its name (case and spaces ignored); a missing required column
    refuses the file, naming them all."""
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        positions.setdefault(name.strip().lower(), i)
    missing = [c for c in required if c.lower() not in positions]
    if missing:
        raise ImportRejectedError(
            f"{file} : colonne(s) absente(s) : {', '.join(missing)}.",
            [problem(file, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    return {c: positions[c.lower()] for c in positions}


def require_utf8(path: Path, file: str, encoding: str) -> None:
    """ARCEP publishes in UTF-8: a file that is not (re-saved in Latin-1…) is refused."""
    if encoding.startswith("utf-8"):
        return
    data = unpack(path, path.read_bytes())[0]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise reject(
            file,
            line,
            "encodage non UTF-8 (ARCEP publie ses fichiers en UTF-8) : réenregistrez le fichier"
            " en UTF-8",
            value=data[exc.start : exc.start + 20].decode("latin-1"),
        ) from exc


def quarter_date(name: str) -> date | None:
    """The end of the quarter named in an ARCEP file name (`2024_T2_…` → 2024-06-30)."""
    match = _QUARTER.search(name)
    if match is None:
        return None
    return _end(int(match[1]), int(match[2]))


def _end(year: int, quarter: int) -> date:
    return {1: date(year, 3, 31), 2: date(year, 6, 30), 3: date(year, 9, 30)}.get(
        quarter, date(year, 12, 31)
    )


def snapshot_of(path: Path, given: date | None, today: date) -> date:
    """The date of the state the file describes: --date, else the quarter or date in its name,
    else today; never after today (a stage is not done in the future)."""
    found = given or quarter_date(path.name) or date_from_name(path.name) or today
    return min(found, today)


def flag(raw: str | None) -> tuple[bool | None, str | None]:
    """ARCEP's 0/1 flags (NA → None)."""
    if raw is None:
        return None, None
    if raw in ("0", "1"):
        return raw == "1", None
    return None, "indicateur 0/1 attendu"


def number(raw: str | None) -> float | None:
    if raw is None:
        return None
    return float(raw.replace(",", ".").replace(" ", ""))


def departements(raw: str | None) -> set[str]:
    """`insee_dep` as a set of codes: "46", "46, 12", "46/12", "046" → {"46", "12"}."""
    if raw is None:
        return set()
    return {d.lstrip("0").zfill(2) for d in re.split(r"[\s,;/|+-]+", raw) if d}


def date_format(file: str, values: list[tuple[int, str]]) -> str:
    """'iso' or 'dmy' for the arrêté dates of the file: ARCEP writes AAAA-MM-JJ, a re-saved file
    JJ/MM/AAAA; a slashed date whose second part cannot be a month (MM/JJ/AAAA) makes the file
    ambiguous, and it is refused."""
    for line, raw in values:
        m = _DMY.fullmatch(raw)
        if m and int(m[2]) > 12:
            raise reject(
                file,
                line,
                "format de date incertain dans date_publication_arrete (MM/JJ/AAAA ?) :"
                " attendu AAAA-MM-JJ ou JJ/MM/AAAA",
                column="date_publication_arrete",
                value=raw,
            )
    return "dmy" if any(_DMY.fullmatch(raw) for _, raw in values) else "iso"


def parse_arrete_date(raw: str) -> tuple[date | None, str | None]:
    """AAAA-MM-JJ or JJ/MM/AAAA → date; anything else (2-digit years…) → a French reason."""
    m = _ISO.fullmatch(raw)
    parts = (m[1], m[2], m[3]) if m else None
    if parts is None:
        d = _DMY.fullmatch(raw)
        if d is None:
            return None, "date illisible (formats admis : AAAA-MM-JJ, JJ/MM/AAAA)"
        if len(d[3]) != 4:
            return None, "année sur deux chiffres : date incertaine (attendu AAAA-MM-JJ)"
        parts = (d[3], d[2], d[1])
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2])), None
    except ValueError:
        return None, "date inexistante"
