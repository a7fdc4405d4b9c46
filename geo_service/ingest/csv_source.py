"""Decode a delimited text export (plain, gzip or zip; UTF-8 or Latin-1) into numbered cells.

Format-agnostic: the exchange-format readers (IPE…) get stripped text cells, the 1-based line of
each record in the file (header = line 1) and the structural problems (wrong field counts);
file-level faults raise ImportRejectedError with one French problem.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from geo_service.errors import ImportRejectedError

MAX_LINE_BYTES = 1 << 20
# a compressed file is refused once its content passes this (a zip or gzip bomb); read at call
# time, so tests can lower it
MAX_UNPACKED_BYTES = 2 << 30
_CHUNK = 1 << 20
_EXTRA_FIELDS_CAP = 16  # lines with more fields than header + this are set aside before pandas
_VALUE_PREVIEW = 200
_DELIMITER_NAMES = {",": ",", "\t": "tabulation", "|": "|", ";": ";"}
_TEXT_BYTES = bytes(range(32, 256)) + b"\t\n\r\x0c\x1a"
_SENTINELS = "\x01\x02\x03\x04\x05\x06\x07\x08"


@dataclass
class Problem:
    """One rejected file, line or cell; `reason` is in French."""

    file: str
    line: int
    column: str | None
    value: str | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class DelimitedText:
    """A decoded delimited file: header, stripped cells (columns 0..n-1 = header positions)."""

    file: str  # name used in problems ("archive.zip/member.csv" for a zip member)
    sha256: str  # of the file as stored (compressed or not)
    encoding: str  # "utf-8", "utf-8-sig" or "latin-1" (bytes 0x80-0x9F read as cp1252)
    header: list[str]
    cells: pd.DataFrame  # object dtype, python str, one row per well-formed record
    lines: np.ndarray  # 1-based line of each row of `cells`
    line_count: int  # non-blank data records read, well-formed or not
    member: str | None = None  # name of the CSV inside a zip
    problems: list[Problem] = field(default_factory=list)  # records with a wrong field count


class _Records(NamedTuple):
    """Data records as an object grid, with their field counts and first and last lines."""

    grid: np.ndarray  # (n, width): short records padded with "", surplus folded in the last cell
    nfields: np.ndarray
    lines: np.ndarray
    ends: np.ndarray


def fmt_int(value: int) -> str:
    """12345678 → '12 345 678' (French digit grouping, plain spaces)."""
    return f"{value:,}".replace(",", " ")


def reject(
    file: str, line: int, reason: str, *, column: str | None = None, value: str | None = None
) -> ImportRejectedError:
    """The file-level error: one problem, message '<file>, ligne N : <reason>'."""
    where = f"{file}, ligne {line}" if line > 0 else file
    problem = Problem(file, line, column, value, reason)
    return ImportRejectedError(f"{where} : {reason}", [problem.as_dict()])


def read_delimited(path: Path, *, delimiter: str = ";") -> DelimitedText:
    """Read `path` (.csv, .csv.gz or .zip holding one .csv) and split it into cells."""
    raw = path.read_bytes()
    sha256 = hashlib.sha256(raw).hexdigest()
    data, member = unpack(path, raw)
    file = f"{path.name}/{member}" if member else path.name
    if not data.strip(b" \t\r\n\x0c\x1a"):
        raise reject(file, 0, "fichier vide")
    reject_binary(file, data)
    breaks = _line_breaks(data)
    _reject_long_lines(file, data, breaks)
    text, encoding = decode(file, data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    header = _read_header(file, text, delimiter)
    records = _split(file, text, data, breaks, delimiter, len(header))
    cells, lines, line_count, problems = _check_structure(
        file,
        records,
        len(header),
        delimiter,
        unterminated=not text.endswith("\n"),
        padded=may_be_padded(data, delimiter),
    )
    return DelimitedText(file, sha256, encoding, header, cells, lines, line_count, member, problems)


def unpack(path: Path, raw: bytes) -> tuple[bytes, str | None]:
    """Uncompress gzip, extract the single CSV of a zip, or pass plain text through."""
    name = path.name.lower()
    if name.endswith(".gz") or raw[:2] == b"\x1f\x8b":
        return _gunzip(path.name, raw), None
    if name.endswith(".zip") or raw[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _unzip(path.name, raw)
    return raw, None


def _unzip(file: str, raw: bytes) -> tuple[bytes, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise reject(file, 0, "archive zip illisible ou corrompue") from exc
    entries = archive.infolist()
    csvs = [
        e
        for e in entries
        if not e.is_dir()
        and e.filename.lower().endswith(".csv")
        and not e.filename.startswith("__MACOSX/")
        and not Path(e.filename).name.startswith("._")
    ]
    if not csvs:
        if any(e.filename == "[Content_Types].xml" for e in entries):
            raise reject(file, 0, "classeur Excel (.xlsx) : exportez-le en CSV séparé par « ; »")
        raise reject(file, 0, "l'archive zip ne contient aucun fichier .csv")
    if len(csvs) > 1:
        names = ", ".join(e.filename for e in csvs)
        raise reject(
            file, 0, f"l'archive zip contient {len(csvs)} fichiers .csv ({names}) : un seul attendu"
        )
    if csvs[0].file_size > MAX_UNPACKED_BYTES:  # as declared: refused before inflating
        raise _too_big(file)
    try:
        with archive.open(csvs[0]) as stream:
            return _read_capped(file, stream.read), csvs[0].filename
    except RuntimeError as exc:  # encrypted member
        raise reject(file, 0, "archive zip protégée par mot de passe") from exc
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError) as exc:
        raise reject(file, 0, "fichier compressé tronqué ou corrompu") from exc


def _gunzip(file: str, raw: bytes) -> bytes:
    """Every member of a gzip file, each inflated by one zlib call that stops past
    MAX_UNPACKED_BYTES (GzipFile's chunked reads copied a 1 GB content twice more: ~0.9 s of
    a fortnightly import at 10 % of France); zero padding after a member is allowed, as gzip
    does."""
    parts = list(gunzip_pieces(file, raw, size=MAX_UNPACKED_BYTES + 1))
    return parts[0] if len(parts) == 1 else b"".join(parts)


def gunzip_pieces(file: str, raw: bytes, size: int = 1 << 23) -> Iterator[bytes]:
    """The content of a gzip file piece by piece (at most `size` bytes each; zero padding after
    a member allowed), refused when truncated, corrupt or past MAX_UNPACKED_BYTES, as soon as
    reached: for a caller that sends each piece on while the next one is inflated (zlib lets
    other threads run meanwhile)."""
    cap = MAX_UNPACKED_BYTES
    total = 0
    rest = raw
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            while not inflater.eof:
                piece = inflater.decompress(rest, min(size, cap + 1 - total))
                rest = inflater.unconsumed_tail
                if not piece and not rest and not inflater.eof:
                    raise zlib.error("membre gzip incomplet")
                total += len(piece)
                if total > cap:
                    raise _too_big(file)
                if piece:
                    yield piece
            rest = inflater.unused_data.lstrip(b"\x00")
    except zlib.error as exc:
        raise reject(file, 0, "fichier compressé tronqué ou corrompu") from exc


def _read_capped(file: str, read: Callable[[int], bytes]) -> bytes:
    """The decompressed content, refused as soon as it passes MAX_UNPACKED_BYTES (whatever the
    archive declares)."""
    cap = MAX_UNPACKED_BYTES
    parts: list[bytes] = []
    size = 0
    while chunk := read(min(_CHUNK, cap + 1 - size)):
        size += len(chunk)
        if size > cap:
            raise _too_big(file)
        parts.append(chunk)
    return b"".join(parts)


def _too_big(file: str) -> ImportRejectedError:
    cap = MAX_UNPACKED_BYTES
    limit = f"{fmt_int(cap >> 20)} Mo" if cap >= 1 << 20 else f"{fmt_int(cap)} octets"
    return reject(
        file, 0, f"contenu décompressé trop volumineux (plus de {limit}) : archive refusée"
    )


def reject_binary(file: str, data: bytes) -> None:
    """Refuse UTF-16 and binary content (NUL bytes, or more than 1 % control characters)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise reject(file, 0, "fichier encodé en UTF-16 : enregistrez-le en UTF-8 ou en Latin-1")
    sample = data[: 1 << 16]
    if b"\x00" in data or len(sample.translate(None, _TEXT_BYTES)) > len(sample) // 100:
        raise reject(file, 0, "contenu binaire : ce n'est pas un fichier texte CSV")


def _line_breaks(data: bytes) -> np.ndarray:
    """Offsets of the line ends: LF, CRLF (its LF) or a lone CR, as universal newlines do."""
    b = np.frombuffer(data, dtype=np.uint8)
    lf = b == 10
    lone_cr = b == 13
    lone_cr[:-1] &= ~lf[1:]
    return np.flatnonzero(lf | lone_cr)


def _reject_long_lines(file: str, data: bytes, breaks: np.ndarray) -> None:
    """Refuse any line over MAX_LINE_BYTES before anything copies or parses it."""
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(data)]))
    too_long = np.flatnonzero(ends - starts > MAX_LINE_BYTES)
    if too_long.size:
        i = int(too_long[0])
        line = data[starts[i] : ends[i]].rstrip(b"\r")
        try:
            chars = len(line.decode("utf-8"))
        except UnicodeDecodeError:
            chars = len(line)
        raise reject(file, i + 1, f"ligne trop longue ({fmt_int(chars)} caractères)")


def decode(file: str, data: bytes) -> tuple[str, str]:
    """Strict UTF-8 (with or without BOM) first, else Latin-1 read as cp1252 where it can be."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start + 3) + 1
            raise reject(
                file,
                line,
                "fichier marqué UTF-8 (BOM) mais contenant des octets invalides en UTF-8",
            ) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "latin-1"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _read_header(file: str, text: str, delimiter: str) -> list[str]:
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise reject(file, 1, "la première ligne (en-tête des colonnes) est vide")
    if delimiter not in first:
        others = [d for d in _DELIMITER_NAMES if d != delimiter and d in first]
        if others:
            found = max(others, key=first.count)
            raise reject(
                file,
                1,
                f"séparateur attendu « {_DELIMITER_NAMES[delimiter]} », "
                f"trouvé « {_DELIMITER_NAMES[found]} »",
            )
    return next(csv.reader([first], delimiter=delimiter))


def _split(
    file: str, text: str, data: bytes, breaks: np.ndarray, delimiter: str, ncols: int
) -> _Records:
    """Data records as a raw grid (one column per field, the last one folding any surplus), with
    their field counts and lines: pandas' C parser, or the csv module when a quoted field spans
    lines (only then are records and lines not one to one)."""
    nlines = len(breaks) + (0 if data[-1:] in (b"\n", b"\r") else 1)
    b = np.frombuffer(data, dtype=np.uint8)
    per_line = np.bincount(
        np.searchsorted(breaks, np.flatnonzero(b == ord(delimiter))), minlength=nlines
    )[:nlines]
    cap = ncols + _EXTRA_FIELDS_CAP
    width = max(min(int(per_line.max()) + 1, cap), ncols) + 1
    sentinel = next((s for s in _SENTINELS if s not in text), None)
    if nlines > 1 and sentinel is not None:
        wide = np.flatnonzero(per_line[1:] + 1 > cap) + 2  # set aside, parsed one by one below
        body = text if text.endswith("\n") else text + "\n"
        try:
            frame = pd.read_csv(
                io.StringIO(body.replace("\n", delimiter + sentinel + "\n")),
                sep=delimiter,
                header=None,
                names=range(width),
                dtype=object,
                na_filter=False,
                skip_blank_lines=False,
                engine="c",
                index_col=False,
                quotechar='"',
                skiprows=[0, *(wide - 1).tolist()],
            )
        except (pd.errors.ParserError, ValueError):
            frame = None
        if frame is not None:
            grid = frame.to_numpy(dtype=object)
            found = grid == sentinel
            nfields = np.where(found.any(axis=1), found.argmax(axis=1), -1)
            if (nfields >= 0).all() and len(frame) == nlines - 1 - len(wide):
                grid[found] = ""  # every record on its own line: lines map one to one
                lines = np.setdiff1d(np.arange(2, nlines + 1), wide)
                if wide.size:
                    physical = text.split("\n")
                    extra = [next(csv.reader([physical[k - 1]], delimiter=delimiter)) for k in wide]
                    grid = np.concatenate((grid, _fold(extra, width)))
                    nfields = np.concatenate((nfields, [len(r) for r in extra]))
                    order = np.argsort(np.concatenate((lines, wide)), kind="stable")
                    grid, nfields = grid[order], nfields[order]
                    lines = np.concatenate((lines, wide))[order]
                return _Records(grid, nfields, lines, lines)
            spans = _quoted_spans(b, breaks, nlines) if not wide.size else None
            if (nfields >= 0).all() and spans is not None and len(spans[0]) == len(frame):
                grid[found] = ""  # quoted line breaks: records located by quote parity
                marker = delimiter + sentinel + "\n"  # was added inside the quoted breaks
                for i in np.flatnonzero(spans[1] > spans[0]):
                    grid[i] = [v.replace(marker, "\n") for v in grid[i]]
                return _Records(grid, nfields, spans[0], spans[1])
    records, starts, ends = _csv_records(file, text, delimiter)
    return _Records(
        _fold(records[1:], width),
        np.array([len(r) for r in records[1:]], dtype=np.int64),
        np.array(starts[1:], dtype=np.int64),
        np.array(ends[1:], dtype=np.int64),
    )


def _quoted_spans(
    b: np.ndarray, breaks: np.ndarray, nlines: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """First and last line of each data record when quoted fields hold line breaks: a break
    ends a record when an even number of quotes precedes it (RFC 4180 quoting)."""
    quotes = np.flatnonzero(b == ord('"'))
    ends = np.flatnonzero(np.searchsorted(quotes, breaks) % 2 == 0) + 1
    if nlines > len(breaks):
        ends = np.append(ends, nlines)
    if not ends.size or ends[0] != 1:  # the header must be one line
        return None
    return ends[:-1] + 1, ends[1:]


def _csv_records(
    file: str, text: str, delimiter: str
) -> tuple[list[list[str]], list[int], list[int]]:
    """All records with the lines each starts and ends on, by the csv module (slow path)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: list[list[str]] = []
    starts: list[int] = []
    ends: list[int] = []
    previous = 0
    try:
        for record in reader:
            records.append(record)
            starts.append(previous + 1)
            previous = reader.line_num
            ends.append(previous)
    except csv.Error as exc:
        raise reject(
            file,
            previous + 1,
            "guillemet ouvert jamais refermé ou champ démesuré à partir de cette ligne",
        ) from exc
    return records, starts, ends


def _fold(records: list[list[str]], width: int) -> np.ndarray:
    """Records as a (n, width) object grid: short ones padded with "", long ones folded into
    the last column (their surplus fields, stripped and concatenated)."""
    grid = np.empty((len(records), width), dtype=object)
    for i, r in enumerate(records):
        if len(r) >= width:
            r = [*r[: width - 1], "".join(v.strip() for v in r[width - 1 :])]
        else:
            r = r + [""] * (width - len(r))
        grid[i] = r
    return grid


def may_be_padded(data: bytes, delimiter: str) -> bool:
    """Whether any cell may start or end with a space (clean exports skip the stripping pass).

    Looks for blank bytes (space, tab, VT, FF, NBSP's last byte) before a delimiter or line end,
    blank or multi-byte-space lead bytes after one, and quotes (quoted cells may hold spaces).
    Each byte is first mapped to its class (blank → space, delimiter or line end → delimiter)
    so that two substring searches do the work.
    """
    if b'"' in data:
        return True
    before = data.translate(_edge_classes(delimiter, _BLANK_BEFORE))
    after = data.translate(_edge_classes(delimiter, _BLANK_AFTER))
    edge = delimiter.encode()
    return b" " + edge in before or edge + b" " in after or after[:1] == b" " or before[-1:] == b" "


_BLANK_BEFORE = bytes([32, 9, 11, 12, 0xA0, 0xAF])
_BLANK_AFTER = bytes([32, 9, 11, 12, 0xA0, 0xC2, 0xE2, 0xE3])


@cache
def _edge_classes(delimiter: str, blanks: bytes) -> bytes:
    table = bytearray(range(256))
    for byte in blanks:
        table[byte] = 32
    for byte in (ord(delimiter), 10, 13):
        table[byte] = ord(delimiter)
    return bytes(table)


def _check_structure(
    file: str,
    records: _Records,
    ncols: int,
    delimiter: str,
    *,
    unterminated: bool,
    padded: bool,
) -> tuple[pd.DataFrame, np.ndarray, int, list[Problem]]:
    """Strip the cells, drop blank records, and report those whose field count is wrong."""
    grid, nfields, lines = records.grid, records.nfields, records.lines
    n, width = grid.shape
    if padded:
        columns = [np.array([v.strip() for v in grid[:, j]], dtype=object) for j in range(width)]
    else:
        columns = [grid[:, j] for j in range(width)]
    main_blank = np.ones(n, dtype=bool)
    for col in columns[:ncols]:
        main_blank &= col == ""
    extras = np.zeros(n, dtype=bool)
    for col in columns[ncols:]:
        extras |= col != ""
    blank = main_blank & ~extras
    ok = ~blank & ((nfields == ncols) | ((nfields > ncols) & ~extras))
    problems = []
    for i in np.flatnonzero(~blank & ~ok):
        count = int(nfields[i])
        preview = delimiter.join(str(columns[j][i]) for j in range(min(count, width)))
        if len(preview) > _VALUE_PREVIEW:
            preview = preview[:_VALUE_PREVIEW] + "…"
        if unterminated and i == n - 1 and count < ncols:
            reason = f"ligne tronquée : {count} champs au lieu de {ncols}"
        else:
            reason = f"nombre de champs incorrect : {count} au lieu de {ncols}"
            if records.ends[i] > lines[i]:
                reason += (
                    f" (guillemet non refermé ? l'enregistrement court jusqu'à la ligne "
                    f"{records.ends[i]})"
                )
        problems.append(Problem(file, int(lines[i]), None, preview, reason))
    cells = pd.DataFrame({j: pd.Series(columns[j][ok], dtype=object) for j in range(ncols)})
    return cells, lines[ok].astype(np.int64), int((~blank).sum()), problems
