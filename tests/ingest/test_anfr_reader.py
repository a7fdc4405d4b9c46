"""Streaming the ANFR tables: line ends, encodings, field counts, locating the tables."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from geo_service.errors import ImportRejectedError
from geo_service.ingest.anfr_reader import Table, locate, stream
from geo_service.ingest.anfr_rows import position, technology
from tests.fixtures.anfr.variants import EXPORT

HEADER = "EMR_ID;EMR_LB_SYSTEME;STA_NM_ANFR;AER_ID;EMR_DT_SERVICE"


def _read(path: Path, content: bytes) -> tuple[list[tuple[int, list[str]]], list[dict]]:
    path.write_bytes(content)
    table = Table("SUP_EMETTEUR", path.name, lambda: path.open("rb"), len(content))
    rows, lines = stream(table)
    return list(lines), rows.problems


@pytest.mark.parametrize("end", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_line_ends_and_a_missing_last_one(tmp_path: Path, end: str) -> None:
    body = end.join([HEADER, "1;GSM 900;0460000001;5;01/02/2003", "", "2;LTE 800;0460000001;5;"])
    lines, problems = _read(tmp_path / "SUP_EMETTEUR.txt", body.encode("cp1252"))
    assert problems == []
    assert [(n, c[0], c[4]) for n, c in lines] == [(2, "1", "01/02/2003"), (4, "2", "")]


def test_utf8_file_is_read_and_a_trailing_separator_tolerated(tmp_path: Path) -> None:
    body = "\ufeff" + HEADER + "\r\n1;Réseau privé;0460000001;5;;\r\n"
    lines, problems = _read(tmp_path / "SUP_EMETTEUR.txt", body.encode("utf-8"))
    assert problems == []
    assert lines == [(2, ["1", "Réseau privé", "0460000001", "5", "", ""])]


def test_lines_longer_than_one_block_keep_their_numbers(tmp_path: Path) -> None:
    rows = [f"{i};LTE 800;04600{i:05d};{i};01/01/2020" for i in range(1, 60_001)]
    body = "\r\n".join([HEADER, *rows]) + "\r\n"
    lines, problems = _read(tmp_path / "SUP_EMETTEUR.txt", body.encode("cp1252"))
    assert problems == [] and len(lines) == 60_000
    assert all(n == int(c[0]) + 1 for n, c in lines)


def test_dms_and_technologies() -> None:
    index = {c: i for i, c in enumerate(
        ["COR_NB_DG_LAT", "COR_NB_MN_LAT", "COR_NB_SC_LAT", "COR_CD_NS_LAT",
         "COR_NB_DG_LON", "COR_NB_MN_LON", "COR_NB_SC_LON", "COR_CD_EW_LON"])}  # fmt: skip
    lon, lat = position(["44", "30", "36", "n", "0", "34", "46,5", "W"], index)
    assert lat == pytest.approx(44.51) and lon == pytest.approx(-(34 / 60 + 46.5 / 3600))
    assert [technology(s) for s in ("GSM 1800", "UMTS 900", "LTE 2600", "5G NR 700", "FH")] == [
        "2G",
        "3G",
        "4G",
        "5G",
        "AUTRE",
    ]


def test_a_table_twice_in_a_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for table in EXPORT.iterdir():
        (folder / table.name).write_bytes(table.read_bytes())
    with zipfile.ZipFile(folder / "copie.zip", "w") as archive:
        archive.write(EXPORT / "SUP_STATION.txt", "sub/sup_station.TXT")
    with pytest.raises(ImportRejectedError) as caught:
        locate(folder)
    assert "table SUP_STATION présente deux fois" in caught.value.message
