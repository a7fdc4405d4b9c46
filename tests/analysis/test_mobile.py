"""Mobile lifecycle: rules per programme, deadline (arrêté + 24 months) and late flag as of several
dates, state as of a date, indicators (pipeline, per year, late sites, units, park share)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon, shape
from sqlalchemy import Connection, text

from geo_service.analysis.lifecycle import check, state_as_of
from geo_service.analysis.mobile import (
    MOBILE_LIFECYCLE,
    deadline,
    mobile_indicators,
    mobile_lifecycle,
    mobile_site,
    mobile_sites,
    months_late,
)
from geo_service.db.changes import log_change
from geo_service.errors import InvalidParameterError
from geo_service.ingest.couche import import_couche_conn
from geo_service.ingest.dcc import import_dcc_conn
from geo_service.reference.load import load_reference
from geo_service.settings import Settings
from tests.conftest import FIXTURES

# code, programme, insee, x, y, arrêté, service, abandon
SITES = [
    ("ND-A", "NEW_DEAL", "46018", 594903, 6401958, "2020-01-20", None, None),  # Le Bastit
    ("ND-B", "NEW_DEAL", "46059", 590684, 6404168, "2019-07-08", "2021-06-01", None),  # Carlucet
    ("ND-C", "NEW_DEAL", "46039", 607471, 6387316, "2019-07-08", "2021-10-01", None),  # Brengues
    ("ND-D", "NEW_DEAL", "46155", 602886, 6377445, "2019-07-08", None, "2022-03-01"),  # Larnagol
    ("CB-1", "CENTRE_BOURG", "46102", 622711, 6390243, None, "2005-09-01", None),  # Figeac
    ("TDF-1", "TDF_IRU", "46042", 576377, 6374252, None, "2006-03-01", None),  # Cahors
]


def _d(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


@pytest.fixture()
def loaded(connection: Connection) -> Connection:
    for code, programme, insee, x, y, arrete, service, abandon in SITES:
        connection.execute(
            text(
                "INSERT INTO mobile_site (code, nom, insee, programme, etat, date_arrete,"
                " date_mise_en_service, date_abandon, operateurs, geom) VALUES (:c, :c, :i, :p,"
                " 'ARRETE', :a, :s, :ab, 'ORANGE', ST_SetSRID(ST_MakePoint(:x, :y), 2154))"
            ),
            {
                "c": code,
                "i": insee,
                "p": programme,
                "a": _d(arrete),
                "s": _d(service),
                "ab": _d(abandon),
                "x": x,
                "y": y,
            },
        )
    return connection


def _months(later: date, earlier: date) -> int:
    """Whole months from `earlier` to `later`, counted by hand."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


@pytest.mark.parametrize(
    ("code", "as_of", "late"),
    [
        ("ND-A", date(2021, 12, 31), False),  # before its deadline (2022-01-20)
        ("ND-A", date(2022, 1, 20), False),  # on the deadline
        ("ND-A", date(2022, 5, 25), True),  # past it, not in service
        ("ND-B", date(2022, 5, 25), False),  # in service before its deadline
        ("ND-C", date(2021, 9, 20), True),  # past its deadline (2021-07-08), not yet in service
        ("ND-C", date(2021, 12, 31), False),  # in service since 2021-10-01
        ("ND-D", date(2021, 10, 1), True),  # late…
        ("ND-D", date(2022, 6, 1), False),  # … then abandoned
        ("CB-1", date(2022, 6, 1), False),  # no arrêté, no deadline
    ],
)
def test_deadline_and_late_flag_as_of_dates(
    loaded: Connection, code: str, as_of: date, late: bool
) -> None:
    [site] = [s for s in mobile_sites(loaded, "46", as_of=as_of) if s["code"] == code]
    arrete = next(_d(s[5]) for s in SITES if s[0] == code)
    expected_deadline = None if arrete is None else arrete.replace(year=arrete.year + 2)
    assert site["echeance"] == expected_deadline == deadline(arrete)
    assert site["en_retard"] is late
    expected_months = _months(as_of, expected_deadline) if late and expected_deadline else None
    assert site["mois_retard"] == expected_months
    assert months_late(site, as_of) == expected_months  # the Python rule agrees with SQL


def test_late_filter_and_state_as_of(loaded: Connection) -> None:
    as_of = date(2021, 9, 20)
    late = mobile_sites(loaded, "46", as_of=as_of, en_retard=True)
    assert [s["code"] for s in late] == ["ND-C", "ND-D"]
    for site in mobile_sites(loaded, "46", as_of=as_of):
        assert site["etat"] == state_as_of(MOBILE_LIFECYCLE, site, as_of)
    # before its arrêté a site did not exist yet
    assert "ND-A" not in {s["code"] for s in mobile_sites(loaded, "46", as_of=date(2019, 12, 1))}
    served = mobile_sites(loaded, "46", as_of=date(2021, 7, 1), etat="EN_SERVICE")
    assert [s["code"] for s in served] == ["CB-1", "ND-B", "TDF-1"]
    assert mobile_sites(loaded, "46", as_of=as_of, programme="TDF_IRU")[0]["code"] == "TDF-1"
    assert [s["code"] for s in mobile_sites(loaded, "46", as_of=as_of, insee="46039")] == ["ND-C"]


TODAY = date(2024, 1, 1)


def test_stage_rules_per_programme() -> None:
    new_deal = mobile_lifecycle("NEW_DEAL")
    # in service without its arrêté: a stage skipped without a date
    assert check(new_deal, {"date_mise_en_service": date(2022, 1, 1)}, TODAY) == [
        ("date_arrete", "étape « arrêté » sans date alors que « mise en service » est datée")
    ]
    # the syndicat's steps before the arrêté and the construction start may be missing
    assert (
        check(
            new_deal,
            {"date_arrete": date(2020, 1, 1), "date_mise_en_service": date(2021, 5, 1)},
            TODAY,
        )
        == []
    )
    # a done stage in the future
    [(field, reason)] = check(
        new_deal, {"date_arrete": date(2023, 1, 1), "date_mise_en_service": date(2024, 3, 1)}, TODAY
    )
    assert (field, reason) == (
        "date_mise_en_service",
        "mise en service datée du 01/03/2024, dans le futur",
    )
    # dates out of order
    [(field, reason)] = check(
        new_deal, {"date_arrete": date(2021, 1, 1), "date_mise_en_service": date(2020, 3, 1)}, TODAY
    )
    assert field == "date_mise_en_service" and "avant arrêté" in reason
    # a legacy pylon of 2005 or a TDF site: only their service date
    for programme in ("CENTRE_BOURG", "TDF_IRU"):
        assert (
            check(mobile_lifecycle(programme), {"date_mise_en_service": date(2005, 9, 1)}, TODAY)
            == []
        )


def test_indicators_as_of_a_date(loaded: Connection) -> None:
    as_of = date(2022, 6, 30)
    found = mobile_indicators(loaded, "46", as_of=as_of)
    assert found["sites"] == 6
    assert found["pipeline"] == {"ABANDONNE": 1, "ARRETE": 1, "EN_SERVICE": 4}
    assert found["par_programme"] == {"CENTRE_BOURG": 1, "NEW_DEAL": 4, "TDF_IRU": 1}
    assert found["mises_en_service"] == [
        {"annee": 2005, "sites": 1, "cumul": 1, "new_deal": 0, "cumul_new_deal": 0},
        {"annee": 2006, "sites": 1, "cumul": 2, "new_deal": 0, "cumul_new_deal": 0},
        {"annee": 2021, "sites": 2, "cumul": 4, "new_deal": 2, "cumul_new_deal": 2},
    ]
    [late] = found["en_retard"]
    assert (late["code"], late["mois_retard"]) == ("ND-A", _months(as_of, date(2022, 1, 20)))
    epci = {u["code"]: (u["sites"], u["en_service"]) for u in found["par_epci"]}
    assert epci == {"200023737": (1, 1), "200066371": (2, 1), "200067361": (3, 2)}
    unit = mobile_indicators(loaded, "46", as_of=as_of, level="epci", code="200066371")
    assert (unit["sites"], [u["code"] for u in unit["par_commune"]]) == (2, ["46018", "46059"])
    commune = mobile_indicators(loaded, "46", as_of=as_of, level="commune", code="46039")
    assert commune["pipeline"] == {"EN_SERVICE": 1}
    with pytest.raises(InvalidParameterError):
        mobile_indicators(loaded, "46", as_of=as_of, level="region")


def test_share_of_sites_in_the_park(loaded: Connection) -> None:
    park_file = FIXTURES / "couches" / "pnr_causses_du_quercy.geojson"
    import_couche_conn(loaded, "pnr", park_file, territory="46", user="t")
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True).transform
    park = shapely.transform(
        shape(json.loads(park_file.read_text())["features"][0]["geometry"]),
        to_l93,
        interleaved=False,
    )
    inside = sum(park.covers(Point(s[3], s[4])) for s in SITES)
    found = mobile_indicators(loaded, "46", as_of=date(2024, 1, 1))["parc"]
    assert (found["dans_le_parc"], found["sites"]) == (inside, len(SITES))
    assert found["part"] == pytest.approx(inside / len(SITES))
    assert 0 < inside < len(SITES)
    flagged = {
        s["code"] for s in mobile_sites(loaded, "46", as_of=date(2024, 1, 1)) if s["dans_le_parc"]
    }
    assert flagged == {s[0] for s in SITES if park.covers(Point(s[3], s[4]))}


def test_one_site_with_its_history_in_its_territory_only(loaded: Connection) -> None:
    log_change(
        loaded,
        table="mobile_site",
        key="ND-C",
        user="alice",
        before={"etat": "ARRETE"},
        after={"etat": "EN_SERVICE"},
        valid_from=date(2021, 10, 1),
    )
    site = mobile_site(loaded, "46", "ND-C", as_of=date(2021, 9, 1))
    assert site is not None
    assert (site["etat"], site["en_retard"], site["mois_retard"]) == ("ARRETE", True, 1)
    [change] = site["historique"]
    assert (change["changed_by"], change["after"]) == ("alice", {"etat": "EN_SERVICE"})
    assert mobile_site(loaded, "46", "inconnu", as_of=TODAY) is None
    assert mobile_site(loaded, "66", "ND-C", as_of=TODAY) is None
    assert mobile_sites(loaded, "66", as_of=TODAY) == []


def test_two_territories_do_not_see_each_other(loaded: Connection, tmp_path: Path) -> None:
    load_reference(loaded, "66", territory_dir=Settings().territory_dir("66"))
    dcc = tmp_path / "2022_T2_dcc_Metropole_sites.csv"
    source = (FIXTURES / "arcep" / "2022_T2_dcc_Metropole_sites.csv").read_text(encoding="utf-8")
    perpignan = (
        "2021-1;2021-04-01;201;ZPB66201;1;201;NA;1601;PERPIGNAN NORD;OCCITANIE;"
        "PYRÉNÉES-ORIENTALES;66;691000;6175200;1;0;0;0;20801;1;0;0;1;0;Collectivité;3\r\n"
    )
    dcc.write_text(source + perpignan, encoding="utf-8")
    result = import_dcc_conn(loaded, dcc, territory="66", user="t", today=date(2026, 1, 15))
    assert result.counts["crees"] == 1  # the Lot's rows are left to the Lot
    square = Polygon([(689000, 6173000), (693000, 6173000), (693000, 6177000), (689000, 6177000)])
    park = tmp_path / "pnr66.geojson"
    to_wgs84 = Transformer.from_crs(2154, 4326, always_xy=True).transform
    park.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"nom": "Parc 66"},
                        "geometry": shapely.transform(
                            square, to_wgs84, interleaved=False
                        ).__geo_interface__,
                    }
                ],
            }
        )
    )
    import_couche_conn(loaded, "pnr", park, territory="66", user="t")
    as_of = date(2024, 1, 1)
    assert [s["code"] for s in mobile_sites(loaded, "66", as_of=as_of)] == ["201"]
    assert mobile_indicators(loaded, "66", as_of=as_of)["parc"]["part"] == 1.0
    lot = mobile_indicators(loaded, "46", as_of=as_of)
    assert (lot["sites"], lot["parc"]["dans_le_parc"]) == (len(SITES), 0)  # no Lot park loaded
