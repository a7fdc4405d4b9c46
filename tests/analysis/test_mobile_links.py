"""New Deal sites linked to ANFR stations: by ARCEP's sites file (`id_station_anfr`), else by
proximity to a station of a hosted operator; "in service since" then comes from ANFR."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from pyproj import Transformer
from shapely.geometry import Point
from sqlalchemy import Connection, text

from geo_service.analysis.mobile import mobile_site, mobile_sites
from geo_service.analysis.mobile_links import link_sites
from geo_service.ingest.arcep_sites import import_arcep_sites_conn
from geo_service.ingest.dcc import import_dcc_conn
from tests.conftest import FIXTURES

ARCEP = FIXTURES / "arcep"
TODAY = date(2026, 1, 15)
SITE_XY = {"101": (594903, 6401958), "102": (590684, 6404168), "103": (607471, 6387316)}
# (support, station, operator, x, y, station service date, emitters: (system, techno, date))
ANFR = [
    (
        1,
        "0461000001",
        "ORANGE",
        595023,
        6402008,
        None,
        [
            ("LTE 700", "4G", "2021-09-01"),
            ("GSM 900", "2G", "2021-09-01"),
            ("5G NR 3500", "5G", "2023-05-10"),
        ],
    ),
    (5, "0461000005", "ORANGE", 590744, 6404248, "2022-11-03", []),
    # around Brengues (SFR, Bouygues): Orange is closest but not hosted, Bouygues too far
    (10, "0461000010", "ORANGE", 607521, 6387316, "2015-01-01", []),
    (
        11,
        "0461000011",
        "SFR",
        607471,
        6387616,
        None,
        [("GSM 900", "2G", "2019-01-01"), ("LTE 800", "4G", "2021-11-20")],
    ),
    (13, "0461000013", "BOUYGUES TELECOM", 607471, 6387916, "2021-06-01", []),
    # 700 m from Larnagol (Free, Bouygues)
    (20, "0461000020", "FREE MOBILE", 602886, 6378145, None, [("LTE 700", "4G", "2022-02-14")]),
]


def _load_anfr(conn: Connection) -> None:
    """ANFR rows as the ANFR importer stores them (written directly here)."""
    emr = 0
    for sup, station, operator, x, y, since, emitters in ANFR:
        conn.execute(
            text(
                "INSERT INTO anfr_support (sup_id, insee, geom)"
                " VALUES (:s, '46000', ST_SetSRID(ST_MakePoint(:x, :y), 2154))"
            ),
            {"s": sup, "x": x, "y": y},
        )
        conn.execute(
            text(
                "INSERT INTO anfr_station (sta_nm_anfr, exploitant, date_en_service)"
                " VALUES (:a, :o, CAST(:d AS date))"
            ),
            {"a": station, "o": operator, "d": since},
        )
        conn.execute(
            text("INSERT INTO anfr_station_support (sta_nm_anfr, sup_id) VALUES (:a, :s)"),
            {"a": station, "s": sup},
        )
        for system, techno, day in emitters:
            emr += 1
            conn.execute(
                text(
                    "INSERT INTO anfr_emetteur (emr_id, sta_nm_anfr, systeme, technologie,"
                    " date_service) VALUES (:e, :a, :sy, :t, CAST(:d AS date))"
                ),
                {"e": emr, "a": station, "sy": system, "t": techno, "d": day},
            )


@pytest.fixture()
def sites(connection: Connection) -> Connection:
    import_dcc_conn(
        connection,
        ARCEP / "2022_T2_dcc_Metropole_sites.csv",
        territory="46",
        user="t",
        today=TODAY,
    )
    _load_anfr(connection)
    return connection


def _links(conn: Connection) -> dict[str, tuple[str, str, float]]:
    return {
        r.site_code: (r.sta_nm_anfr, r.methode, r.distance_m)
        for r in conn.execute(text("SELECT * FROM mobile_site_station ORDER BY site_code"))
    }


def _file_position(station: str) -> tuple[float, float]:
    """A station's position as ARCEP's file gives it (x/y, else latitude/longitude with a
    decimal comma), converted here with pyproj."""
    with (ARCEP / "2022_T4_sites_Metropole.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            if row["id_station_anfr"] == station:
                if row["x"] != "NA":
                    return float(row["x"]), float(row["y"])
                lon = float(row["longitude"].replace(",", "."))
                lat = float(row["latitude"].replace(",", "."))
                return Transformer.from_crs(4326, 2154, always_xy=True).transform(lon, lat)
    raise AssertionError(station)


def test_links_by_arcep_id_and_by_proximity(sites: Connection) -> None:
    result = import_arcep_sites_conn(
        sites, ARCEP / "2022_T4_sites_Metropole.csv", territory="46", user="t", today=TODAY
    )
    assert result.status == "OK", result.problems
    # Le Bastit by its shared-site code, Carlucet by position (decimal commas), the Figeac line
    # has no New Deal site of ours, the non-DCC and Aveyron lines are left out
    assert (result.counts["lignes_new_deal"], result.counts["sites_relies"]) == (3, 2)
    links = _links(sites)
    assert {k: v[:2] for k, v in links.items()} == {
        "101": ("0461000001", "ARCEP"),
        "102": ("0461000005", "ARCEP"),
        "103": ("0461000011", "PROXIMITE"),  # SFR at 300 m; Orange (50 m) is not hosted
    }
    for code, station in (("101", "0461000001"), ("102", "0461000005")):
        expected = Point(SITE_XY[code]).distance(Point(_file_position(station)))
        assert links[code][2] == pytest.approx(expected, abs=0.05)
    assert links["103"][2] == pytest.approx(Point(SITE_XY["103"]).distance(Point(607471, 6387616)))
    assert "106" not in links  # Free's station is 700 m away, beyond the default 500 m
    brengues = mobile_site(sites, "46", "103", as_of=TODAY)
    assert brengues is not None
    link = [h for h in brengues["historique"] if h["table_name"] == "mobile_site_station"]
    assert [(h["object_key"], h["import_id"]) for h in link] == [
        ("103/0461000011", result.journal_id)
    ]


def test_service_dates_come_from_anfr(sites: Connection) -> None:
    import_arcep_sites_conn(
        sites, ARCEP / "2022_T4_sites_Metropole.csv", territory="46", user="t", today=TODAY
    )
    rows = {
        r.code: r
        for r in sites.execute(
            text("SELECT code, etat, date_mise_en_service, source_mise_en_service FROM mobile_site")
        )
    }
    # 101: the emitters' first date replaces the DCC quarter; 102: the station's own date;
    # 103: SFR's LTE 800 (its GSM of 2019 predates the arrêté of 2021: an older emitter)
    assert {
        c: (r.etat, r.date_mise_en_service, r.source_mise_en_service) for c, r in rows.items()
    } == {
        "101": ("EN_SERVICE", date(2021, 9, 1), "ANFR"),
        "102": ("EN_SERVICE", date(2022, 11, 3), "ANFR"),
        "103": ("EN_SERVICE", date(2021, 11, 20), "ANFR"),
        "106": ("ARRETE", None, None),
    }
    change = sites.execute(
        text(
            "SELECT before->>'etat', after->>'etat', after->>'date_mise_en_service' FROM asset_change"
            " WHERE table_name = 'mobile_site' AND object_key = '103' ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert tuple(change) == ("ARRETE", "EN_SERVICE", "2021-11-20")
    [bastit] = [s for s in mobile_sites(sites, "46", as_of=date(2022, 1, 1)) if s["code"] == "101"]
    assert bastit["technologies"] == {"2G": date(2021, 9, 1), "4G": date(2021, 9, 1)}
    [bastit] = [s for s in mobile_sites(sites, "46", as_of=date(2024, 1, 1)) if s["code"] == "101"]
    assert set(bastit["technologies"]) == {"2G", "4G", "5G"}
    assert [(s["sta_nm_anfr"], s["methode"]) for s in bastit["stations"]] == [
        ("0461000001", "ARCEP")
    ]


def test_register_service_date_is_kept(sites: Connection) -> None:
    sites.execute(
        text(
            "UPDATE mobile_site SET date_mise_en_service = '2021-12-01', etat = 'EN_SERVICE'"
            " WHERE code = '103'"
        )
    )
    link_sites(sites, "46", import_id=None, user="t", today=TODAY)
    row = sites.execute(
        text(
            "SELECT date_mise_en_service, source_mise_en_service FROM mobile_site WHERE code = '103'"
        )
    ).one()
    assert tuple(row) == (date(2021, 12, 1), None)


def test_distance_is_configurable(sites: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    # without ARCEP's file: Le Bastit, Carlucet (Orange within 500 m) and Brengues (SFR)
    assert link_sites(sites, "46", import_id=None, user="t", today=TODAY) == 3
    assert "106" not in _links(sites)
    monkeypatch.setenv("GEO_SERVICE_DISTANCE_LIEN_ANFR_M", "800")
    assert link_sites(sites, "46", import_id=None, user="t", today=TODAY) == 1
    station, method, metres = _links(sites)["106"]
    assert (station, method) == ("0461000020", "PROXIMITE")
    assert metres == pytest.approx(700.0)
    # nothing new the second time
    assert link_sites(sites, "46", import_id=None, user="t", today=TODAY, max_distance_m=800) == 0
    date_106 = sites.execute(
        text("SELECT date_mise_en_service FROM mobile_site WHERE code = '106'")
    ).scalar_one()
    assert date_106 == date(2022, 2, 14)


@pytest.mark.parametrize(
    ("station_since", "expected"),
    [
        # before the DCC quarter that said "within 6 months": that start date gives way
        ("2022-03-01", ("EN_SERVICE", date(2022, 3, 1), None)),
        # before the arrêté (2020-10-15): an older installation, not this site's service
        ("2019-01-01", ("EN_CONSTRUCTION", None, date(2022, 6, 30))),
    ],
)
def test_anfr_dates_are_checked_against_the_lifecycle(
    sites: Connection, station_since: str, expected: tuple[str, date | None, date | None]
) -> None:
    sites.execute(
        text("UPDATE anfr_station SET date_en_service = :d WHERE sta_nm_anfr = '0461000005'"),
        {"d": date.fromisoformat(station_since)},
    )
    link_sites(sites, "46", import_id=None, user="t", today=TODAY)
    row = sites.execute(
        text(
            "SELECT etat, date_mise_en_service, date_construction FROM mobile_site WHERE code = '102'"
        )
    ).one()
    assert tuple(row) == expected
