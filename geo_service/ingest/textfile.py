"""Decode a small text exchange file: UTF-8 (with or without BOM) or Latin-1, refuse binary."""

from __future__ import annotations

from pathlib import Path

from geo_service.errors import ImportRejectedError
from geo_service.ingest.common import problem


def decode_text_file(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise ImportRejectedError(
            f"{path.name} : fichier vide.", [problem(path.name, 0, None, None, "fichier vide")]
        )
    if b"\x00" in data[:65536]:
        raise ImportRejectedError(
            f"{path.name} : contenu binaire, pas un fichier texte.",
            [problem(path.name, 0, None, None, "contenu binaire")],
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")
