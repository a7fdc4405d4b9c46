"""Raccordables per unit on the demo Lot, checked against an independent geopandas computation
(spatial joins of the premises' points with commune and PM-zone polygons) at two dates."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import Connection, text

from geo_service.analysis.raccordables import raccordables, raccordables_series

DATES = [date(2020, 6, 30), date(2022, 3, 17)]


def premises_as_of(conn: Connection, day: date) -> gpd.GeoDataFrame:
    """Points and their state on `day`, read as raw rows (no aggregation in SQL)."""
    return gpd.read_postgis(
        text(
            "SELECT h.etat, h.logements, p.amii, p.geom FROM premise_history h "
            "JOIN premise p ON p.id = h.premise_id "
            "WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed"
        ),
        conn,
        geom_col="geom",
        params={"d": day},
    )


def expected_by(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, key: str) -> pd.DataFrame:
    rip = points[~points["amii"]]
    joined = gpd.sjoin(rip, polygons[[key, "geometry"]], predicate="within", how="inner")
    joined["racc"] = joined["logements"].where(joined["etat"] == "DEPLOYE", 0)
    return joined.groupby(key).agg(logements=("logements", "sum"), raccordables=("racc", "sum"))


@pytest.mark.parametrize("day", DATES, ids=str)
def test_communes_match_a_spatial_join(demo_conn: Connection, day: date) -> None:
    points = premises_as_of(demo_conn, day)
    communes = gpd.read_postgis(
        "SELECT insee, geom AS geometry FROM commune", demo_conn, geom_col="geometry"
    )
    expected = expected_by(points, communes, "insee")
    ours = pd.DataFrame(
        raccordables(demo_conn, territory="46", as_of=day, levels=("commune",))
    ).set_index("code")
    ours = ours[ours["logements"] > 0]
    assert set(ours.index) == set(expected.index)
    pd.testing.assert_series_equal(
        ours.loc[expected.index, "raccordables"].astype(int),
        expected["raccordables"].astype(int),
        check_names=False,
    )
    pd.testing.assert_series_equal(
        ours.loc[expected.index, "logements"].astype(int),
        expected["logements"].astype(int),
        check_names=False,
    )


@pytest.mark.parametrize("day", DATES, ids=str)
def test_pm_zones_match_a_spatial_join(demo_conn: Connection, day: date) -> None:
    points = premises_as_of(demo_conn, day)
    zones = gpd.read_postgis(
        "SELECT reference, zone AS geometry FROM pm WHERE NOT amii", demo_conn, geom_col="geometry"
    )
    expected = expected_by(points, zones, "reference")
    ours = pd.DataFrame(
        raccordables(demo_conn, territory="46", as_of=day, levels=("pm",))
    ).set_index("code")
    assert len(ours) == 412
    both = ours.join(expected, rsuffix="_geo", how="outer").fillna(0)
    assert (both["raccordables"] == both["raccordables_geo"]).all()
    assert (both["logements"] == both["logements_geo"]).all()
    assert (
        (both["taux"] - 100 * both["raccordables_geo"] / both["logements_geo"]).abs() < 0.01
    ).all()


def test_a_series_of_dates_gives_each_date_its_own_figures(demo_conn: Connection) -> None:
    """One query for many dates (the progress charts) = one query per date, AMII included;
    a date before the first snapshot has no rows."""
    dates = [date(2017, 12, 31), *DATES, date(2023, 9, 30), date.today()]
    for amii in (False, True):
        series = raccordables_series(
            demo_conn, territory="46", dates=dates, levels=("commune", "departement"),
            include_amii=amii,
        )  # fmt: skip
        assert list(series) == dates and series[dates[0]] == []
        for day in dates:
            alone = raccordables(
                demo_conn, territory="46", as_of=day, levels=("commune", "departement"),
                include_amii=amii,
            )  # fmt: skip
            assert series[day] == alone


def test_every_level_adds_up_to_the_departement(demo_conn: Connection) -> None:
    rows = raccordables(demo_conn, territory="46", as_of=date(2021, 12, 31))
    dept = next(r for r in rows if r["level"] == "departement")
    for level in ("pm", "nro", "commune", "epci"):
        total = sum(r["raccordables"] for r in rows if r["level"] == level)
        assert total == dept["raccordables"], level
    assert {r["level"] for r in rows} == {"pm", "nro", "commune", "epci", "departement"}
    keys = {
        "level",
        "code",
        "nom",
        "logements",
        "raccordables",
        "raccordables_demande",
        "en_cours",
        "cibles",
        "taux",
    }
    assert keys <= set(dept)


def test_progress_series_targets_and_bands(demo_client, demo_conn: Connection) -> None:  # type: ignore[no-untyped-def]
    body = demo_client.get(
        "/api/v1/stats/progress", params={"level": "epci", "code": "200067361"}
    ).json()
    series = {p["date"]: p["raccordables"] for p in body["serie"]}
    for day in ("2019-06-30", "2021-12-31", "2024-12-31"):
        row = raccordables(
            demo_conn, territory="46", as_of=date.fromisoformat(day), levels=("epci",)
        )
        assert series[day] == next(r["raccordables"] for r in row if r["code"] == "200067361")
    assert sum(body["armoires_par_bande"].values()) > 0

    # Zones whose DOE is due: the fully deployed zones (from a spatial join of today's premises
    # with the zone polygons) whose DOE is not filed yet; filing it takes a zone off the list.
    zones = gpd.read_postgis(
        "SELECT reference, zone AS geometry FROM pm WHERE NOT amii", demo_conn, geom_col="geometry"
    )
    per_zone = expected_by(premises_as_of(demo_conn, date.today()), zones, "reference")
    finished = sorted(
        per_zone.index[
            (per_zone["logements"] > 0) & (per_zone["raccordables"] == per_zone["logements"])
        ]
    )
    assert len(finished) >= 2
    filed, to_file = finished[0], finished[1]
    for reference, etat in ((filed, "DEPOSE"), (to_file, "A_DEPOSER")):
        demo_conn.execute(
            text("UPDATE pm SET doe_etat = :e WHERE reference = :r"), {"e": etat, "r": reference}
        )
    dept = demo_client.get("/api/v1/stats/progress").json()
    assert [t["date"] for t in dept["objectifs"]] == ["2019-12-31", "2021-12-31", "2022-12-31"]
    assert dept["objectifs"][2]["raccordables"] == 115_000
    due = {z["reference"]: z for z in dept["doe_dus"]}
    assert set(due) == set(finished) - {filed}
    assert due[to_file]["doe_etat"] == "A_DEPOSER"
    assert {z["taux"] for z in due.values()} == {100.0}
