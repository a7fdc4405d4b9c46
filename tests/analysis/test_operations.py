"""The operating registers' figures equal an independent pandas computation from the files:
restoration delays against the commitments, control progress, take-up against raccordables
as of the same date (from the IPE states written by the test)."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection

from geo_service.analysis.operations import (
    control_progress,
    list_incidents,
    restoration_delays,
    territory_estimate,
)
from geo_service.analysis.take_up import border_exchanges, take_up, take_up_series
from geo_service.errors import InvalidParameterError
from geo_service.ingest.abonnes import ABONNES
from geo_service.ingest.controles_pm import CONTROLES_PM
from geo_service.ingest.echanges_frontaliers import ECHANGES_FRONTALIERS
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.incidents import INCIDENTS
from geo_service.ingest.ipe import import_ipe_conn
from geo_service.ingest.operations_common import import_register_conn
from tests.conftest import FIXTURES
from tests.ingest.ipe_files import BUILDINGS, write_ipe

OPERATIONS = FIXTURES / "operations"
ENGAGEMENTS = tomllib.loads(
    resources.files("geo_service.data").joinpath("engagements.toml").read_text(encoding="utf-8")
)
# IPE states by date: identifiant → (EtatImmeuble, logements)
STATES = {
    date(2021, 12, 31): {
        "IMB/46102/T/0001": ("DEPLOYE", 3),
        "IMB/46102/T/0002": ("DEPLOYE", 2),
        "IMB/46102/T/0003": ("CIBLE", 4),
        "IMB/46102/T/0004": ("DEPLOYE", 1),
    },
    date(2022, 3, 31): {
        "IMB/46102/T/0001": ("DEPLOYE", 3),
        "IMB/46102/T/0002": ("DEPLOYE", 2),
        "IMB/46102/T/0003": ("DEPLOYE", 4),
        "IMB/46102/T/0004": ("DEPLOYE", 1),
    },
}
ABONNES_CSV = """date;perimetre;code_insee;pm;abonnes;raccordables;fai
2021-12-31;46;46102;;2;;Orange|SFR
2022-03-31;46;46102;;4;;Orange|SFR|Free
2022-03-31;46;;TST01;3;;Orange
2022-03-31;46;;TST02;1;;Orange
2021-12-31;dsp;;;52000;230000;Orange|SFR|Free|Bouygues Telecom
"""


@pytest.fixture()
def loaded(connection: Connection, gracethd_gpkg: Path, tmp_path: Path) -> Connection:
    import_gracethd_conn(connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1))
    for day, states in STATES.items():
        path = write_ipe(
            tmp_path / f"IPE_TEST_46_{day:%Y%m%d}.csv",
            {k: (etat, n, "DEPLOYE", "2019-06-01") for k, (etat, n) in states.items()},
        )
        import_ipe_conn(connection, path, territory="46", snapshot_date=day)
    (tmp_path / "abonnes.csv").write_text(ABONNES_CSV, encoding="utf-8")
    for register, path in (
        (INCIDENTS, OPERATIONS / "incidents.csv"),
        (CONTROLES_PM, OPERATIONS / "controles_pm.csv"),
        (ABONNES, tmp_path / "abonnes.csv"),
        (ECHANGES_FRONTALIERS, OPERATIONS / "echanges_frontaliers.csv"),
    ):
        assert import_register_conn(connection, register, path, territory="46").status == "OK"
    return connection


def incidents_frame() -> pd.DataFrame:
    """The fixture's incidents, read and computed by pandas alone."""
    frame = pd.read_csv(OPERATIONS / "incidents.csv", sep=";", dtype=str)

    def moment(value: object) -> pd.Timestamp:
        if pd.isna(value):
            return pd.NaT
        text = str(value)
        stamp = pd.Timestamp(pd.to_datetime(text, dayfirst="/" in text))
        local = stamp if stamp.tzinfo else stamp.tz_localize("Europe/Paris")
        return local.tz_convert("UTC")

    frame["opened"] = pd.to_datetime(frame["ouverture"].map(moment), utc=True)
    frame["restored"] = pd.to_datetime(frame["retablissement"].map(moment), utc=True)
    frame["hours"] = (frame["restored"] - frame["opened"]).dt.total_seconds() / 3600
    frame["limit"] = frame["categorie"].map(
        {k: v["delai_heures"] for k, v in ENGAGEMENTS["incidents"]["categories"].items()}
    )
    frame["within"] = frame["hours"] <= frame["limit"]
    frame["month"] = frame["opened"].map(lambda t: t.tz_convert("Europe/Paris").strftime("%Y-%m"))
    return frame


def test_restoration_delays_equal_pandas_by_category_and_month(loaded: Connection) -> None:
    frame = incidents_frame()
    ours = frame[frame["perimetre"] == "46"]
    for by, column in (("categorie", "categorie"), ("mois", "month")):
        answer = restoration_delays(loaded, territory="46", year=2023, by=by)  # type: ignore[arg-type]
        assert answer["perimetre"] == "46" and answer["engagements"] == "hypothèse"
        got = {
            line["groupe"]: (line["incidents"], line["retablis"], line["part_dans_engagement"])
            for line in answer["lignes"]
        }
        expected = {}
        for key, group in ours.groupby(column):
            restored = group["hours"].notna().sum()
            share = round(100 * group["within"].sum() / restored, 2) if restored else None
            expected[key] = (len(group), int(restored), share)
        assert got == expected
    total = restoration_delays(loaded, territory="46", year=2023)["lignes"][0]
    restored = ours["hours"].notna()
    assert total["part_dans_engagement"] == round(100 * ours["within"].sum() / restored.sum(), 2)
    assert total["delai_moyen_heures"] == pytest.approx(ours["hours"].mean(), abs=0.01)
    assert total["en_cours"] == int((~restored).sum())


def test_dsp_incidents_are_never_mixed_with_the_territory(loaded: Connection) -> None:
    frame = incidents_frame()
    dsp = restoration_delays(loaded, territory="46", perimetre="dsp", year=2023)
    assert dsp["perimetre"] == "dsp" and "toute la DSP" in dsp["perimetre_libelle"]
    assert dsp["lignes"][0]["incidents"] == int((frame["perimetre"] == "dsp").sum())
    by_commune = restoration_delays(loaded, territory="46", year=2023, by="commune")
    assert [(x["groupe"], x["nom"]) for x in by_commune["lignes"]] == [("46102", "Figeac")]
    with pytest.raises(InvalidParameterError):
        restoration_delays(loaded, territory="46", perimetre="12")


def test_as_of_a_date_an_incident_restored_later_is_still_open(loaded: Connection) -> None:
    # INC-2023-003 opened 3 Feb 14:00, restored 5 Feb 08:00 (Paris)
    early = restoration_delays(loaded, territory="46", as_of=date(2023, 2, 4))["lignes"][0]
    assert (early["incidents"], early["retablis"]) == (3, 2)
    listed = list_incidents(loaded, territory="46", as_of=date(2023, 2, 4))
    assert [(i["reference"], i["retablissement"]) for i in listed][0] == ("INC-2023-003", None)


def test_control_progress_equals_pandas(loaded: Connection) -> None:
    frame = pd.read_csv(OPERATIONS / "controles_pm.csv", sep=";", dtype=str)
    for scope, objective in (
        ("dsp", ENGAGEMENTS["controles_pm"]["objectifs"]["dsp"]["2023"]),
        ("46", 2),
    ):
        rows = frame[(frame["perimetre"] == scope) & (frame["campagne"] == "2023")]
        answer = control_progress(loaded, territory="46", campagne=2023, perimetre=scope)
        assert answer["controles"] == rows["pm"].nunique()
        assert answer["objectif"] == objective
        assert answer["avancement"] == round(100 * rows["pm"].nunique() / objective, 2)
        assert answer["non_conformes"] == int((rows["resultat"] == "non conforme").sum())
    estimate = territory_estimate(1297, territory="46")
    assert estimate["estimation"] is True
    assert estimate["estimation_territoire"] == pytest.approx(1297 * 412 / 1308, abs=0.05)


def test_take_up_is_abonnes_over_raccordables_of_the_same_date(loaded: Connection) -> None:
    states = pd.DataFrame(
        [
            {"day": day, "ident": k, "etat": etat, "logements": n, "pm": BUILDINGS[k][4]}
            for day, by_ident in STATES.items()
            for k, (etat, n) in by_ident.items()
        ]
    )
    deployed = states[states["etat"] == "DEPLOYE"]
    raccordables = deployed.groupby("day")["logements"].sum()
    per_pm = deployed.groupby(["day", "pm"])["logements"].sum()
    abonnes = pd.read_csv(pd.io.common.StringIO(ABONNES_CSV), sep=";", dtype=str)
    commune = abonnes[abonnes["code_insee"] == "46102"].set_index("date")["abonnes"].astype(int)
    for day in STATES:
        answer = take_up(loaded, territory="46", as_of=day)
        line = answer["lignes"][0]
        assert answer["date_releve"] == day.isoformat()
        assert line["raccordables"] == raccordables[day]
        assert line["taux_penetration"] == round(100 * commune[str(day)] / raccordables[day], 2)
    pm = take_up(loaded, territory="46", as_of=date(2022, 6, 30), maille="pm")
    assert {x["code"]: x["taux_penetration"] for x in pm["lignes"]} == {
        "TST01": round(100 * 3 / per_pm[(date(2022, 3, 31), "TST01")], 2),
        "TST02": round(100 * 1 / per_pm[(date(2022, 3, 31), "TST02")], 2),
    }
    # the commune rows make the total (the PM rows count the same subscribers)
    assert pm["total"]["abonnes"] == 4 and pm["total"]["somme_de"] == "commune"
    assert pm["total"]["fai"] == ["Free", "Orange", "SFR"]
    assert pm["national"]["taux"] == 50.3 and pm["national_cite"]["taux"] == 40.0
    series = take_up_series(loaded, territory="46")["points"]
    assert [p["taux_penetration"] for p in series] == [
        round(100 * 2 / raccordables[date(2021, 12, 31)], 2),
        round(100 * 4 / raccordables[date(2022, 3, 31)], 2),
    ]
    dsp = take_up(loaded, territory="46", perimetre="dsp")
    assert dsp["total"]["taux_penetration"] == round(100 * 52000 / 230000, 2)


def test_border_exchanges_count_buildings_by_neighbour(loaded: Connection) -> None:
    frame = pd.read_csv(OPERATIONS / "echanges_frontaliers.csv", sep=";", dtype=str)
    answer = border_exchanges(loaded, territory="46")
    got = {x["voisin"]: x for x in answer["lignes"]}
    for voisin, group in frame.groupby("voisin"):
        by_neighbour = group[group["sens"].str.contains("voisin")]["identifiant_immeuble"]
        assert got[voisin]["immeubles_servis_par_voisin"] == by_neighbour.nunique()
    assert answer["immeubles_servis_par_voisins"] == 2
    assert answer["immeubles_servis_hors_territoire"] == 2
    # the 1 100 m link serves two buildings: counted once
    assert got["Lot-et-Garonne"]["longueur_liens_m"] == 1100.0
    before = border_exchanges(loaded, territory="46", as_of=date(2022, 7, 1))
    assert before["immeubles_servis_hors_territoire"] == 1  # the Corrèze sheet: September
