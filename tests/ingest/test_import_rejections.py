"""Every malformed file is refused with its reason and leaves the database exactly as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from tests.conftest import create_scratch_database, data_checksums, drop_database
from tests.ingest.ipe_files import write_ipe
from tests.ingest.test_ipe_reader import FILE_PROBLEMS, INVALID, ROW_PROBLEMS

# (file, line, reason, whole file refused at once?)
CASES = [(name, line, reason, False) for name, line, _c, _v, reason in ROW_PROBLEMS] + [
    (name, line, reason, True) for name, line, _c, reason in FILE_PROBLEMS
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, gracethd_gpkg: Path) -> Iterator[Engine]:
    """A database holding a small network and one imported snapshot (committed)."""
    url = create_scratch_database("rejects")
    engine = make_engine(url)
    import_gracethd(engine, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1))
    folder = tmp_path_factory.mktemp("ipe")
    states = {
        "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2019-06-01"),
        "IMB/46102/T/0003": ("CIBLE", 2, "PLANIFIE", ""),
    }
    import_ipe(engine, write_ipe(folder / "IPE_TEST_46_20190630.csv", states), territory="46")
    yield engine
    engine.dispose()
    drop_database(url)


JOURNAL_COUNTS = "SELECT count(*) FILTER (WHERE status = 'REJETE'), count(*) FROM import_journal"


def assert_refused_without_trace(
    engine: Engine, path: Path, line: int, reason: str, *, whole_file: bool = False
) -> None:
    with engine.connect() as conn:
        before = data_checksums(conn)
        rejected_before, journal_before = conn.execute(text(JOURNAL_COUNTS)).one()
    with pytest.raises(ImportRejectedError) as caught:
        import_ipe(engine, path, territory="46", snapshot_date=date(2021, 12, 31))
    problems = caught.value.problems
    assert (line, reason) in [(p["line"], p["reason"]) for p in problems]
    if whole_file:  # the message says where and why
        where = f"{path.name}, ligne {line}" if line > 0 else path.name
        assert caught.value.message == f"{where} : {reason}"
    else:  # line problems: the message counts them (each listed) and says nothing was imported
        assert caught.value.message == (
            f"{path.name} refusé : {len(problems)} problème(s) ; rien n'a été importé."
        )
    with engine.connect() as conn:
        assert data_checksums(conn) == before
        rejected, journalled = conn.execute(text(JOURNAL_COUNTS)).one()
    assert journalled == journal_before + 1  # journalled, as every import
    assert rejected == rejected_before + 1  # … as a rejection


@pytest.mark.parametrize(("name", "line", "reason", "whole_file"), CASES, ids=[c[0] for c in CASES])
def test_malformed_file_leaves_the_database_unchanged(
    loaded: Engine, name: str, line: int, reason: str, whole_file: bool
) -> None:
    assert_refused_without_trace(loaded, INVALID / name, line, reason, whole_file=whole_file)


def test_ten_megabyte_line_is_refused(loaded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "IPE_TEST_46_20211231.csv"
    header = (INVALID.parent / "valides" / "IPE_ALLF_46_20211231.csv").read_text().splitlines()[0]
    path.write_text(header + "\n" + "x" * 10_485_760 + "\n")
    with pytest.raises(ImportRejectedError) as caught:
        import_ipe(loaded, path, territory="46")
    assert "ligne trop longue" in caught.value.problems[0]["reason"]


def test_unknown_pm_and_rejected_journal_entry(loaded: Engine, tmp_path: Path) -> None:
    path = write_ipe(
        tmp_path / "IPE_TEST_46_20211231.csv", {"IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "")}
    )
    path.write_text(path.read_text().replace("TST01", "XYZ42"))
    assert_refused_without_trace(
        loaded, path, 2, "référence PM inconnue (importez d'abord les zones GraceTHD)"
    )
    with loaded.connect() as conn:
        entry = conn.execute(
            text("SELECT status, file_name, errors FROM import_journal ORDER BY id DESC LIMIT 1")
        ).one()
    assert (entry.status, entry.file_name) == ("REJETE", path.name)
    assert entry.errors[0]["value"] == "XYZ42"
