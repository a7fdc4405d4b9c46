"""An import killed (SIGKILL) in the middle of a large IPE file: the data is exactly as before,
the journal says the import did not finish, and the same file then imports cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.ingest import journal, uploads
from geo_service.ingest.batch import plan
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from tests.conftest import create_scratch_database, data_checksums, drop_database

MARKER = (
    "SELECT id, status, counts->>'etape' AS etape, (counts->>'pid')::int AS pid"
    " FROM import_journal WHERE file_name = :f AND status IN ('EN_COURS', 'INTERROMPU')"
    " ORDER BY id DESC LIMIT 1"
)


def _until(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"délai dépassé : {what}")


@pytest.fixture(scope="module")
def first_snapshot(demo_folder: Path) -> Iterator[tuple[str, Engine, Path]]:
    """A database with the demo's GraceTHD and its first IPE snapshot; the latest IPE file."""
    steps = plan(demo_folder)
    gracethd = next(s for s in steps if s.kind == "gracethd")
    ipe = [s.path for s in steps if s.kind == "ipe" and s.path.parent.name == "ipe"]
    url = create_scratch_database("tue")
    engine = make_engine(url)
    import_gracethd(engine, gracethd.path, territory="46", snapshot_date=gracethd.snapshot)
    assert import_ipe(engine, ipe[0], territory="46").status == "OK"
    yield url, engine, ipe[-1]
    engine.dispose()
    drop_database(url)


def test_an_import_killed_mid_way_changes_nothing_and_says_so(
    first_snapshot: tuple[str, Engine, Path],
) -> None:
    url, engine, later = first_snapshot
    with engine.connect() as conn:
        before = data_checksums(conn)
    env = {**os.environ, "DATABASE_URL": url, "GEO_SERVICE_USER": "tests"}
    process = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "import", "ipe", str(later), "-d", "46"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def merging():  # type: ignore[no-untyped-def]
            with engine.connect() as conn:
                row = conn.execute(text(MARKER), {"f": later.name}).first()
            # the marker is visible at once; its step says when the merge (the writes) began
            return row if row is not None and row.etape == "fusion et historique" else None

        marker = _until(merging, 300, "l'import n'a pas atteint la fusion")
        time.sleep(0.5)  # well inside the merge of ~100 000 premises
        assert process.poll() is None, "l'import a fini avant d'être interrompu"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert marker.status == "EN_COURS" and marker.pid
    # PostgreSQL ends the orphaned backend (and rolls its transaction back) on its own

    def gone() -> bool:  # a transaction of its own: pg_stat_activity is a snapshot per transaction
        with engine.connect() as conn:
            alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
            return conn.execute(alive, {"p": marker.pid}).scalar_one() == 0

    _until(gone, 120, "la session de l'import tué est toujours là")
    with engine.connect() as conn:
        assert data_checksums(conn) == before
        # the journal says the import did not finish: the marker, seen as interrupted
        row = conn.execute(text(MARKER), {"f": later.name}).one()
        assert (row.id, row.status) == (marker.id, "EN_COURS")
        shown = {j["id"]: j for j in uploads.journal(conn)}[marker.id]
        assert shown["status"] == "INTERROMPU" and shown["etape"] == "fusion et historique"
        assert shown["counts"] == {}
        assert journal.previous_success(conn, "ipe", journal.file_sha256(later)) is None

    # the same file imports cleanly; the import that starts marks the old marker INTERROMPU
    again = import_ipe(engine, later, territory="46")
    assert again.status == "OK" and again.journal_id != marker.id
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, status FROM import_journal WHERE file_name = :f ORDER BY id"),
            {"f": later.name},
        ).all()
        assert [tuple(r) for r in rows] == [(marker.id, "INTERROMPU"), (again.journal_id, "OK")]
        assert data_checksums(conn) != before
    # and a second time it is recognised as already imported
    assert import_ipe(engine, later, territory="46").status == "DEJA_IMPORTE"
