"""The ARCEP cross-check finds exactly the planted differences, as of the ARCEP file's date.

The expected categories are derived here from the fixture files themselves (ARCEP's CSV and the
two IPE snapshots, read with the csv module, distances with pyproj and shapely), not from the
code's output; tests/fixtures/arcep_immeubles/make_fixtures.py says what was planted.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from pyproj import Transformer
from shapely.geometry import Point
from sqlalchemy import Connection, text

from geo_service.analysis.controle_arcep import (
    CATEGORIES,
    CSV_COLUMNS,
    arcep_differences,
    differences_csv,
)
from geo_service.errors import InvalidParameterError, NotFoundError
from geo_service.ingest.arcep_immeubles import import_arcep_immeubles_conn
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn

FIXTURES = Path(__file__).parent.parent / "fixtures" / "arcep_immeubles"
ARCEP_DAY = date(2024, 6, 30)
TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
ARCEP_STATES = {  # ARCEP's labels → the IPE's
    "deploye": "DEPLOYE",
    "en cours de deploiement": "EN COURS DE DEPLOIEMENT",
    "cible": "CIBLE",
    "signe": "SIGNE",
    "raccordable demande": "RACCORDABLE DEMANDE",
    "abandonne": "ABANDONNE",
}


@pytest.fixture()
def loaded(connection: Connection, gracethd_gpkg: Path) -> Connection:
    """The small network, two IPE snapshots around the ARCEP quarter, and the ARCEP file."""
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="t"
    )
    for name in ("IPE_TEST_46_20240331.csv", "IPE_TEST_46_20240930.csv"):
        import_ipe_conn(connection, FIXTURES / "ipe" / name, territory="46", user="t")
    import_arcep_immeubles_conn(
        connection, FIXTURES / "2024t2-immeuble.zip", territory="46", user="t"
    )
    return connection


def _ipe(name: str) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((FIXTURES / "ipe" / name).read_text("utf-8")), delimiter=";")
    return {r["IdentifiantImmeuble"]: r for r in rows}


def expected(conn: Connection, seuil: float = 100.0) -> set[tuple[str, str]]:
    """(category, building) pairs from the files: ARCEP on 30 June against the IPE in force on
    30 June, i.e. the March snapshot (the September one comes after)."""
    amii = set(conn.execute(text("SELECT insee FROM commune WHERE amii")).scalars())
    text_ = (FIXTURES / "carte_fibre_immeubles_2024_T2_20240912.csv").read_bytes().decode("cp1252")
    arcep = {
        r["imb_id"]: r
        for r in csv.DictReader(io.StringIO(text_, newline=""))
        if r["code_insee"].startswith("46")
    }
    ipe = _ipe("IPE_TEST_46_20240331.csv")
    found: set[tuple[str, str]] = set()
    for ident, a in arcep.items():
        if ident not in ipe:
            if a["code_insee"] not in amii:
                found.add(("absent_ipe", ident))
            continue
        i = ipe[ident]
        state = i["EtatImmeuble"].replace("RAD EN COURS DE DEPLOIEMENT", "RACCORDABLE DEMANDE")
        if ARCEP_STATES[a["imb_etat"]] != state:
            found.add(("etat_different", ident))
        if (a["pm_ref"] or None) != (i["ReferencePM"] or None):
            found.add(("pm_different", ident))
        here = Point(TO_L93.transform(float(a["x"]), float(a["y"])))
        there = Point(float(i["CoordonneeImmeubleX"]), float(i["CoordonneeImmeubleY"]))
        if here.distance(there) > seuil:
            found.add(("position_ecart", ident))
    found |= {("absent_arcep", ident) for ident in ipe if ident not in arcep}
    return found


def pairs(result: dict[str, object]) -> set[tuple[str, str]]:
    return {(r["categorie"], r["imb_id"]) for r in result["lignes"]}  # type: ignore[attr-defined]


def test_finds_exactly_the_planted_differences_as_of_the_file_date(loaded: Connection) -> None:
    result = arcep_differences(loaded, "46")
    assert result["date_arcep"] == ARCEP_DAY  # the latest quarter loaded
    assert pairs(result) == expected(loaded)
    # every category is planted once at least, and the planted cases are the ones found
    assert pairs(result) == {
        ("absent_ipe", "IMB/46102/T/0105"),
        ("absent_ipe", "IMB/46102/T/0108"),  # enters the operator's file after 30 June
        ("absent_ipe", "IMB/46127/T/0201"),
        ("absent_arcep", "IMB/46102/T/0106"),
        ("etat_different", "IMB/46102/T/0102"),
        ("etat_different", "IMB/46251/T/0301"),
        ("pm_different", "IMB/46102/T/0103"),
        ("position_ecart", "IMB/46102/T/0104"),
    }
    # 0107 changed state (CIBLE → DEPLOYE) after 30 June and 0109 left the file after 30 June:
    # today's state would differ, the state on 30 June does not
    assert not {p for p in pairs(result) if p[1] in ("IMB/46102/T/0107", "IMB/46102/T/0109")}
    assert result["par_categorie"] == {
        c: sum(1 for p in expected(loaded) if p[0] == c) for c in CATEGORIES
    }


def test_rows_carry_both_sides_and_the_distance(loaded: Connection) -> None:
    rows = {(r["categorie"], r["imb_id"]): r for r in arcep_differences(loaded, "46")["lignes"]}
    state = rows[("etat_different", "IMB/46102/T/0102")]
    assert (state["etat_arcep"], state["etat_ipe"]) == ("deploye", "EN COURS DE DEPLOIEMENT")
    pm = rows[("pm_different", "IMB/46102/T/0103")]
    assert (pm["pm_arcep"], pm["pm_ipe"]) == ("TST02", "TST01")
    far = rows[("position_ecart", "IMB/46102/T/0104")]
    text_ = (FIXTURES / "carte_fibre_immeubles_2024_T2_20240912.csv").read_bytes().decode("cp1252")
    line = next(r for r in csv.DictReader(io.StringIO(text_)) if r["imb_id"].endswith("0104"))
    ipe = _ipe("IPE_TEST_46_20240331.csv")["IMB/46102/T/0104"]
    distance = Point(TO_L93.transform(float(line["x"]), float(line["y"]))).distance(
        Point(float(ipe["CoordonneeImmeubleX"]), float(ipe["CoordonneeImmeubleY"]))
    )
    assert far["distance_m"] == pytest.approx(distance, abs=0.1)
    assert far["distance_m"] == pytest.approx(250, abs=0.5)  # as planted: 150 m east, 200 north
    assert rows[("absent_arcep", "IMB/46102/T/0106")]["adresse"] == "4 PLACE CHAMPOLLION"


def test_threshold_is_configurable(loaded: Connection) -> None:
    close = arcep_differences(loaded, "46", seuil_m=50)
    assert {p for p in pairs(close) if p[0] == "position_ecart"} == {
        p for p in expected(loaded, seuil=50) if p[0] == "position_ecart"
    }
    assert ("position_ecart", "IMB/46102/T/0110") in pairs(close)  # 60 m apart
    with pytest.raises(InvalidParameterError):
        arcep_differences(loaded, "46", seuil_m=-1)


def test_counts_per_commune_and_epci(loaded: Connection) -> None:
    result = arcep_differences(loaded, "46")
    epci_of = dict(loaded.execute(text("SELECT insee, epci_siren FROM commune")).all())
    planted = expected(loaded)
    by_commune: dict[str, int] = {}
    by_epci: dict[str, int] = {}
    for _category, ident in planted:
        insee = ident.split("/")[1]
        by_commune[insee] = by_commune.get(insee, 0) + 1
        by_epci[epci_of[insee]] = by_epci.get(epci_of[insee], 0) + 1
    assert {u["insee"]: u["total"] for u in result["par_commune"]} == by_commune
    assert {u["siren"]: u["total"] for u in result["par_epci"]} == by_epci
    figeac = next(u for u in result["par_commune"] if u["insee"] == "46102")
    assert figeac["absent_ipe"] == 2 and figeac["position_ecart"] == 1
    only = arcep_differences(loaded, "46", insee="46251")
    assert pairs(only) == {("etat_different", "IMB/46251/T/0301")}
    grand_figeac = arcep_differences(loaded, "46", epci=epci_of["46102"])
    assert pairs(grand_figeac) == {
        p for p in planted if epci_of[p[1].split("/")[1]] == epci_of["46102"]
    }
    with pytest.raises(InvalidParameterError):
        arcep_differences(loaded, "46", insee="75056")


def test_date_picks_the_quarter_and_says_when_none_is_loaded(loaded: Connection) -> None:
    assert arcep_differences(loaded, "46", date=date(2024, 8, 15))["date_arcep"] == ARCEP_DAY
    with pytest.raises(NotFoundError) as caught:
        arcep_differences(loaded, "46", date=date(2024, 6, 29))
    assert "30/06/2024" in caught.value.message
    with pytest.raises(NotFoundError):  # another territory sees nothing of the Lot's quarters
        arcep_differences(loaded, "66")
    loaded.execute(text("DELETE FROM arcep_immeuble"))
    with pytest.raises(NotFoundError) as none:
        arcep_differences(loaded, "46")
    assert "geo-service import arcep-immeubles" in none.value.message


def test_csv_is_ready_to_send(loaded: Connection) -> None:
    result = arcep_differences(loaded, "46")
    content = differences_csv(result)
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0] == list(CSV_COLUMNS.values())
    assert rows[0][:3] == ["Catégorie", "Code catégorie", "Identifiant immeuble"]
    assert len(rows) == 1 + len(expected(loaded))  # one line per building and category
    far = next(r for r in rows if r[1] == "position_ecart")
    assert float(far[rows[0].index("Écart (m)")].replace(",", ".")) == pytest.approx(250, abs=0.5)
    assert far[0] == "Positions éloignées"
    assert "," in far[rows[0].index("Longitude")]  # decimal comma, as French spreadsheets read
