"""Byte-reproducible writers: ';' CSV (optionally gzip with mtime 0), GeoPackage, checksums."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

FIXED_GPKG_DATE = "2025-12-31T00:00:00Z"


def field(value: object) -> str:
    """A CSV field, quoted only when it holds a separator, a quote or a line break."""
    text = "" if value is None else str(value)
    if any(c in text for c in ';"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_bytes(header: list[str], lines: Iterable[str]) -> bytes:
    """UTF-8 bytes of a header plus already-joined lines, LF endings."""
    return ("\n".join([";".join(header), *lines]) + "\n").encode("utf-8")


def frame_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as ';' CSV bytes (every value rendered with str, minimal quoting)."""
    columns = [frame[c].tolist() for c in frame.columns]
    lines = (";".join(field(v) for v in row) for row in zip(*columns, strict=True))
    return csv_bytes(list(frame.columns), lines)


def gzip_bytes(data: bytes, level: int = 6) -> bytes:
    """Gzip with no file name and mtime 0, so identical input gives identical output."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=level) as gz:
        gz.write(data)
    return buffer.getvalue()


def write_bytes(path: Path, data: bytes) -> Path:
    """Write bytes atomically enough for a generator (temporary name then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


class GzipPool:
    """Compress and write files on worker threads (zlib releases the GIL)."""

    def __init__(self, workers: int = 2) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers)
        self.futures: list[Future[Path]] = []

    def submit(self, path: Path, data: bytes) -> None:
        if len(self.futures) >= 4:
            self.futures.pop(0).result()
        self.futures.append(self.executor.submit(lambda: write_bytes(path, gzip_bytes(data))))

    def close(self) -> None:
        for future in self.futures:
            future.result()
        self.executor.shutdown()


def write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """A GeoPackage with the given layers, with GDAL's timestamps pinned for reproducibility."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_GPKG_DATE})
    try:
        for name, frame in layers.items():
            frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return path


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
