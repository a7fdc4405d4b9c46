"""Two territories in one database: each ANFR import keeps and removes only its own stations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from geo_service.db.session import make_engine
from geo_service.ingest.anfr import import_anfr
from geo_service.reference.load import load_reference
from geo_service.settings import Settings
from tests.conftest import create_scratch_database, drop_database
from tests.fixtures.anfr.variants import variant

LOT = {"0462510001", "0462510002", "0461020001", "0463110001"}
# Perpignan (66136): 42°41'55,7"N 2°53'44,2"E
PERPIGNAN = "3001;0661360001;11;42;41;55,7;N;2;53;44,2;E;30;8;Le Vernet;;;;66000;66136"


def _with_perpignan(lines: list[str]) -> list[str]:
    return [*lines, PERPIGNAN]


def test_each_territory_keeps_and_removes_only_its_own(tmp_path: Path) -> None:
    url = create_scratch_database("anfr_two")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            load_reference(conn, "66", territory_dir=Settings().territory_dir("66"))
        station = "0661360001;23;1209999;01/03/2019;01/03/2019;01/04/2019"
        emitter = "99;LTE 800;0661360001;599;01/04/2019"
        export = variant(
            tmp_path,
            changes={
                "SUP_SUPPORT.txt": _with_perpignan,
                "SUP_STATION.txt": lambda lines: [*lines, station],
                "SUP_EMETTEUR.txt": lambda lines: [*lines, emitter],
            },
        )
        lot = import_anfr(engine, export, territory="46", user="t")
        roussillon = import_anfr(engine, export, territory="66", user="t")  # same archive
        assert (lot.status, roussillon.status) == ("OK", "OK")
        assert (lot.counts["stations"], roussillon.counts["stations"]) == (4, 1)
        # a newer export listing no Lot station at all, imported for 66 only
        newer = variant(
            tmp_path / "newer",
            "20240229-export-etalab",
            {
                "SUP_SUPPORT.txt": lambda lines: [lines[0], PERPIGNAN],
                "SUP_STATION.txt": lambda lines: [lines[0], station],
                "SUP_EMETTEUR.txt": lambda lines: [lines[0], emitter],
            },
        )
        again = import_anfr(engine, newer, territory="66", user="t")
        assert again.counts["stations_retirees"] == 0
        with engine.connect() as conn:
            stations = set(conn.execute(text("SELECT sta_nm_anfr FROM anfr_station")).scalars())
            insee = conn.execute(
                text("SELECT insee FROM anfr_support WHERE sup_id = 3001")
            ).scalar_one()
        assert stations == LOT | {"0661360001"}
        assert insee == "66136"
    finally:
        engine.dispose()
        drop_database(url)
