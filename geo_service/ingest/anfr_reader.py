"""Find and stream the tables of the ANFR bulk export (`SUP_*.txt`) as data.gouv.fr publishes them.

The export comes as `AAAAMMJJ-export-etalab-data.zip` (supports, stations, antennas, emitters,
bands) and a separate `AAAAMMJJ-export-etalab-ref.zip` (the reference tables: operators, owners,
natures); either may also be unpacked in a folder or sit in a sub-folder of a zip, with table names
in any case. Files are `;`-separated, Windows-1252, CRLF, with decimal commas. Lines are streamed
one at a time (a national SUP_EMETTEUR is about a million lines) with their 1-based line number.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from geo_service.errors import ImportRejectedError
from geo_service.ingest import csv_source
from geo_service.ingest.common import date_from_name, problem
from geo_service.ingest.journal import file_sha256

# The published column lists, table by table (the demo writer and the tests use them).
SUPPORT_COLUMNS = (
    "SUP_ID",
    "STA_NM_ANFR",
    "NAT_ID",
    "COR_NB_DG_LAT",
    "COR_NB_MN_LAT",
    "COR_NB_SC_LAT",
    "COR_CD_NS_LAT",
    "COR_NB_DG_LON",
    "COR_NB_MN_LON",
    "COR_NB_SC_LON",
    "COR_CD_EW_LON",
    "SUP_NM_HAUT",
    "TPO_ID",
    "ADR_LB_LIEU",
    "ADR_LB_ADD1",
    "ADR_LB_ADD2",
    "ADR_LB_ADD3",
    "ADR_NM_CP",
    "COM_CD_INSEE",
)
STATION_COLUMNS = (
    "STA_NM_ANFR",
    "ADM_ID",
    "DEM_NM_COMSIS",
    "DTE_IMPLANTATION",
    "DTE_MODIF",
    "DTE_EN_SERVICE",
)
EMETTEUR_COLUMNS = ("EMR_ID", "EMR_LB_SYSTEME", "STA_NM_ANFR", "AER_ID", "EMR_DT_SERVICE")
EXPLOITANT_COLUMNS = ("ADM_ID", "ADM_LB_NOM")
PROPRIETAIRE_COLUMNS = ("TPO_ID", "TPO_LB")
NATURE_COLUMNS = ("NAT_ID", "NAT_LB_NOM")
TABLES: dict[str, tuple[str, ...]] = {
    "SUP_SUPPORT": SUPPORT_COLUMNS,
    "SUP_STATION": STATION_COLUMNS,
    "SUP_EMETTEUR": EMETTEUR_COLUMNS,
    "SUP_EXPLOITANT": EXPLOITANT_COLUMNS,
    "SUP_PROPRIETAIRE": PROPRIETAIRE_COLUMNS,
    "SUP_NATURE": NATURE_COLUMNS,
}
REFERENCE_TABLES = ("SUP_EXPLOITANT", "SUP_PROPRIETAIRE", "SUP_NATURE")
# The columns the importer reads (any other column, such as DEM_NM_COMSIS, is optional).
REQUIRED: dict[str, tuple[str, ...]] = {
    **TABLES,
    "SUP_STATION": ("STA_NM_ANFR", "ADM_ID", "DTE_IMPLANTATION", "DTE_MODIF", "DTE_EN_SERVICE"),
}
ENCODING = "cp1252"
_TEXT_SUFFIXES = (".txt", ".csv")
_BLOCK = 1 << 20  # bytes read at once (whole lines of them parsed together)

Opener = Callable[[], IO[bytes]]
LineProgress = Callable[[int, int], None]  # bytes read, bytes in all


@dataclass
class Table:
    """One table of the export: its name (`SUP_SUPPORT`), its name in messages
    (`20240131-export-etalab-data.zip/SUP_SUPPORT.txt`), how to open it and its size."""

    name: str
    display: str
    open: Opener
    size: int


@dataclass
class AnfrSource:
    """The tables found for an import, the files they come from (for the checksum) and the
    export's date read from the names."""

    tables: dict[str, Table]
    files: list[Path]
    named_date: date | None = None

    def sha256(self) -> str:
        """Checksum of the delivery: of its one file, else of every file used, in name order."""
        if len(self.files) == 1:
            return file_sha256(self.files[0])
        digest = hashlib.sha256()
        for path in sorted(self.files, key=lambda p: p.name):
            digest.update(path.name.encode() + b"\0" + file_sha256(path).encode())
        return digest.hexdigest()


def _table_name(member: str) -> str | None:
    """`sub/Sup_Support.TXT` → `SUP_SUPPORT` when it is a table the importer reads."""
    base = member.replace("\\", "/").rsplit("/", 1)[-1]
    if base.startswith("._") or member.startswith("__MACOSX/"):
        return None
    stem, dot, suffix = base.rpartition(".")
    if not dot or "." + suffix.lower() not in _TEXT_SUFFIXES:
        return None
    name = stem.upper()
    return name if name in TABLES else None


def _zip_tables(path: Path) -> dict[str, Table]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise csv_source.reject(path.name, 0, "archive zip illisible ou corrompue") from exc
    found: dict[str, Table] = {}
    for info in archive.infolist():
        name = None if info.is_dir() else _table_name(info.filename)
        if name is None:
            continue
        display = f"{path.name}/{info.filename}"
        if name in found:
            raise _twice(name, found[name].display, display)
        if info.file_size > csv_source.MAX_UNPACKED_BYTES:
            raise csv_source.reject(display, 0, "contenu décompressé trop volumineux")
        found[name] = Table(name, display, _member_opener(archive, info), info.file_size)
    return found


def _member_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Opener:
    return lambda: archive.open(info)


def _file_opener(path: Path) -> Opener:
    return lambda: path.open("rb")


def _twice(name: str, first: str, second: str) -> ImportRejectedError:
    return csv_source.reject(first, 0, f"table {name} présente deux fois ({first} et {second})")


def _merge(into: dict[str, Table], more: dict[str, Table], only: tuple[str, ...] | None) -> None:
    for name, table in more.items():
        if only is not None and name not in only:
            continue
        if name in into:
            raise _twice(name, into[name].display, table.display)
        into[name] = table


def locate(path: Path) -> AnfrSource:
    """The tables of an export given as a zip (its reference tables inside it, or beside it: a
    `…ref….zip` or the `SUP_*.txt` files of the same folder) or as a folder (text files and zips,
    sub-folders included). A missing table is refused, naming it."""
    tables: dict[str, Table] = {}
    files: list[Path] = []
    named = date_from_name(path.name)
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            if item.suffix.lower() == ".zip":
                before = len(tables)
                _merge(tables, _zip_tables(item), None)
                if len(tables) > before:
                    files.append(item)
                    named = named or date_from_name(item.name)
            elif (name := _table_name(item.name)) is not None:
                display = f"{path.name}/{item.relative_to(path).as_posix()}"
                _merge(
                    tables,
                    {name: Table(name, display, _file_opener(item), item.stat().st_size)},
                    None,
                )
                files.append(item)
    else:
        tables = _zip_tables(path)
        files.append(path)
        missing = tuple(t for t in REFERENCE_TABLES if t not in tables)
        if missing:  # published apart, in the "-ref" zip: look beside the data zip
            _reference_beside(path, tables, files, missing)
    absent = [t for t in TABLES if t not in tables]
    if absent:
        raise ImportRejectedError(
            f"{path.name} : table(s) absente(s) de l'export ANFR : {', '.join(absent)} "
            "(les tables de référence sont publiées à part, dans l'archive « …-export-etalab-ref"
            ".zip » : placez-la à côté de l'archive des données ou donnez le dossier).",
            [problem(path.name, 0, None, t, "table absente de l'export") for t in absent],
        )
    return AnfrSource(tables, files, named)


def _reference_beside(
    path: Path, tables: dict[str, Table], files: list[Path], missing: tuple[str, ...]
) -> None:
    prefix = path.name[:8]
    candidates = sorted(
        (p for p in path.parent.glob("*") if p.is_file() and p != path),
        key=lambda p: (not p.name.startswith(prefix), p.name),  # same date first
    )
    for item in candidates:
        if not missing:
            return
        if item.suffix.lower() == ".zip" and "ref" in item.name.lower():
            found = {n: t for n, t in _zip_tables(item).items() if n in missing}
        elif (name := _table_name(item.name)) in missing:
            found = {name: Table(name, item.name, _file_opener(item), item.stat().st_size)}
        else:
            continue
        if found:
            _merge(tables, found, missing)
            files.append(item)
            missing = tuple(t for t in missing if t not in found)


@dataclass
class Rows:
    """A table's header positions and the problems met while streaming it."""

    table: Table
    index: dict[str, int]
    problems: list[dict[str, Any]] = field(default_factory=list)
    lines: int = 0  # data lines read (blank ones excepted)

    def column(self, name: str) -> int:
        return self.index[name]


def stream(
    table: Table, *, on_progress: LineProgress | None = None
) -> tuple[Rows, Iterator[tuple[int, list[str]]]]:
    """Open `table`: its header (refused if a read column is missing), then an iterator of
    (line, cells) for each well-formed data line; bad lines go to `Rows.problems`."""
    handle: Any = io.BufferedReader(table.open(), 1 << 20)  # type: ignore[type-var]
    head = handle.peek(1 << 16)[: 1 << 16]
    csv_source.reject_binary(table.display, head)
    first = handle.readline()
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    header = [
        h.strip().upper() for h in first.decode(ENCODING, "replace").rstrip("\r\n").split(";")
    ]
    if not any(header):
        raise csv_source.reject(
            table.display, 1, "la première ligne (en-tête des colonnes) est vide"
        )
    missing = [c for c in REQUIRED[table.name] if c not in header]
    if missing:
        raise ImportRejectedError(
            f"{table.display}, ligne 1 : colonne(s) obligatoire(s) absente(s) : {', '.join(missing)}.",
            [problem(table.display, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    rows = Rows(table, {h: i for i, h in reversed(list(enumerate(header)))})
    return rows, _lines(handle, rows, len(header), on_progress)


def _lines(
    handle: Any, rows: Rows, width: int, on_progress: LineProgress | None
) -> Iterator[tuple[int, list[str]]]:
    """Read 1 MiB blocks of whole lines: an ASCII block is decoded at once, the others line by
    line (the file's encoding is decided by its first non-ASCII line)."""
    file = rows.table.display
    encoding: str | None = None
    number = 1  # the header
    pending = b""
    with handle:
        while True:
            chunk = handle.read(_BLOCK)
            if not chunk and not pending:
                return
            data = pending + chunk
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            if not cut:
                if len(data) > csv_source.MAX_LINE_BYTES:
                    raise csv_source.reject(file, number + 1, "ligne démesurée (plus de 1 Mo)")
                pending = data
                continue
            block, pending = data[:cut], data[cut:]
            if block.isascii():
                texts: list[str] = block.decode("ascii").split("\n")
            else:
                texts = []
                for n, raw in enumerate(block.split(b"\n"), start=number + 1):
                    if raw.isascii():
                        texts.append(raw.decode("ascii"))
                        continue
                    encoding = encoding or _guess(raw)
                    text, reason = _decode(raw, encoding)
                    if reason is not None:
                        rows.problems.append(problem(file, n, None, text.strip()[:200], reason))
                        rows.lines += 1
                        text = ""  # set aside, as a blank line
                    texts.append(text)
            if block.endswith(b"\n"):
                texts.pop()  # after the last line end
            for text in texts:
                number += 1
                text = text.rstrip("\r")
                if not text or not text.strip():
                    continue
                rows.lines += 1
                cells = next(csv.reader([text], delimiter=";")) if '"' in text else text.split(";")
                if len(cells) != width and (
                    len(cells) < width or any(c.strip() for c in cells[width:])
                ):
                    reason = f"nombre de champs incorrect : {len(cells)} au lieu de {width}"
                    rows.problems.append(problem(file, number, None, text[:200], reason))
                    continue
                yield number, cells
            if on_progress is not None:
                on_progress(handle.tell(), rows.table.size)
            if not chunk:
                return


def _guess(raw: bytes) -> str:
    """The file's encoding from its first non-ASCII line: UTF-8 when it reads as UTF-8 (a file
    saved again by a spreadsheet), else Windows-1252 as the ANFR publishes."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return ENCODING
    return "utf-8"


def _decode(raw: bytes, encoding: str) -> tuple[str, str | None]:
    """The line's text, and why it is refused when its bytes do not fit the file's encoding."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        shown = raw.decode("latin-1")
        if encoding == "utf-8":
            return shown, "encodage incohérent : ligne en Windows-1252 dans un fichier en UTF-8"
        return shown, "encodage incorrect : octets invalides en Windows-1252 (cp1252)"
    if encoding == ENCODING:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return text, None
        return text, "encodage incohérent : ligne en UTF-8 dans un fichier en Windows-1252 (cp1252)"
    return text, None
