"""The state cube and its sums per unit. A refresh over the history (an older snapshot imported
late) must give back exactly the cube the imports built one date at a time; raccordables of
whole units are read from the stored sums (`state_rollup`): they must be the cube's own grouping
at every level and date, and follow a PM moved to another NRO."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Connection, text

from geo_service.analysis.raccordables import LEVELS, raccordables_series
from geo_service.ingest.cube import refresh_cube
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn
from tests.fixtures.gracethd.make_fixture import write_fixture
from tests.ingest.ipe_files import write_ipe


def from_cube(conn: Connection, territory: str, dates: list[date], amii: bool) -> dict:
    """The same figures grouped from the cube at the request (every commune of the territory
    named, the path of a unit made of communes)."""
    insees = conn.execute(
        text("SELECT insee FROM commune WHERE territory_code = :t"), {"t": territory}
    ).scalars()
    return raccordables_series(
        conn, territory=territory, dates=dates, levels=LEVELS, include_amii=amii,
        insees=list(insees),
    )  # fmt: skip


def stored(conn: Connection, territory: str, dates: list[date], amii: bool) -> dict:
    return raccordables_series(
        conn, territory=territory, dates=dates, levels=LEVELS, include_amii=amii
    )


def test_the_stored_sums_are_the_cubes_at_every_level_and_date(demo_conn: Connection) -> None:
    dates = [date(2018, 6, 30), date(2020, 6, 30), date(2022, 3, 17), date.today()]
    for amii in (False, True):
        ours = stored(demo_conn, "46", dates, amii)
        assert ours == from_cube(demo_conn, "46", dates, amii)
        today = ours[date.today()]
        assert {r["level"] for r in today} == set(LEVELS)
        assert sum(r["raccordables"] for r in today if r["level"] == "pm") > 10_000


def test_a_pm_moved_to_another_nro_takes_its_figures_along(
    connection: Connection, gracethd_gpkg: Path, tmp_path: Path
) -> None:
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    snapshot = write_ipe(
        tmp_path / "IPE_TEST_46_20200630.csv",
        {
            "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2020-04-15"),
            "IMB/46102/T/0002": ("DEPLOYE", 4, "DEPLOYE", "2020-04-15"),
            "IMB/46102/T/0003": ("DEPLOYE", 2, "DEPLOYE", "2020-06-01"),
        },
    )
    import_ipe_conn(connection, snapshot, territory="46", user="alice")
    day = [date(2020, 7, 1)]

    def nro_figures() -> dict[str, int]:
        rows = stored(connection, "46", day, False)[day[0]]
        return {r["code"]: r["raccordables"] for r in rows if r["level"] == "nro"}

    assert nro_figures() == {"NRO46102": 7}
    later = write_fixture(tmp_path / "gracethd_figeac_2020-12-31.gpkg", second_nro=True)
    import_gracethd_conn(
        connection, later, territory="46", snapshot_date=date(2020, 12, 31), user="test"
    )
    # TST01 (0001, 0002) stays under NRO46102, TST02 (0003) goes with its zone to NRO46103
    assert nro_figures() == {"NRO46102": 5, "NRO46103": 2}
    assert stored(connection, "46", day, False) == from_cube(connection, "46", day, False)


def cube_rows(conn: Connection, table: str = "state_cube") -> list:
    columns = {
        "state_cube": "pm_reference, insee, amii, etat, immeubles, logements, locaux_pro",
        "state_rollup": "level, code, amii, nom, immeubles, raccordables, cibles, locaux_pro",
    }[table]
    return conn.execute(
        text(
            f"SELECT valid_from, valid_to, {columns} FROM {table} "
            "WHERE territory_code = '46' ORDER BY 1, 2, 3, 4, 5, 6"
        )
    ).all()


def test_a_refresh_over_the_history_gives_back_the_cube_the_imports_built(
    demo_conn: Connection,
) -> None:
    built, sums = cube_rows(demo_conn), cube_rows(demo_conn, "state_rollup")
    dates = sorted({r.valid_from for r in built} | {r.valid_to for r in built if r.valid_to})
    assert len(dates) > 10
    middle = dates[len(dates) // 2]
    refresh_cube(demo_conn, middle, "46")  # from a date in the middle: the later dates only
    assert cube_rows(demo_conn) == built
    assert cube_rows(demo_conn, "state_rollup") == sums
    refresh_cube(demo_conn, date(2000, 1, 1), "46")  # all of it
    assert cube_rows(demo_conn) == built
    assert cube_rows(demo_conn, "state_rollup") == sums
    days = [dates[1], middle, date.today()]
    assert stored(demo_conn, "46", days, True) == from_cube(demo_conn, "46", days, True)


def spans_on(conn: Connection, table: str, day: date) -> list:
    """The spans of `table` that start or end on `day`."""
    return conn.execute(
        text(
            f"SELECT * FROM {table} WHERE territory_code = '46' "
            "AND (valid_from = :d OR valid_to = :d) ORDER BY id"
        ),
        {"d": day},
    ).all()


def test_an_import_writes_only_the_spans_that_change(
    connection: Connection, gracethd_gpkg: Path, tmp_path: Path
) -> None:
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    states = {
        "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2020-04-15"),
        "IMB/46102/T/0002": ("DEPLOYE", 4, "DEPLOYE", "2020-04-15"),
        "IMB/46102/T/0003": ("DEPLOYE", 2, "DEPLOYE", "2020-06-01"),
        "IMB/46102/T/0004": ("CIBLE", 3, "DEPLOYE", "2020-06-01"),
    }
    first, second, third = date(2020, 6, 30), date(2020, 7, 15), date(2020, 7, 31)
    import_ipe_conn(
        connection, write_ipe(tmp_path / "IPE_TEST_46_20200630.csv", states), territory="46",
        user="alice",
    )  # fmt: skip
    states["IMB/46102/T/0004"] = ("DEPLOYE", 3, "DEPLOYE", "2020-06-01")  # in zone TST02
    import_ipe_conn(
        connection, write_ipe(tmp_path / "IPE_TEST_46_20200715.csv", states), territory="46",
        user="alice",
    )  # fmt: skip
    cube = spans_on(connection, "state_cube", second)
    # TST02's CIBLE key is gone, its DEPLOYE one grows: two spans end, one starts
    assert sorted((r.pm_reference, r.etat, r.valid_to) for r in cube if r.valid_from == first) == [
        ("TST02", "CIBLE", second),
        ("TST02", "DEPLOYE", second),
    ]
    assert [(r.pm_reference, r.etat, r.immeubles, r.logements, r.valid_to) for r in cube
            if r.valid_from == second] == [("TST02", "DEPLOYE", 2, 5, None)]  # fmt: skip
    # TST01's span, untouched, still runs from the first snapshot
    tst01 = connection.execute(
        text("SELECT valid_from, valid_to FROM state_cube WHERE pm_reference = 'TST01'")
    ).all()
    assert tst01 == [(first, None)]
    sums = spans_on(connection, "state_rollup", second)
    changed = {(r.level, r.code) for r in sums if r.valid_from == second}
    assert ("pm", "TST02") in changed and ("commune", "46102") in changed
    assert ("departement", "46") in changed and ("nro", "NRO46102") in changed
    assert not any(code == "TST01" for _, code in changed)
    assert {(r.level, r.code) for r in sums if r.valid_to == second} == changed
    # the same file again a fortnight later: nothing to write
    import_ipe_conn(
        connection, write_ipe(tmp_path / "IPE_TEST_46_20200731.csv", states), territory="46",
        user="alice",
    )  # fmt: skip
    assert spans_on(connection, "state_cube", third) == []
    assert spans_on(connection, "state_rollup", third) == []
    figures = stored(connection, "46", [first, second, third], False)
    raccordables = {d: {r["code"]: r["raccordables"] for r in rows if r["level"] == "pm"}
                    for d, rows in figures.items()}  # fmt: skip
    assert raccordables == {
        first: {"TST01": 5, "TST02": 2},
        second: {"TST01": 5, "TST02": 5},
        third: {"TST01": 5, "TST02": 5},
    }
    days = [first, second, third]
    assert figures == from_cube(connection, "46", days, False)


def test_no_two_spans_of_a_key_that_follow_each_other_carry_the_same_figures(
    demo_conn: Connection,
) -> None:
    for table, key, values in (
        ("state_cube", "pm_reference, insee, amii, etat", "immeubles, logements, locaux_pro"),
        (
            "state_rollup",
            "level, code, amii",
            "nom, immeubles, immeubles_raccordables, logements, raccordables, "
            "raccordables_demande, en_cours, cibles, abandonnes, locaux_pro",
        ),
    ):
        repeated = demo_conn.execute(
            text(
                f"SELECT count(*) FROM (SELECT valid_from, lag(valid_to) OVER k AS before, "
                f"({values}) AS v, lag(({values})) OVER k AS v_before FROM {table} "
                f"WHERE territory_code = '46' "
                f"WINDOW k AS (PARTITION BY {key} ORDER BY valid_from)) s "
                "WHERE before = valid_from AND v = v_before"
            )
        ).scalar_one()
        spans = demo_conn.execute(
            text(f"SELECT count(*) FROM {table} WHERE territory_code = '46'")
        ).scalar_one()
        assert spans > 100 and repeated == 0, table


def _move_premises(
    connection: Connection, gracethd_gpkg: Path, tmp_path: Path, moved: list[str]
) -> tuple[str, date, date]:
    """Three premises of commune 46102 imported on 30 June 2020, then the same file on 15 July
    with the premises `moved` in another commune: that commune, and both dates."""
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    other = connection.execute(
        text("SELECT min(insee) FROM commune WHERE territory_code = '46' AND insee <> '46102'")
    ).scalar_one()
    states = {
        "IMB/46102/T/0001": ("DEPLOYE", 1, "DEPLOYE", "2020-04-15"),
        "IMB/46102/T/0003": ("DEPLOYE", 2, "DEPLOYE", "2020-06-01"),
        "IMB/46102/T/0004": ("DEPLOYE", 3, "DEPLOYE", "2020-06-01"),
    }
    first, second = date(2020, 6, 30), date(2020, 7, 15)
    import_ipe_conn(
        connection, write_ipe(tmp_path / "IPE_TEST_46_20200630.csv", states), territory="46",
        user="alice",
    )  # fmt: skip
    path = write_ipe(tmp_path / "IPE_TEST_46_20200715.csv", states)
    text_ = path.read_text(encoding="utf-8")
    for identifier in moved:
        number = identifier.rsplit("/", 1)[1]
        line = f"{identifier};46102_{number};46102;"
        assert line in text_
        text_ = text_.replace(line, f"{identifier};46102_{number};{other};")
    path.write_text(text_, "utf-8")
    import_ipe_conn(connection, path, territory="46", user="alice")
    return other, first, second


def _communes(figures: dict) -> dict:
    return {d: {r["code"]: r["raccordables"] for r in rows if r["level"] == "commune"}
            for d, rows in figures.items()}  # fmt: skip


def test_a_premise_moved_to_another_commune_moves_its_figures(
    connection: Connection, gracethd_gpkg: Path, tmp_path: Path
) -> None:
    """A change of commune alone writes no history period (the state is the same): the cube
    still follows it, as a recomputation from the current state does."""
    other, first, second = _move_premises(connection, gracethd_gpkg, tmp_path, ["IMB/46102/T/0004"])
    figures = stored(connection, "46", [first, second], False)
    assert _communes(figures) == {first: {"46102": 6}, second: {"46102": 3, other: 3}}
    assert figures == from_cube(connection, "46", [first, second], False)
    built, sums = cube_rows(connection), cube_rows(connection, "state_rollup")
    refresh_cube(connection, second, "46")  # recomputed from the premises as they are
    assert cube_rows(connection) == built
    assert cube_rows(connection, "state_rollup") == sums


def test_a_commune_left_without_premises_has_no_figures_from_that_date(
    connection: Connection, gracethd_gpkg: Path, tmp_path: Path
) -> None:
    """The sums of a unit whose premises all went elsewhere end on that date, with no span of
    zeros after; those of a unit that had none start there."""
    moved = ["IMB/46102/T/0001", "IMB/46102/T/0003", "IMB/46102/T/0004"]
    other, first, second = _move_premises(connection, gracethd_gpkg, tmp_path, moved)
    figures = stored(connection, "46", [first, second], False)
    assert _communes(figures) == {first: {"46102": 6}, second: {other: 6}}
    assert figures == from_cube(connection, "46", [first, second], False)
    spans = connection.execute(
        text(
            "SELECT code, valid_from, valid_to FROM state_rollup WHERE territory_code = '46' "
            "AND level = 'commune' ORDER BY code, valid_from"
        )
    ).all()
    assert [tuple(r) for r in spans] == sorted([("46102", first, second), (other, second, None)])
    built, sums = cube_rows(connection), cube_rows(connection, "state_rollup")
    refresh_cube(connection, second, "46")  # recomputed from the premises as they are
    assert cube_rows(connection) == built
    assert cube_rows(connection, "state_rollup") == sums
