"""Cells of the ANFR tables to values: DMS coordinates with their hemisphere, decimal commas,
JJ/MM/AAAA dates, codes resolved through the reference tables; each fault becomes a French
problem naming the file, line, column and value."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from geo_service.ingest.anfr_reader import TABLES, Rows
from geo_service.ingest.common import problem

# Emitter systems to technologies, by the start of the system's name (`LTE 800` → 4G).
TECHNOLOGY_PREFIXES = (("GSM", "2G"), ("UMTS", "3G"), ("LTE", "4G"), ("5G", "5G"))
_LAT = ("COR_NB_DG_LAT", "COR_NB_MN_LAT", "COR_NB_SC_LAT", "COR_CD_NS_LAT")
_LON = ("COR_NB_DG_LON", "COR_NB_MN_LON", "COR_NB_SC_LON", "COR_CD_EW_LON")
_ALL = (*_LAT, *_LON)
MAX_KEY = 20  # anfr_station.sta_nm_anfr


class CellError(ValueError):
    """A refused cell: its column and the French reason."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def technology(system: str) -> str:
    """GSM → 2G, UMTS → 3G, LTE → 4G, 5G NR → 5G, anything else → AUTRE."""
    name = system.strip().upper()
    return next((tech for prefix, tech in TECHNOLOGY_PREFIXES if name.startswith(prefix)), "AUTRE")


def parse_date(value: str, column: str) -> date | None:
    """JJ/MM/AAAA as published (AAAA-MM-JJ tolerated); empty → None."""
    text = value.strip()
    if not text:
        return None
    try:
        if "/" in text:
            day, month, year = text.split("/")
        else:
            year, month, day = text[:10].split("-")
        if len(year) != 4:
            raise ValueError(text)
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise CellError(column, "date illisible (attendu JJ/MM/AAAA)") from exc


def decimal(value: str, column: str) -> float | None:
    """`28,3` → 28.3 (a decimal point is read too); empty → None."""
    text = value.strip()
    if not text:
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError as exc:
        raise CellError(column, "nombre illisible (attendu par exemple 28,3)") from exc


def integer(value: str, column: str, *, required: bool = False) -> int | None:
    text = value.strip()
    if not text:
        if required:
            raise CellError(column, "valeur obligatoire vide")
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise CellError(column, "nombre entier attendu") from exc


def key(value: str, column: str) -> str:
    """A station number (STA_NM_ANFR): required, kept as text (leading zeros matter)."""
    text = value.strip()
    if not text:
        raise CellError(column, "valeur obligatoire vide")
    if len(text) > MAX_KEY:
        raise CellError(
            column, f"identifiant trop long ({len(text)} caractères, {MAX_KEY} au plus)"
        )
    return text


def _dms(cells: list[str], index: dict[str, int], columns: tuple[str, ...], limit: int) -> float:
    """Degrees + minutes/60 + seconds/3600, negative for S or W."""
    deg_c, min_c, sec_c, hemi_c = columns
    parts = []
    for column, top in ((deg_c, limit), (min_c, 60), (sec_c, 60)):
        raw = cells[index[column]].strip()
        if not raw:
            raise CellError(column, "coordonnée manquante")
        try:
            number = float(raw.replace(",", "."))
        except ValueError as exc:
            raise CellError(column, "coordonnée illisible (nombre attendu)") from exc
        if not (0 <= number < top or (column == deg_c and number == top)):
            raise CellError(column, f"coordonnée hors limites (0 à {top})")
        parts.append(number)
    hemisphere = cells[index[hemi_c]].strip().upper()
    allowed = ("N", "S") if hemi_c == "COR_CD_NS_LAT" else ("E", "W")
    if hemisphere not in allowed:
        raise CellError(hemi_c, f"hémisphère inconnu (attendu {' ou '.join(allowed)})")
    value = parts[0] + parts[1] / 60 + parts[2] / 3600
    if abs(value) > limit:
        raise CellError(deg_c, f"coordonnée hors limites (0 à {limit} degrés)")
    return -value if hemisphere in ("S", "W") else value


def position(cells: list[str], index: dict[str, int]) -> tuple[float, float]:
    """WGS84 longitude and latitude of a SUP_SUPPORT line (the common case in one expression;
    `_dms` says what is wrong otherwise)."""
    try:
        d, m, sec, ns, dl, ml, sl, ew = (cells[index[c]] for c in _ALL)
        lat = float(d) + float(m) / 60 + float(sec.replace(",", ".")) / 3600
        lon = float(dl) + float(ml) / 60 + float(sl.replace(",", ".")) / 3600
        good = (
            ns in ("N", "S")
            and ew in ("E", "W")
            and 0 <= float(m) < 60
            and 0 <= float(ml) < 60
            and 0 <= float(sec.replace(",", ".")) < 60
            and 0 <= float(sl.replace(",", ".")) < 60
            and 0 <= lat <= 90
            and 0 <= lon <= 180
            and float(d) >= 0
            and float(dl) >= 0
        )
    except ValueError:
        good = False
    if not good:
        return _dms(cells, index, _LON, 180), _dms(cells, index, _LAT, 90)
    return (-lon if ew == "W" else lon), (-lat if ns == "S" else lat)


def fault(rows: Rows, line: int, cells: list[str], error: CellError) -> dict[str, Any]:
    value = cells[rows.index[error.column]] if error.column in rows.index else None
    return problem(rows.table.display, line, error.column, value, error.reason)


def read_reference(rows: Rows, lines: Iterator[tuple[int, list[str]]]) -> dict[str, str | None]:
    """A reference table (`ADM_ID;ADM_LB_NOM`…): code → label, a code twice is a problem."""
    code_column, label_column = TABLES[rows.table.name]
    ci, li = rows.index[code_column], rows.index[label_column]
    labels: dict[str, str | None] = {}
    for line, cells in lines:
        try:
            code = str(integer(cells[ci], code_column, required=True))
        except CellError as exc:
            rows.problems.append(fault(rows, line, cells, exc))
            continue
        if code in labels:
            rows.problems.append(
                problem(rows.table.display, line, code_column, cells[ci], "code en double")
            )
            continue
        labels[code] = cells[li].strip() or None
    return labels


def normal_code(value: str, column: str, *, required: bool = False) -> str | None:
    """A reference code as text, `023` and `23` alike; empty → None."""
    number = integer(value, column, required=required)
    return None if number is None else str(number)


def label(labels: dict[str, str | None], value: str, column: str, table: str) -> str | None:
    """The label of a code from its reference table; an unknown code is refused."""
    code = normal_code(value, column)
    if code is None:
        return None
    if code not in labels:
        raise CellError(column, f"code inconnu de la table {table}")
    return labels[code]


@dataclass
class References:
    exploitants: dict[str, str | None]
    proprietaires: dict[str, str | None]
    natures: dict[str, str | None]


def support_record(rows: Rows, line: int, cells: list[str], refs: References) -> tuple[Any, ...]:
    """(sup_id, sta, nature, proprietaire, hauteur_m, adresse, code_postal) of a kept line."""
    ix = rows.index
    height = decimal(cells[ix["SUP_NM_HAUT"]], "SUP_NM_HAUT")
    if height is not None and not 0 <= height < 100_000:
        raise CellError("SUP_NM_HAUT", "hauteur hors limites")
    postcode = cells[ix["ADR_NM_CP"]].strip()
    if postcode and not (postcode.isdigit() and 4 <= len(postcode) <= 5):
        raise CellError("ADR_NM_CP", "code postal illisible (5 chiffres attendus)")
    parts = (
        cells[ix[c]].strip() for c in ("ADR_LB_LIEU", "ADR_LB_ADD1", "ADR_LB_ADD2", "ADR_LB_ADD3")
    )
    address = ", ".join(p for p in parts if p)[:400] or None
    return (
        integer(cells[ix["SUP_ID"]], "SUP_ID", required=True),
        key(cells[ix["STA_NM_ANFR"]], "STA_NM_ANFR"),
        label(refs.natures, cells[ix["NAT_ID"]], "NAT_ID", "SUP_NATURE"),
        label(refs.proprietaires, cells[ix["TPO_ID"]], "TPO_ID", "SUP_PROPRIETAIRE"),
        height,
        address,
        postcode.zfill(5) if postcode else None,
    )


def station_record(rows: Rows, cells: list[str], refs: References) -> tuple[Any, ...]:
    """(sta, exploitant, date_implantation, date_modif, date_en_service)."""
    ix = rows.index
    return (
        key(cells[ix["STA_NM_ANFR"]], "STA_NM_ANFR"),
        label(refs.exploitants, cells[ix["ADM_ID"]], "ADM_ID", "SUP_EXPLOITANT"),
        parse_date(cells[ix["DTE_IMPLANTATION"]], "DTE_IMPLANTATION"),
        parse_date(cells[ix["DTE_MODIF"]], "DTE_MODIF"),
        parse_date(cells[ix["DTE_EN_SERVICE"]], "DTE_EN_SERVICE"),
    )


def emitter_record(rows: Rows, cells: list[str], sta: str) -> tuple[Any, ...]:
    """(emr_id, sta, systeme, technologie, aer_id, date_service)."""
    ix = rows.index
    system = cells[ix["EMR_LB_SYSTEME"]].strip()
    if not system:
        raise CellError("EMR_LB_SYSTEME", "valeur obligatoire vide")
    return (
        integer(cells[ix["EMR_ID"]], "EMR_ID", required=True),
        sta,
        system[:60],
        technology(system),
        integer(cells[ix["AER_ID"]], "AER_ID"),
        parse_date(cells[ix["EMR_DT_SERVICE"]], "EMR_DT_SERVICE"),
    )
