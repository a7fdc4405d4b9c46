"""The demo's operating registers go through the regular importers and reproduce LOT_FACTS:
2023 DSP-wide 1 557 incidents and 1 297 of 1 308 PM controlled, 18 700 abonnés at end 2021
(~22.6 % of the délégataire's 82 700 raccordables), ~24 % in March 2022, 42 % mid-2024, and the
border exchanges 16 ↔ 34 by neighbour.

The scratch database has the Lot's geography but no network: the take-up rates are checked
against the délégataire's stated raccordables (its 'total' rows); the penetration against our
own raccordables as of the same date is tested in tests/analysis/test_operations.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from geo_service.analysis.operations import control_progress, restoration_delays
from geo_service.analysis.take_up import border_exchanges
from geo_service.db.session import make_engine
from geo_service.demo.operations import write_operations
from geo_service.ingest.operations_common import import_register
from geo_service.ingest.operations_files import plan_operations
from tests.conftest import create_scratch_database, drop_database
from tests.ingest.ipe_files import BUILDINGS, write_ipe


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_operations("46", tmp_path_factory.mktemp("demo_ops"), seed=46)


@pytest.fixture(scope="module")
def loaded(written: list[Path]) -> Iterator[Engine]:
    """A scratch database with the files imported as a folder load would (plan_operations)."""
    url = create_scratch_database("demoops")
    engine = make_engine(url)
    planned = plan_operations(written[0].parent.parent)
    assert sorted(p for _r, p in planned) == sorted(written)
    for register, path in planned:
        result = import_register(engine, register, path, territory="46", user="demo")
        assert (result.status, result.counts["rejetees"]) == ("OK", 0), result.problems[:3]
    yield engine
    engine.dispose()
    drop_database(url)


def test_files_land_under_exploitation_and_repeat_byte_for_byte(
    written: list[Path], tmp_path: Path
) -> None:
    assert {p.parent.name for p in written} == {"exploitation"}
    again = write_operations("46", tmp_path, seed=46)
    assert [p.name for p in again] == [p.name for p in written]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(again, written, strict=True))


def test_incidents_and_controls_of_2023(loaded: Engine) -> None:
    with loaded.connect() as conn:
        dsp = restoration_delays(conn, territory="46", perimetre="dsp", year=2023)["lignes"][0]
        lot = restoration_delays(conn, territory="46", year=2023)["lignes"][0]
        controls = control_progress(conn, territory="46", campagne=2023, perimetre="dsp")
    assert dsp["incidents"] == 1557
    # "les engagements de délai de rétablissement ne sont pas respectés"
    assert dsp["part_dans_engagement"] is not None and 70 < dsp["part_dans_engagement"] < 95
    assert lot["incidents"] == round(1557 * 412 / 1308)
    assert (controls["controles"], controls["objectif"]) == (1297, 1308)


def test_take_up_against_the_delegataires_raccordables(loaded: Engine) -> None:
    with loaded.connect() as conn:
        frame = pd.read_sql(
            text(
                "SELECT date_releve, maille, abonnes, raccordables_declares FROM abonnes_releve"
                " WHERE territory_code = '46' AND perimetre = '46'"
            ),
            conn,
        )
    totals = frame[frame["maille"] == "total"].set_index("date_releve")
    communes = frame[frame["maille"] == "commune"].groupby("date_releve")["abonnes"].sum()
    rate = 100 * totals["abonnes"] / totals["raccordables_declares"]
    assert totals.loc[date(2021, 12, 31), "abonnes"] == 18_700
    assert rate[date(2021, 12, 31)] == pytest.approx(22.6, abs=0.1)
    assert rate[date(2022, 3, 31)] == pytest.approx(24, abs=24 * 0.03)
    assert rate[date(2024, 6, 30)] == pytest.approx(42, abs=42 * 0.03)
    # the communes' rows add up to the délégataire's total
    assert (communes == totals["abonnes"]).all()


def test_border_exchanges_sixteen_and_thirty_four(loaded: Engine) -> None:
    with loaded.connect() as conn:
        answer = border_exchanges(conn, territory="46")
    by = {
        x["voisin"]: (x["immeubles_servis_par_voisin"], x["immeubles_servis_par_delegataire"])
        for x in answer["lignes"]
    }
    assert by == {
        "Corrèze": (4, 3),
        "Lot-et-Garonne": (2, 4),
        "Tarn-et-Garonne": (6, 2),
        "AMII (Orange)": (4, 25),
    }
    assert (answer["immeubles_servis_par_voisins"], answer["immeubles_servis_hors_territoire"]) == (
        16,
        34,
    )


def test_with_the_demo_ipe_the_registers_name_its_pm(tmp_path: Path) -> None:
    """Beside IPE snapshots, the territory's controls name their PM and no commune gets more
    abonnés than it has raccordables."""
    (tmp_path / "ipe").mkdir()
    for day in ("20211231", "20220331"):
        states = {k: ("DEPLOYE", 5, "DEPLOYE", "2019-06-01") for k in BUILDINGS}
        write_ipe(tmp_path / "ipe" / f"IPE_TEST_46_{day}.csv", states)
    files = {p.name: p for p in write_operations("46", tmp_path, seed=46)}
    controls = pd.read_csv(files["controles_pm_46_2023.csv"], sep=";", dtype=str)
    assert set(controls["pm"]) == {"TST01", "TST02"}
    abonnes = pd.read_csv(files["abonnes_46.csv"], sep=";", dtype={"code_insee": str})
    communes = abonnes[abonnes["code_insee"].notna()]
    assert set(communes["code_insee"]) == {"46102"}
    assert communes["abonnes"].max() <= 5 * len(BUILDINGS)


def test_a_territory_outside_the_dsp_writes_no_empty_register(tmp_path: Path) -> None:
    """66 has no share of the DSP: no incidents or controls register of its own, rather than a
    header-only file the importer refuses (which stopped `demo load --departement 66`)."""
    (tmp_path / "ipe").mkdir()
    states = {k: ("DEPLOYE", 5, "DEPLOYE", "2019-06-01") for k in BUILDINGS}
    write_ipe(tmp_path / "ipe" / "IPE_TEST_66_20211231.csv", states)
    written = write_operations("66", tmp_path, seed=46)
    names = sorted(p.name for p in written)
    assert names == [
        "abonnes_66.csv",
        "controles_pm_dsp_2023.csv",
        "echanges_frontaliers_66.csv",
        "incidents_dsp_2023.csv",
    ]
    assert all(len(p.read_bytes().splitlines()) > 1 for p in written)
