"""Stream ARCEP's building-level "Carte fibre" file and keep one territory's lines.

The national file is about 40 million lines (4.5 GB once unzipped): it is never held whole in
memory nor parsed line by line in Python. Blocks of bytes are decompressed on the fly and a
regular expression finds the lines whose `code_insee` (read by name in the header) may be one of
the territory's communes; only those lines are decoded, split and checked. A building belongs to
the territory by its `code_insee` (ARCEP's own attribution, as the IPE's CodeInseeImmeuble); its
point is then checked against the territory's outline in SQL (see arcep_immeubles.py).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo_service.db.enums import ETATS_IMMEUBLE
from geo_service.errors import ImportRejectedError
from geo_service.ingest import csv_source
from geo_service.ingest.arcep_source import Readable, open_source
from geo_service.ingest.common import problem
from geo_service.ingest.csv_cells import label_key
from geo_service.ingest.csv_source import reject

REQUIRED = ("x", "y", "imb_id", "code_insee", "imb_etat")
# ARCEP's lower-case labels, read as the IPE's (label_key: 'deploye' → 'DEPLOYE')
ETATS_ARCEP = tuple(e for e in ETATS_IMMEUBLE if e != "RAD EN COURS DE DEPLOIEMENT")
ETATS_ARCEP_LABELS = ", ".join(e.lower() for e in ETATS_ARCEP)
CHUNK = 16 << 20
_CP1252_ONLY = re.compile(rb"[\x80-\xff]")
BytesProgress = Callable[[int, int | None], None]


@dataclass
class Building:
    """One kept line, checked in Python (the territory's outline is checked in SQL)."""

    line: int
    imb_id: str
    imb_etat: str
    pm_ref: str | None
    pm_etat: str | None
    code_insee: str
    adresse: str | None
    type_imb: str | None
    lon: float
    lat: float


@dataclass
class Scan:
    file: str
    member: str | None
    encoding: str
    lines: int = 0  # data lines of the whole file
    kept: int = 0  # lines of the territory's communes
    buildings: list[Building] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)


def _header(file: str, stream: Readable) -> tuple[list[str], bytes, str | None, bool]:
    """Column names (lower case), the bytes read past the header, the encoding a BOM says, and
    whether the header is quoted (then the cells are too)."""
    head = b""
    while b"\n" not in head:
        block = stream.read(1 << 16)
        if not block:
            break
        head += block
        if len(head) > csv_source.MAX_LINE_BYTES:
            raise reject(file, 1, "ligne d'en-tête trop longue")
    if not head.strip(b" \t\r\n\x1a"):
        raise reject(file, 0, "fichier vide")
    csv_source.reject_binary(file, head)
    bom = head.startswith(b"\xef\xbb\xbf")
    first, _, rest = head[3 if bom else 0 :].partition(b"\n")
    text = first.decode("utf-8" if bom else "cp1252", errors="replace").rstrip("\r")
    if "," not in text:
        found = next((d for d in (";", "\t", "|") if d in text), None)
        if found:
            shown = "tabulation" if found == "\t" else found
            raise reject(file, 1, f"séparateur attendu « , », trouvé « {shown} »")
    header = [h.strip().lower() for h in next(csv.reader([text]))]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportRejectedError(
            f"{file}, ligne 1 : colonnes obligatoires absentes : {', '.join(missing)}",
            [problem(file, 1, c, None, "colonne obligatoire absente") for c in missing],
        )
    doubles = sorted({h for h in header if h and header.count(h) > 1})
    if doubles:
        raise reject(file, 1, f"colonne en double : {', '.join(doubles)}", column=doubles[0])
    return header, rest, "utf-8" if bom else None, '"' in text


def _pattern(header: list[str], insee: set[str], quoted: bool) -> re.Pattern[bytes]:
    """Lines that may hold one of these INSEE codes as a whole field (a superset: the parsed
    `code_insee` decides). In the published layout `code_insee` is an inner column, preceded by
    a comma: with one département, the pattern starts with a literal (`,46`) that the regular
    expression engine looks for at hundreds of MB/s; quoted files (the header says so) and
    other layouts take slower patterns."""
    prefixes = sorted({re.escape(i[:2]) for i in insee})
    lead = prefixes[0] if len(prefixes) == 1 else f"(?:{'|'.join(prefixes)})"
    quote = '"' if quoted else ""
    body = f"{quote}{lead}[0-9AB][0-9]{{2}}{quote}(?:[,\\r\\n]|\\Z)"
    if header.index("code_insee") > 0:
        return re.compile(("," + body).encode())
    return re.compile(f"(?:^|,){body}".encode(), re.M)


class _Blocks:
    """The stream, telling `after_read` after each block (the progress bar moves even where
    no line of the territory is found: national files come sorted by commune)."""

    def __init__(self, stream: Readable, after_read: Callable[[], object]) -> None:
        self.stream, self.after_read = stream, after_read

    def read(self, size: int = -1, /) -> bytes:
        block = self.stream.read(size)
        self.after_read()
        return block


def _lines(
    file: str, stream: Readable, start: bytes, pattern: re.Pattern[bytes], scan: Scan
) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of the candidate lines; counts every data line (header = line 1)."""
    done = 1  # lines before the current block
    tail = start
    while True:
        block = stream.read(CHUNK)
        data = tail + block
        if block:
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                if len(data) > csv_source.MAX_LINE_BYTES:
                    raise reject(file, done + 1, "ligne trop longue (aucun saut de ligne)")
                tail = data
                continue
            body, tail = data[:cut], data[cut:]
        else:
            body, tail = data, b""
        position, line = 0, done + 1
        previous = -1
        for match in pattern.finditer(body):
            begin = body.rfind(b"\n", 0, match.start()) + 1
            if begin == previous:
                continue  # the same line matched twice (code_insee and code_poste)
            line += body.count(b"\n", position, begin)
            position = previous = begin
            end = body.find(b"\n", begin)
            yield line, body[begin : end if end >= 0 else len(body)].rstrip(b"\r")
        # the lines up to the last match are counted already: count the rest once
        done = line - 1 + body.count(b"\n", position)
        if body and not body.endswith(b"\n"):
            done += 1
        if not block:
            scan.lines = done - 1
            return


def _decode(raw: bytes, scan: Scan, line: int) -> str | None:
    """The line's text in the file's encoding (cp1252 as published, or UTF-8 when the file says
    so), or None with a problem when its bytes belong to another encoding."""
    if not _CP1252_ONLY.search(raw):
        return raw.decode("ascii")
    if scan.encoding == "?":  # the first accented line decides
        try:
            raw.decode("utf-8")
            scan.encoding = "utf-8"
        except UnicodeDecodeError:
            scan.encoding = "cp1252"
    try:
        text = raw.decode(scan.encoding)
    except UnicodeDecodeError as exc:
        byte = raw[exc.start : exc.start + 1].hex().upper()
        scan.problems.append(
            problem(
                scan.file,
                line,
                None,
                raw[max(0, exc.start - 20) : exc.start + 20].decode("latin-1"),
                f"encodage : octet 0x{byte} invalide en {scan.encoding} "
                "(fichier publié en cp1252 : ne le réenregistrez pas dans un autre encodage)",
            )
        )
        return None
    if scan.encoding == "cp1252":
        try:
            utf8 = raw.decode("utf-8")
        except UnicodeDecodeError:
            return text
        scan.problems.append(
            problem(
                scan.file,
                line,
                None,
                utf8[:200],
                "encodage : ligne en UTF-8 dans un fichier en cp1252 (accents mal lus)",
            )
        )
        return None
    return text


def _coordinate(value: str) -> float | None:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _check(cells: dict[str, str], scan: Scan, line: int, seen: dict[str, int]) -> Building | None:
    """A Building, or None with the line's problems (file, line, column, value, reason)."""
    bad: list[dict[str, Any]] = []
    lon, lat = _coordinate(cells["x"]), _coordinate(cells["y"])
    where = f"x={cells['x']} y={cells['y']}"
    if lon is None or lat is None:
        column = "x" if lon is None else "y"
        bad.append(problem(scan.file, line, column, cells[column], "coordonnée illisible"))
    elif abs(lon) > 180 or abs(lat) > 90:
        reason = "coordonnées hors WGS84 (x = longitude et y = latitude en degrés attendues)"
        if abs(lon) > 1000 and abs(lat) > 1000:
            reason += " : elles ressemblent à des mètres (Lambert-93 ?)"
        bad.append(problem(scan.file, line, "x", where, reason))
    etat = label_key(cells["imb_etat"])
    if etat not in ETATS_ARCEP:
        reason = "état d'immeuble vide" if not etat else "état d'immeuble inconnu"
        bad.append(
            problem(
                scan.file,
                line,
                "imb_etat",
                cells["imb_etat"],
                f"{reason} (valeurs admises : {ETATS_ARCEP_LABELS})",
            )
        )
    imb_id = cells["imb_id"]
    if not imb_id:
        bad.append(problem(scan.file, line, "imb_id", "", "identifiant d'immeuble vide"))
    elif len(imb_id) > 80:
        bad.append(problem(scan.file, line, "imb_id", imb_id, "identifiant trop long (80 max)"))
    elif imb_id in seen:
        reason = f"identifiant d'immeuble en double (déjà ligne {seen[imb_id]})"
        bad.append(problem(scan.file, line, "imb_id", imb_id, reason))
    else:
        seen[imb_id] = line
    if bad:
        scan.problems.extend(bad)
        return None
    street = " ".join(
        v
        for v in (cells.get(k, "") for k in ("num_voie", "cp_no_voie", "type_voie", "nom_voie"))
        if v
    )
    adresse = ", ".join(v for v in (street, cells.get("batiment", "")) if v)
    pm_etat = label_key(cells.get("pm_etat", ""))
    return Building(
        line=line,
        imb_id=imb_id,
        imb_etat=etat,
        pm_ref=cells.get("pm_ref") or None,
        pm_etat=pm_etat[:40] or None,
        code_insee=cells["code_insee"],
        adresse=adresse[:400] or None,
        type_imb=(cells.get("type_imb") or "")[:40] or None,
        lon=lon,  # type: ignore[arg-type]
        lat=lat,  # type: ignore[arg-type]
    )


def scan_file(path: Path, insee: set[str], on_bytes: BytesProgress | None = None) -> Scan:
    """Read the whole file, keep and check the lines of these communes."""
    total = path.stat().st_size
    with open_source(path) as (stream, file, member, read_so_far):
        header, rest, encoding, rest_quoted = _header(file, stream)
        scan = Scan(file=file, member=member, encoding=encoding or "?")
        pattern = _pattern(header, insee, quoted=rest_quoted)
        position = header.index("code_insee")
        seen: dict[str, int] = {}
        blocks = _Blocks(stream, lambda: on_bytes(read_so_far(), total) if on_bytes else None)
        for line, raw in _lines(file, blocks, rest, pattern, scan):
            text = _decode(raw, scan, line)
            if text is None:
                continue
            record = next(csv.reader([text]), [])
            if len(record) <= position or record[position].strip() not in insee:
                continue  # another territory's line (or an odd code): not ours
            scan.kept += 1
            if len(record) != len(header):
                reason = f"nombre de champs incorrect : {len(record)} au lieu de {len(header)}"
                scan.problems.append(problem(file, line, None, text[:200], reason))
                continue
            cells = {h: v.strip() for h, v in zip(header, record, strict=True)}
            building = _check(cells, scan, line, seen)
            if building is not None:
                scan.buildings.append(building)
        if on_bytes is not None:
            on_bytes(total, total)
    if scan.encoding == "?":
        scan.encoding = "ascii"
    if scan.lines == 0:
        raise reject(file, 0, "aucune ligne de données (le fichier n'a que l'en-tête)")
    return scan
