"""MED cabinets as of any date and their indicators, against dates compared here."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from geo_service.analysis.med import check_med, med_indicators, med_site, med_sites
from geo_service.errors import InvalidParameterError
from geo_service.ingest.registers import import_register_conn
from tests.conftest import FIXTURES

REGISTRES = FIXTURES / "registres"
FIGEAC_EPCI = "200067361"
DATES = [date(2018, 1, 15), date(2018, 5, 10), date(2018, 12, 31), date(2019, 6, 30)]


def _fixture_rows() -> list[dict[str, Any]]:
    with (REGISTRES / "sites_med_complet.csv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    for r in rows:
        for k, v in list(r.items()):
            if k.startswith("date_"):
                r[k] = date.fromisoformat(v) if v else None
        if r["date_ouverture"] is None and r["date_reception_orange"] is not None:
            r["date_ouverture"] = r["date_reception_orange"] + timedelta(weeks=12)
    return rows


@pytest.fixture()
def loaded(connection: Connection, tmp_path: Path) -> Connection:
    path = tmp_path / "sites_med_20190301.csv"
    path.write_text((REGISTRES / "sites_med_complet.csv").read_text())
    assert import_register_conn(connection, "med", path, territory="46").status == "OK"
    return connection


def test_states_as_of_several_dates(loaded: Connection) -> None:
    def states(as_of: date) -> dict[str, str]:
        return {s["code"]: s["etat"] for s in med_sites(loaded, "46", as_of=as_of)}

    assert states(date(2018, 1, 15)) == dict.fromkeys(
        ("MED-46102-A", "MED-46129-A", "MED-46240-A"), "PROJET"
    )
    assert states(date(2018, 2, 15))["MED-46102-A"] == "ALIMENTATION"
    assert states(date(2018, 5, 10)) == {
        "MED-46102-A": "ARMOIRE_POSEE",
        "MED-46129-A": "DALLE_RECUE",
        "MED-46240-A": "BRANCHE_ENEDIS",
    }
    assert states(date(2018, 12, 31)) == {
        "MED-46102-A": "OUVERT",
        "MED-46129-A": "RECU_ORANGE",
        "MED-46240-A": "DALLE_RECUE",
    }
    assert states(date(2019, 2, 1))["MED-46129-A"] == "OUVERT"  # 2018-11-05 + 12 weeks
    opened = med_sites(loaded, "46", as_of=date(2018, 12, 31), etat="RECU_ORANGE")
    assert [(s["code"], s["ouverture_calculee"], s["ouverture_prevue"]) for s in opened] == [
        ("MED-46129-A", True, True)
    ]
    blocked = med_sites(loaded, "46", as_of=date(2018, 12, 31), insee="46240")
    assert [(s["bloque"], s["cause_blocage"]) for s in blocked] == [
        (True, "servitude de passage refusée pour l'armoire")
    ]
    assert len(med_sites(loaded, "46", as_of=date(2018, 12, 31), epci=FIGEAC_EPCI)) == 2


@pytest.mark.parametrize("as_of", DATES)
@pytest.mark.parametrize(
    ("level", "code", "communes"),
    [
        ("departement", None, {"46102", "46129", "46240"}),
        ("epci", FIGEAC_EPCI, {"46102", "46129"}),
        ("commune", "46129", {"46129"}),
    ],
)
def test_indicators_match_the_milestones(
    loaded: Connection, as_of: date, level: str, code: str | None, communes: set[str]
) -> None:
    rows = [r for r in _fixture_rows() if r["code_insee"] in communes]

    def reached(field: str) -> list[dict[str, Any]]:
        return [r for r in rows if r[field] is not None and r[field] <= as_of]

    figures = med_indicators(loaded, "46", as_of=as_of, level=level, code=code)
    assert figures["sites"] == len(rows)
    assert figures["installes"] == len(reached("date_pose_armoire"))
    assert figures["receptionnes"] == len(reached("date_reception_orange"))
    assert figures["ouverts"] == len(reached("date_ouverture"))
    assert figures["foyers"] == sum(int(r["foyers"]) for r in rows)
    assert figures["foyers_desservis"] == sum(int(r["foyers"]) for r in reached("date_ouverture"))
    expected_blocked = [
        r["code"]
        for r in rows
        if r["cause_blocage"] and not (r["date_ouverture"] and r["date_ouverture"] <= as_of)
    ]
    assert [b["code"] for b in figures["bloques"]] == expected_blocked
    assert sum(figures["par_etat"].values()) == len(rows)


def test_state_as_of_from_the_history_and_from_the_dates(
    loaded: Connection, tmp_path: Path
) -> None:
    update = tmp_path / "sites_med_20190601.csv"  # Rocamadour's cabinet finally posed
    update.write_text(
        "code;nom;code_insee;nra;foyers;date_alimentation;date_enedis;date_reception_dalle;"
        "date_pose_armoire;date_recette;date_reception_orange;date_ouverture;cause_blocage;"
        "longitude;latitude\n"
        "MED-46240-A;Rocamadour — L'Hospitalet;46240;46240ROC;60;2018-03-15;2018-05-01;"
        "2018-06-01;2019-04-02;2019-05-02;;;;1.62673;44.80594\n"
    )
    result = import_register_conn(loaded, "med", update, territory="46", user="bob")
    assert result.counts["modifies"] == 1
    site = med_site(loaded, "46", "MED-46240-A", as_of=date(2019, 5, 15))
    assert site is not None
    # the dates say recette on 2019-05-15; what was known then (the March register) said dalle
    assert (site["etat"], site["etat_historique"], site["bloque"]) == (
        "RECETTE",
        "DALLE_RECUE",
        False,
    )
    assert len(site["historique"]) == 1
    later = med_site(loaded, "46", "MED-46240-A", as_of=date(2019, 7, 1))
    assert later is not None and later["etat_historique"] == "RECETTE"
    assert [(h["changed_by"], h["import_id"]) for h in later["historique"]][-1] == (
        "bob",
        result.journal_id,
    )
    assert later["historique"][-1]["before"]["cause_blocage"].startswith("servitude")
    assert med_site(loaded, "66", "MED-46240-A", as_of=date(2019, 7, 1)) is None


def test_the_rules_exported_for_the_forms() -> None:
    row = {
        "date_enedis": date(2018, 3, 1),
        "date_reception_dalle": date(2018, 4, 1),
        "date_pose_armoire": date(2018, 5, 2),
        "date_recette": date(2018, 6, 1),
        "date_reception_orange": date(2018, 7, 1),
        "date_ouverture": date(2018, 9, 23),
        "ouverture_calculee": True,  # réception + 12 weeks: planned, not "done in the future"
    }
    assert check_med(row, date(2018, 8, 1)) == []
    assert check_med({**row, "ouverture_calculee": False}, date(2018, 8, 1)) == [
        ("date_ouverture", "ouverture commerciale datée du 23/09/2018, dans le futur")
    ]


def test_an_unknown_level_or_a_missing_code_is_refused_in_french(loaded: Connection) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        med_indicators(loaded, "46", as_of=date(2019, 1, 1), level="region")
    assert caught.value.message == (
        "Niveau « region » inconnu (valeurs admises : departement, departement_membre, epci, commune)."
    )
    with pytest.raises(InvalidParameterError) as caught:
        med_indicators(loaded, "46", as_of=date(2019, 1, 1), level="epci")
    assert caught.value.message == "Le niveau « epci » demande un code."
