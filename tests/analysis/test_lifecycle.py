"""The generic dated-lifecycle rules: order, skipped stages, future dates, state as of a date,
and the SQL form agreeing with the Python one."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text

from geo_service.analysis.lifecycle import Lifecycle, Stage, check, state_as_of, state_sql

LIFE = Lifecycle(
    stages=(
        Stage("A", "d_a", "étape A"),
        Stage("B", "d_b", "étape B"),
        Stage("C", "d_c", "étape C"),
    ),
    optional=frozenset({"d_b"}),
    end=Stage("X", "d_x", "abandon"),
)
TODAY = date(2024, 6, 1)


def test_valid_rows_break_no_rule() -> None:
    assert check(LIFE, {"d_a": date(2020, 1, 1), "d_b": None, "d_c": date(2021, 1, 1)}, TODAY) == []
    assert check(LIFE, {"d_a": None, "d_b": None, "d_c": None}, TODAY) == []


def test_each_rule_names_the_field() -> None:
    skipped = check(LIFE, {"d_a": None, "d_c": date(2021, 1, 1)}, TODAY)
    assert [field for field, _ in skipped] == ["d_a"]
    assert "étape A" in skipped[0][1] and "étape C" in skipped[0][1]
    future = check(LIFE, {"d_a": date(2025, 1, 1)}, TODAY)
    assert future[0][0] == "d_a" and "futur" in future[0][1]
    backwards = check(LIFE, {"d_a": date(2021, 1, 1), "d_c": date(2020, 1, 1)}, TODAY)
    assert [field for field, _ in backwards] == ["d_c"]
    ended_early = check(LIFE, {"d_a": date(2021, 1, 1), "d_x": date(2020, 1, 1)}, TODAY)
    assert [field for field, _ in ended_early] == ["d_x"]


def test_state_as_of_in_python_and_sql_agree(connection: Connection) -> None:
    row = {"d_a": date(2020, 1, 1), "d_b": None, "d_c": date(2022, 1, 1), "d_x": date(2023, 1, 1)}
    expected = {
        date(2019, 12, 31): None,
        date(2020, 1, 1): "A",
        date(2021, 6, 1): "A",
        date(2022, 1, 1): "C",
        date(2023, 1, 1): "X",
    }
    sql = text(
        "SELECT " + state_sql(LIFE, "r") + " FROM (SELECT CAST(:a AS date) AS d_a, "
        "CAST(NULL AS date) AS d_b, CAST(:c AS date) AS d_c, CAST(:x AS date) AS d_x) r"
    )
    for as_of, state in expected.items():
        assert state_as_of(LIFE, row, as_of) == state
        in_sql = connection.execute(
            sql, {"a": row["d_a"], "c": row["d_c"], "x": row["d_x"], "as_of": as_of}
        ).scalar_one()
        assert in_sql == state
