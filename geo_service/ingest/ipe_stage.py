"""Put an IPE snapshot into the temporary table `stage_ipe` that the merge reads.

Two ways, same result:
- fast: PostgreSQL reads the decoded text line by line (COPY into a temporary table), skips the
  lines whose fingerprint is the one stored on their premise, and one set-based query checks the
  other lines against the canonical forms of the exchange format (cells plain or wholly quoted,
  no padded cells, plain integers, ISO dates, Lambert-93 decimals inside the territory, known
  communes and PM, unique identifiers…); a typed copy then becomes `stage_ipe`. No Python loop
  over the rows.
- thorough: `ipe_reader.read_ipe` parses and checks in Python, accepts the tolerated variants
  (DD/MM/YYYY dates, decimal commas, WGS84, padded cells, aliases…) and writes the French report
  naming file, line, column, value and reason; its rows are then COPYed into `stage_ipe`.

The fast way only ever accepts files the thorough reader accepts with the very same values; at
the first doubt (a COPY error, one row outside the canonical forms, a duplicate…) it undoes what
it did (savepoint) and the caller takes the thorough way, which produces the precise report.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import psycopg
from psycopg.copy import QueuedLibpqWriter
from psycopg.errors import CharacterNotInRepertoire
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geo_service.errors import ImportRejectedError
from geo_service.ingest import csv_source as source
from geo_service.ingest.ipe_reader import (
    ETATS_IMMEUBLE,
    ETATS_PM,
    MAX_LOGEMENTS,
    map_columns,
    parse_projection,
    snapshot_date,
)
from geo_service.sql import statements

log = logging.getLogger(__name__)

STAGE_COLUMNS = [
    ("line", "int"),
    ("identifiant_immeuble", "text"),
    ("code_adresse", "text"),
    ("insee", "text"),
    ("code_postal", "text"),
    ("commune", "text"),
    ("numero", "text"),
    ("complement", "text"),
    ("type_voie", "text"),
    ("nom_voie", "text"),
    ("batiment", "text"),
    ("x", "float8"),
    ("y", "float8"),
    ("logements", "int"),
    ("locaux_pro", "int"),
    ("etat", "text"),
    ("reference_pm", "text"),
    ("etat_pm", "text"),
    ("date_signature", "date"),
    ("date_installation_pm", "date"),
    ("type_pbo", "text"),
    ("type_racco", "text"),
    ("raccordement_long", "boolean"),
    ("code_oi", "text"),
    ("date_mes_commerciale", "date"),
    ("source_hash", "bigint"),
    ("premise_id", "bigint"),
]
_TEMP_TABLES = (
    "raw_line, ipe_line, stage_ipe, changed_premise, stage_pm, later_pm, changed_pm, gone_premise"
)
_POSITIONS = {  # bind parameter p_<key> → IPE column
    "id": "IdentifiantImmeuble",
    "adresse": "CodeAdresseImmeuble",
    "insee": "CodeInseeImmeuble",
    "cp": "CodePostalImmeuble",
    "commune": "CommuneImmeuble",
    "numero": "NumeroVoieImmeuble",
    "complement": "ComplementNumeroVoieImmeuble",
    "type_voie": "TypeVoieImmeuble",
    "nom_voie": "NomVoieImmeuble",
    "batiment": "BatimentImmeuble",
    "x": "CoordonneeImmeubleX",
    "y": "CoordonneeImmeubleY",
    "projection": "TypeProjectionGeographique",
    "logements": "NombreLogementsAdresseIPE",
    "locaux": "NombreLocauxProfessionnels",
    "etat": "EtatImmeuble",
    "pm": "ReferencePM",
    "etat_pm": "EtatPM",
    "date_signature": "DateSignatureConvention",
    "date_pm": "DateInstallationPM",
    "pbo": "TypePBO",
    "racco": "TypeRaccoPBPTO",
    "long": "RaccordementLong",
    "oi": "CodeOI",
    "date_mes": "DateMiseEnServiceCommercialeImmeuble",
}


@dataclass
class FastStage:
    """What the fast way learnt of the file while staging it."""

    sha256: str
    snapshot_date: date | None
    line_count: int
    operators: list[str]


def drop_temp_tables(conn: Connection) -> None:
    """Several imports may share one transaction (batch, tests): start from clean temp tables."""
    conn.execute(text(f"DROP TABLE IF EXISTS {_TEMP_TABLES}"))


def stage_fast(
    conn: Connection,
    path: Path,
    *,
    territory: str,
    bounds: tuple[float, float, float, float],
) -> FastStage | None:
    """Stage a clean file with COPY and set-based checks; None when the file needs the reader."""
    raw = path.read_bytes()
    info = conn.connection.driver_connection.info  # type: ignore[union-attr]
    checked = {info.parameter_status(k) for k in ("server_encoding", "client_encoding")}
    as_utf8 = checked == {"UTF8"}  # (SQL_ASCII would check nothing)
    staged = _stage_text(conn, path, raw, territory=territory, bounds=bounds, as_utf8=as_utf8)
    if staged is _DECODED_WAY:  # decoded here (Latin-1 read as cp1252, CR), sent as text
        staged = _stage_text(conn, path, raw, territory=territory, bounds=bounds, as_utf8=False)
    return None if staged is _DECODED_WAY else staged  # type: ignore[return-value]


_DECODED_WAY = object()


def _stage_text(
    conn: Connection,
    path: Path,
    raw: bytes,
    *,
    territory: str,
    bounds: tuple[float, float, float, float],
    as_utf8: bool,
) -> FastStage | object | None:
    """stage_fast; `as_utf8`: the bytes are sent as they are, PostgreSQL checking them as UTF-8
    as strictly as Python's codec does, instead of decoding them here first (0.12 s of a
    fortnight at 1 % of France); _DECODED_WAY when they are not UTF-8, or when a gzip file sent
    piece by piece shows a CR further on."""
    decoded = _decoded_text(path, raw, as_utf8=as_utf8)
    if decoded is None:
        return None
    first, lines, member, needs_reader = decoded
    header = next(csv.reader([first], delimiter=";"))
    try:
        positions = map_columns(path.name, header)
    except ImportRejectedError:
        return None
    drop_temp_tables(conn)
    conn.execute(text("CREATE TEMP TABLE raw_line (line text) ON COMMIT DROP"))
    savepoint = conn.begin_nested()
    sql = statements("ipe_stage")
    xmin, ymin, xmax, ymax = bounds
    params: dict[str, object] = {
        f"p_{key}": positions[name] + 1 if name in positions else None
        for key, name in _POSITIONS.items()
    }
    params |= {
        # the header as read (quoted or not: same seed; an unquoted header is the line itself)
        "seed": int.from_bytes(
            hashlib.sha256(";".join(header).encode()).digest()[:8], "big", signed=True
        ),
        "ncols": len(header),
        "t": territory,
        "etats": list(ETATS_IMMEUBLE),
        "etats_pm": list(ETATS_PM),
        "max_count": MAX_LOGEMENTS,
        "xmin": max(xmin, 0.0),
        "xmax": min(xmax, 1.3e6),
        "ymin": max(ymin, 6.0e6),
        "ymax": min(ymax, 7.2e6),
        "padded": _PADDED,
        "simply_quoted": _SIMPLY_QUOTED,
    }
    try:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        # one line per row: text format (the cheapest to parse) with a separator that cannot
        # occur in the file; no backslash either (checked below), so nothing is unescaped
        copy_sql = "COPY raw_line (line) FROM STDIN (FORMAT text, DELIMITER E'\\x1f')"
        # a worker thread sends the data lines while this one looks for what needs the reader
        with cursor.copy(copy_sql, writer=QueuedLibpqWriter(cursor)) as copy:
            for piece in lines if isinstance(lines, _Pieces) else (lines,):
                copy.write(piece)
            clean = not needs_reader()
        if clean:
            # a territory without premises (a first load): nothing to compare, nothing to count
            empty = not conn.execute(text(sql["has_premises"]), {"t": territory}).scalar_one()
            lines_sql = sql["first_lines" if empty else "lines"]
            conn.execute(text(lines_sql.format(file_lines=sql["file_lines"])), params)
            # the changed lines in the order of their premises: the merge then reads and
            # rewrites `premise` page after page, not at random (a first load has none)
            typed = sql["typed"] + ("" if empty else "\nORDER BY r.premise_id")
            conn.execute(text(typed), params)
            check = conn.execute(text(sql["check"]), {"first": empty}).mappings().one()
            clean = (
                check["rows"] > 0
                and check["identifiers"] == check["rows"]
                and (check["longest"] or 0) <= source.MAX_LINE_BYTES
                and check["outside_canonical_forms"] == 0
                and all(_lambert93(p) for p in check["projections"] or [])
            )
    except (DBAPIError, psycopg.Error, _Decode, _Binary, ImportRejectedError) as exc:
        # malformed CSV, impossible date, a gzip file's CR, NUL or corrupt end further on…
        log.debug("%s : voie rapide abandonnée (%r)", path.name, exc)
        if isinstance(exc, _Decode) or (
            as_utf8 and isinstance(getattr(exc, "orig", exc), CharacterNotInRepertoire)
        ):
            savepoint.rollback()
            return _DECODED_WAY
        clean = False
    if not clean:
        savepoint.rollback()
        return None
    savepoint.commit()
    conn.execute(text("DROP TABLE raw_line; ALTER TABLE stage_ipe DROP COLUMN projection"))
    return FastStage(
        sha256=hashlib.sha256(raw).hexdigest(),
        snapshot_date=snapshot_date(path.name) or snapshot_date(member or ""),
        line_count=int(check["rows"]),
        operators=sorted(check["operators"] or []) or ["?"],
    )


def _lambert93(projection: str | None) -> bool:
    """Empty (then the ranges checked above say Lambert-93) or declared Lambert-93."""
    return projection is None or parse_projection(projection)[0] == 2154


def _decoded_text(
    path: Path, raw: bytes, *, as_utf8: bool
) -> tuple[str, memoryview | str | _Pieces, str | None, Callable[[], bool]] | None:
    """The file's header line, its data lines to send (with `as_utf8`, the file's own bytes when
    they are the text in UTF-8 without BOM nor CR, a gzip file's piece by piece; else its text
    with LF line ends), the archive member, and whether the file needs the reader
    (`_needs_reader`, once the lines are sent); None when it is not a plain CSV."""
    try:
        if as_utf8 and (path.name.lower().endswith(".gz") or raw[:2] == b"\x1f\x8b"):
            pieces = _Pieces.of(path.name, raw)
            if pieces is not None:
                return pieces.first, pieces, None, lambda: pieces.needs_reader
        data, member = source.unpack(path, raw)
        source.reject_binary(path.name, data)
        end = data.find(b"\n")
        if as_utf8 and not data.startswith(codecs.BOM_UTF8) and b"\r" not in data:
            try:
                first = (data if end < 0 else data[:end]).decode("utf-8")
            except UnicodeDecodeError:
                pass  # not UTF-8: decoded below
            else:
                lines = memoryview(data)[len(data) if end < 0 else end + 1 :]
                return first, lines, member, lambda: _needs_reader(data)
        text_, _encoding = source.decode(path.name, data)
    except ImportRejectedError:
        return None
    text_ = text_.replace("\r\n", "\n").replace("\r", "\n")
    first, _, lines_ = text_.partition("\n")
    return first, lines_, member, lambda: _needs_reader(data)


class _Decode(Exception):
    """A gzip file holds a CR further on: it takes the decoded way."""


class _Binary(Exception):
    """A gzip file holds a NUL byte further on: the reader refuses it."""


_PIECE_BYTES = 1 << 23


class _Pieces:
    """The data lines of a gzip file in UTF-8, inflated piece by piece while COPY sends the
    previous ones (inflating alongside the server's reading instead of before it: at 1 % of
    France, 0.2 s less of the fortnight outside SQL; and no copy of the whole content in
    memory), checked on the way as a whole file
    is: a CR sends the file the decoded way (_Decode, raised while sending), a NUL byte to the
    reader that refuses it (_Binary); the separator or a backslash make `needs_reader` true (a
    blank file has no header: it never gets here)."""

    def __init__(self, first: str, rest: bytes, more: Iterator[bytes], file: str) -> None:
        self.first, self.rest, self.more, self.file = first, rest, more, file
        self.needs_reader = False

    @classmethod
    def of(cls, file: str, raw: bytes) -> _Pieces | None:
        """The header read from the first pieces; None when the file takes another way (BOM,
        CR or no UTF-8 in its beginning, no line end in its first MAX_LINE_BYTES)."""
        more = source.gunzip_pieces(file, raw, size=_PIECE_BYTES)
        head = b""
        for piece in more:  # (one piece but for a small file)
            head += piece
            if len(head) > source.MAX_LINE_BYTES or (len(head) >= 1 << 16 and b"\n" in head):
                break
        source.reject_binary(file, head)  # (UTF-16 marks, NUL, control characters)
        end = head.find(b"\n")
        if (
            head.startswith(codecs.BOM_UTF8)
            or b"\r" in head
            or not 0 <= end < source.MAX_LINE_BYTES
        ):
            return None
        try:
            first = head[:end].decode("utf-8")
        except UnicodeDecodeError:
            return None
        return cls(first, head[end + 1 :], more, file)

    def __iter__(self) -> Iterator[bytes]:
        yield self._checked(self.rest)
        for piece in self.more:
            yield self._checked(piece)

    def _checked(self, piece: bytes) -> bytes:
        if b"\r" in piece:
            raise _Decode
        if b"\x00" in piece:
            raise _Binary
        if b"\x1f" in piece or b"\\" in piece:
            self.needs_reader = True
        return piece


def _needs_reader(data: bytes) -> bool:
    """What the fast way does not handle, seen in the whole file: a blank file, the separator
    COPY is told to use, a backslash (COPY's text format would read it as an escape). Quotes
    and padded cells are looked at in SQL, in the changed lines only (see `_PADDED`)."""
    return not data or data.isspace() or b"\x1f" in data or b"\\" in data


# A cell (once unquoted) starting or ending with a character Python's str.isspace() accepts (the
# thorough reader strips them): such a line goes to the reader.
_BLANKS = (
    "\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
_PADDED = f"(^|;)[{_BLANKS}]|[{_BLANKS}](;|$)"
# Every cell plain (no quote, no ';' of course) or wholly between quotes with neither inside.
_CELL = '(?:"[^";]*"|[^";]*)'
_SIMPLY_QUOTED = f"^{_CELL}(?:;{_CELL})*$"


def stage_rows(conn: Connection, rows: pd.DataFrame) -> None:
    """COPY the rows the thorough reader validated into `stage_ipe`."""
    columns = ", ".join(f"{name} {kind}" for name, kind in STAGE_COLUMNS)
    drop_temp_tables(conn)
    conn.execute(text(f"CREATE TEMP TABLE stage_ipe ({columns}) ON COMMIT DROP"))
    frame = rows.assign(source_hash=None, premise_id=None)[[name for name, _ in STAGE_COLUMNS]]
    for name, kind in STAGE_COLUMNS:
        if kind == "date":  # vectorised: python date objects make to_csv slow
            frame[name] = pd.to_datetime(frame[name]).dt.strftime("%Y-%m-%d")
    frame["raccordement_long"] = frame["raccordement_long"].map(
        lambda v: (
            None
            if v is None or v == "" or pd.isna(v)
            else str(v).upper() in {"O", "OUI", "1", "TRUE", "T"}
        )
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N", sep="\t", date_format="%Y-%m-%d")
    raw = conn.connection.driver_connection
    with raw.cursor().copy(  # type: ignore[union-attr]
        "COPY stage_ipe FROM STDIN (FORMAT csv, DELIMITER E'\\t', NULL '\\N')"
    ) as copy:  # type: ignore[union-attr]
        copy.write(buffer.getvalue())
