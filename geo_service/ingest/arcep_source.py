"""Open ARCEP's "Carte fibre" file as published (a zip holding the CSV, a .csv.gz or a plain
.csv) as one decompressed byte stream, and find the quarter its name gives."""

from __future__ import annotations

import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from geo_service.ingest.csv_source import fmt_int, reject

# a national file unzips to ~5 GB: a larger content is refused as a zip/gzip bomb
MAX_UNPACKED_BYTES = 32 << 30
_QUARTER = re.compile(r"(?<!\d)(\d{4})[_-]?[Tt]([1-4])(?![0-9])")
_QUARTER_END = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def quarter_date(name: str) -> date | None:
    """The last day of the quarter named in a file name (`…_2024_T2_…`, `2024t2-immeuble.zip`)."""
    for match in _QUARTER.finditer(name):
        year = int(match[1])
        if 1990 <= year <= 2100:
            month, day = _QUARTER_END[int(match[2])]
            return date(year, month, day)
    return None


class _Capped(io.RawIOBase):
    """A decompressed stream refused once it passes MAX_UNPACKED_BYTES."""

    def __init__(self, file: str, inner: Readable) -> None:
        self.file, self.inner, self.size = file, inner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self.inner.read(len(buffer))
        except (EOFError, OSError, zlib.error, zipfile.BadZipFile) as exc:
            raise reject(self.file, 0, "fichier compressé tronqué ou corrompu") from exc
        self.size += len(data)
        if self.size > MAX_UNPACKED_BYTES:
            limit = f"{fmt_int(MAX_UNPACKED_BYTES >> 20)} Mo"
            raise reject(self.file, 0, f"contenu décompressé trop volumineux (plus de {limit})")
        buffer[: len(data)] = data
        return len(data)


@contextmanager
def open_source(path: Path) -> Iterator[tuple[Readable, str, str | None, Callable[[], int]]]:
    """The decompressed byte stream, the name used in problems, the zip member, and a function
    telling how many bytes of the stored file were read so far (for progress)."""
    with path.open("rb") as raw:
        magic = raw.read(4)
        raw.seek(0)
        name = path.name
        if name.lower().endswith(".gz") or magic[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=raw) as stream:
                yield _Capped(name, stream), name, None, raw.tell
            return
        if name.lower().endswith(".zip") or magic in (b"PK\x03\x04", b"PK\x05\x06"):
            try:
                archive = zipfile.ZipFile(raw)
            except zipfile.BadZipFile as exc:
                raise reject(name, 0, "archive zip illisible ou corrompue") from exc
            member = _member(name, archive)
            try:
                with archive.open(member) as stream:
                    yield (
                        _Capped(f"{name}/{member.filename}", stream),
                        (f"{name}/{member.filename}"),
                        member.filename,
                        raw.tell,
                    )  # type: ignore[arg-type]
            except RuntimeError as exc:
                raise reject(name, 0, "archive zip protégée par mot de passe") from exc
            return
        yield raw, name, None, raw.tell


def _member(file: str, archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    csvs = [
        e
        for e in archive.infolist()
        if not e.is_dir()
        and e.filename.lower().endswith(".csv")
        and not e.filename.startswith("__MACOSX/")
        and not Path(e.filename).name.startswith("._")
    ]
    if not csvs:
        raise reject(file, 0, "l'archive zip ne contient aucun fichier .csv")
    named = [e for e in csvs if Path(e.filename).name.lower().startswith("carte_fibre_immeubles")]
    if len(csvs) > 1 and len(named) != 1:
        names = ", ".join(e.filename for e in csvs)
        raise reject(
            file, 0, f"l'archive zip contient {len(csvs)} fichiers .csv ({names}) : un seul attendu"
        )
    chosen = named[0] if named else csvs[0]
    if chosen.file_size > MAX_UNPACKED_BYTES:
        raise reject(file, 0, "contenu décompressé trop volumineux : archive refusée")
    return chosen


def dated_names(path: Path) -> list[str]:
    """The names that may carry the quarter: the CSV inside a zip first (the publisher's own
    name), then the file's."""
    names = [path.name]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names.insert(0, Path(_member(path.name, archive).filename).name)
    return names
