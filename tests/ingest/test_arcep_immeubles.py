"""ARCEP's "Carte fibre" building file, as published, into `arcep_immeuble` for its quarter."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from pyproj import Transformer
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.arcep_immeubles import import_arcep_immeubles_conn, state_date
from geo_service.ingest.arcep_source import quarter_date

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arcep_immeubles"
CSV_NAME = "carte_fibre_immeubles_2024_T2_20240912.csv"
ZIP = FIXTURES / "2024t2-immeuble.zip"
TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)


def published_rows() -> list[dict[str, str]]:
    """The fixture read independently (cp1252, comma), with its file line numbers."""
    text_ = (FIXTURES / CSV_NAME).read_bytes().decode("cp1252")
    reader = csv.DictReader(io.StringIO(text_, newline=""))
    return [{**row, "line": str(n)} for n, row in enumerate(reader, start=2)]


def lot_rows() -> list[dict[str, str]]:
    return [r for r in published_rows() if r["code_insee"].startswith("46")]


def stored(conn: Connection) -> dict[str, dict[str, object]]:
    rows = conn.execute(
        text(
            "SELECT imb_id, date_etat, imb_etat, pm_ref, pm_etat, code_insee, adresse, type_imb,"
            " import_id, ST_X(geom) AS x, ST_Y(geom) AS y FROM arcep_immeuble"
            " WHERE territory_code = '46' ORDER BY imb_id"
        )
    ).mappings()
    return {r["imb_id"]: dict(r) for r in rows}


def test_quarter_gives_the_date_not_the_extraction_day() -> None:
    assert quarter_date(CSV_NAME) == date(2024, 6, 30)
    assert quarter_date("2024t2-immeuble.zip") == date(2024, 6, 30)
    assert [quarter_date(f"carte_fibre_immeubles_2023_T{n}_20240101.csv") for n in (1, 3, 4)] == [
        date(2023, 3, 31),
        date(2023, 9, 30),
        date(2023, 12, 31),
    ]
    assert quarter_date("carte_fibre_immeubles_20240912.csv") is None
    assert state_date(ZIP, None) == date(2024, 6, 30)
    assert state_date(ZIP, date(2024, 7, 1)) == date(2024, 7, 1)  # --date overrides


def test_zip_as_published_keeps_the_lot_only(connection: Connection) -> None:
    result = import_arcep_immeubles_conn(connection, ZIP, territory="46", user="test")
    expected = lot_rows()
    assert result.status == "OK"
    assert result.snapshot_date == date(2024, 6, 30)
    assert result.counts["lignes"] == len(published_rows())
    assert result.counts["valides"] == result.counts["nouveaux"] == len(expected)
    rows = stored(connection)
    assert sorted(rows) == sorted(r["imb_id"] for r in expected)
    for source in expected:
        row = rows[source["imb_id"]]
        x, y = TO_L93.transform(float(source["x"]), float(source["y"]))
        assert (row["x"], row["y"]) == (pytest.approx(x, abs=0.01), pytest.approx(y, abs=0.01))
        assert row["imb_etat"] == source["imb_etat"].upper()
        assert row["pm_ref"] == (source["pm_ref"] or None)
        assert row["code_insee"] == source["code_insee"]
        assert row["date_etat"] == date(2024, 6, 30)
        assert row["import_id"] == result.journal_id
    # accents read from cp1252, the quoted cell with its comma, the street put together
    assert rows["IMB/46102/T/0101"]["adresse"] == "1 RUE DE L'ÉGLISE"
    assert rows["IMB/46102/T/0105"]["adresse"] == "2 PLACE CHAMPOLLION, CÔTÉ NORD"
    assert rows["IMB/46251/T/0301"]["type_imb"] == "pavillon"
    entry = connection.execute(
        text(
            "SELECT kind, status, snapshot_date, territory_code FROM import_journal WHERE id = :j"
        ),
        {"j": result.journal_id},
    ).one()
    assert tuple(entry) == ("arcep-immeubles", "OK", date(2024, 6, 30), "46")


def test_same_file_again_changes_nothing(connection: Connection) -> None:
    import_arcep_immeubles_conn(connection, ZIP, territory="46", user="test")
    before = stored(connection)
    again = import_arcep_immeubles_conn(connection, ZIP, territory="46", user="test")
    assert again.status == "DEJA_IMPORTE"
    assert stored(connection) == before


def test_plain_and_gzip_files_read_the_same(connection: Connection, tmp_path: Path) -> None:
    gz = tmp_path / f"{CSV_NAME}.gz"
    gz.write_bytes(gzip.compress((FIXTURES / CSV_NAME).read_bytes()))
    result = import_arcep_immeubles_conn(connection, gz, territory="46", user="test")
    assert result.counts["nouveaux"] == len(lot_rows())
    first = {k: {**v, "import_id": None} for k, v in stored(connection).items()}
    # the very same rows from the plain CSV: another file for the same quarter, nothing to change
    plain = import_arcep_immeubles_conn(connection, FIXTURES / CSV_NAME, territory="46", user="t")
    assert (plain.counts["nouveaux"], plain.counts["modifies"], plain.counts["retires"]) == (
        0,
        0,
        0,
    )
    assert {k: {**v, "import_id": None} for k, v in stored(connection).items()} == first


def test_new_file_for_a_quarter_replaces_it_and_keeps_history(
    connection: Connection, tmp_path: Path
) -> None:
    first = import_arcep_immeubles_conn(connection, ZIP, territory="46", user="test")
    lines = (FIXTURES / CSV_NAME).read_bytes().decode("cp1252").splitlines()
    changed = [
        line.replace(",en cours de deploiement,", ",deploye,") if "T/0105" in line else line
        for line in lines
        if "T/0201" not in line  # Gourdon's building leaves ARCEP's file
    ]
    newer = tmp_path / "carte_fibre_immeubles_2024_T2_20241015.csv"
    newer.write_bytes(("\r\n".join(changed) + "\r\n").encode("cp1252"))
    later = tmp_path / "carte_fibre_immeubles_2024_T3_20241215.csv"
    shutil.copy(newer, later)
    result = import_arcep_immeubles_conn(connection, newer, territory="46", user="relecteur")
    assert (result.counts["modifies"], result.counts["retires"], result.counts["nouveaux"]) == (
        1,
        1,
        0,
    )
    rows = stored(connection)
    assert "IMB/46127/T/0201" not in rows
    assert rows["IMB/46102/T/0105"]["imb_etat"] == "DEPLOYE"
    assert rows["IMB/46102/T/0105"]["import_id"] == result.journal_id
    assert rows["IMB/46102/T/0101"]["import_id"] == first.journal_id  # unchanged, untouched
    history = connection.execute(
        text(
            "SELECT object_key, before, after, changed_by, valid_from FROM asset_change"
            " WHERE import_id = :j AND table_name = 'arcep_immeuble' ORDER BY object_key"
        ),
        {"j": result.journal_id},
    ).all()
    by_key = {h.object_key: h for h in history}
    assert by_key["IMB/46102/T/0105"].before["imb_etat"] == "EN COURS DE DEPLOIEMENT"
    assert by_key["IMB/46102/T/0105"].after["imb_etat"] == "DEPLOYE"
    assert by_key["IMB/46127/T/0201"].after == {"retire": True}
    assert by_key["46/2024-06-30"].before == {"immeubles": len(lot_rows())}
    assert {h.changed_by for h in history} == {"relecteur"}
    assert {h.valid_from for h in history} == {date(2024, 6, 30)}
    # another quarter is added beside, the first one kept
    import_arcep_immeubles_conn(connection, later, territory="46", user="test")
    counts = dict(
        connection.execute(
            text("SELECT date_etat, count(*) FROM arcep_immeuble GROUP BY 1 ORDER BY 1")
        ).all()
    )
    assert counts == {date(2024, 6, 30): len(changed) - 4, date(2024, 9, 30): len(changed) - 4}


def test_file_without_quarter_needs_a_date(connection: Connection) -> None:
    path = FIXTURES / "invalides" / "sans_trimestre.csv"
    with pytest.raises(ImportRejectedError) as caught:
        import_arcep_immeubles_conn(connection, path, territory="46", user="test")
    assert "date de l'état inconnue" in caught.value.message
    assert "--date" in caught.value.message
    result = import_arcep_immeubles_conn(
        connection, path, territory="46", user="test", snapshot_date=date(2024, 6, 30)
    )
    assert result.snapshot_date == date(2024, 6, 30)
    assert result.counts["valides"] == len(lot_rows())


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8_bom"])
def test_file_saved_again_in_utf8_reads_the_same(
    connection: Connection, tmp_path: Path, bom: bytes
) -> None:
    utf8 = tmp_path / CSV_NAME
    utf8.write_bytes(bom + (FIXTURES / CSV_NAME).read_bytes().decode("cp1252").encode("utf-8"))
    result = import_arcep_immeubles_conn(connection, utf8, territory="46", user="test")
    assert result.counts["valides"] == len(lot_rows())
    assert stored(connection)["IMB/46102/T/0105"]["adresse"] == "2 PLACE CHAMPOLLION, CÔTÉ NORD"


def test_lines_across_block_boundaries(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A national file is read in blocks: with tiny blocks every line straddles one, and the
    same rows and line numbers come out."""
    from geo_service.ingest import arcep_reader

    monkeypatch.setattr(arcep_reader, "CHUNK", 37)
    result = import_arcep_immeubles_conn(connection, ZIP, territory="46", user="test")
    assert result.counts["lignes"] == len(published_rows())
    assert sorted(stored(connection)) == sorted(r["imb_id"] for r in lot_rows())
    double = FIXTURES / "invalides" / "carte_fibre_immeubles_2024_T2_identifiant_double.csv"
    with pytest.raises(ImportRejectedError) as caught:
        import_arcep_immeubles_conn(
            connection, double, territory="46", user="test", snapshot_date=date(2024, 9, 30)
        )
    assert [(p["line"], p["column"]) for p in caught.value.problems] == [(18, "imb_id")]


def test_unpacked_content_is_capped(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo_service.ingest import arcep_source

    monkeypatch.setattr(arcep_source, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(ImportRejectedError) as caught:
        import_arcep_immeubles_conn(connection, ZIP, territory="46", user="test")
    assert "trop volumineux" in caught.value.problems[0]["reason"]
