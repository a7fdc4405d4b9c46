"""Prises onéreuses, RAD and oubliés on the demo Lot, against independent computations."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree
from sqlalchemy import Connection, text

from geo_service.analysis import onereuses as onereuses_module
from geo_service.analysis.costs import load_costs
from geo_service.analysis.onereuses import compare_with_operator, equity, estimate
from geo_service.analysis.oublies import in_finished_zones, missing_from_operator
from geo_service.analysis.rad import rad_counts, rad_list
from geo_service.auth.actor import Actor
from geo_service.edits.rad import set_rad_step


def state_frame(conn: Connection, day: date) -> pd.DataFrame:
    return pd.read_sql(
        text(
            "SELECT p.identifiant_immeuble, p.insee, h.etat, h.logements, h.pm_reference, "
            "ST_X(p.geom) AS x, ST_Y(p.geom) AS y FROM premise_history h JOIN premise p ON p.id = h.premise_id "
            "WHERE h.valid_from <= :d AND (h.valid_to IS NULL OR h.valid_to > :d) AND NOT h.removed AND NOT p.amii"
        ),
        conn,
        params={"d": day},
    )


@pytest.mark.parametrize("day", [date(2021, 6, 30), date(2024, 12, 31), date.today()], ids=str)
def test_cost_estimate_matches_a_kdtree_computation(demo_conn: Connection, day: date) -> None:
    costs = load_costs()
    rows = {r["identifiant_immeuble"]: r for r in estimate(demo_conn, territory="46", as_of=day)}
    frame = state_frame(demo_conn, day)
    pms = pd.read_sql(
        text("SELECT reference, ST_X(geom) AS x, ST_Y(geom) AS y FROM pm"), demo_conn
    ).set_index("reference")
    todo = frame[~frame["etat"].isin(["DEPLOYE", "ABANDONNE"])]
    assert set(rows) == set(todo["identifiant_immeuble"])
    deployed = frame[frame["etat"] == "DEPLOYE"][["x", "y"]].to_numpy()
    everyone = cKDTree(frame[["x", "y"]].to_numpy())
    sample = todo.sample(n=min(300, len(todo)), random_state=1)
    d_net, _ = cKDTree(deployed).query(sample[["x", "y"]].to_numpy())
    pm_xy = pms.loc[sample["pm_reference"], ["x", "y"]].to_numpy()
    d_pm = np.hypot(pm_xy[:, 0] - sample["x"].to_numpy(), pm_xy[:, 1] - sample["y"].to_numpy())
    neighbours = [
        len(everyone.query_ball_point(p, costs.rayon_voisinage_m)) - 1
        for p in sample[["x", "y"]].to_numpy()
    ]
    for (_, item), dn, dp, nb in zip(sample.iterrows(), d_net, d_pm, neighbours, strict=True):
        ours = rows[item["identifiant_immeuble"]]
        distance = min(dn, dp)
        assert ours["distance_reseau_m"] == pytest.approx(distance, abs=0.1)
        assert ours["voisins"] == nb
        route = distance * costs.facteur_detour
        rate = (
            costs.cout_metre_genie_civil
            if route > costs.distance_genie_civil_m
            else costs.cout_metre_reutilisation
        )
        total = (
            costs.cout_fixe_prise * max(item["logements"], 1)
            + route * rate
            + (costs.majoration_isolement if nb == 0 else 0)
        )
        assert ours["cout_par_logement"] == pytest.approx(
            total / max(item["logements"], 1), abs=1.0
        )
        assert ours["explication"]


def test_todays_estimate_reads_the_current_state_with_the_same_result(
    demo_conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Today, the estimate reads the premises directly; the as-of way gives the same rows."""
    assert onereuses_module._is_current(demo_conn, date.today())
    assert not onereuses_module._is_current(demo_conn, date(2024, 12, 31))
    today = estimate(demo_conn, territory="46")
    monkeypatch.setattr(onereuses_module, "_is_current", lambda _conn, _day: False)
    assert today == estimate(demo_conn, territory="46")
    assert len(today) > 100


def test_equity_and_comparison_with_the_operator_list(
    demo_conn: Connection, demo_folder: Path
) -> None:
    shares = equity(demo_conn, territory="46", as_of=date(2022, 2, 15))
    assert len(shares) == 312 - 30  # RIP communes only
    assert all(0 <= s["part_onereuse"] <= 100 for s in shares)
    assert shares[0]["part_onereuse"] >= shares[-1]["part_onereuse"]
    result = compare_with_operator(demo_conn, territory="46")
    # The operator's file itself (as imported from the demo folder) says what was listed.
    (path,) = (demo_folder / "onereuses").glob("prises_cheres_*.csv")
    operator = pd.read_csv(path, sep=";", dtype={"IdentifiantImmeuble": str})
    stamp = path.stem.rsplit("_", 1)[1]  # prises_cheres_ALLF_AAAAMMJJ
    assert result["date_liste"] == f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:]}"
    assert result["immeubles_listes"] == operator["IdentifiantImmeuble"].nunique() == len(operator)
    assert result["logements_listes"] == operator["NombreLogements"].sum()
    # Agreement and the listed addresses we judge cheap, from our own estimate on the list's date.
    ours = {
        r["identifiant_immeuble"]: r["cout_par_logement"]
        for r in estimate(demo_conn, territory="46", as_of=date.fromisoformat(result["date_liste"]))
    }
    listed = set(operator["IdentifiantImmeuble"])
    agree = {i for i in listed if i in ours and ours[i] > result["seuil"]}
    cheap = {r["identifiant_immeuble"] for r in result["jugees_peu_cheres"]}
    assert cheap == {i for i in listed if i in ours} - agree
    assert cheap and agree
    assert result["accord"] == round(100 * len(agree) / len(listed), 1)
    assert all(r["cout_par_logement"] <= result["seuil"] for r in result["jugees_peu_cheres"])


def test_rad_list_and_counts(demo_conn: Connection) -> None:
    day = date(2025, 12, 31)
    rows = rad_list(demo_conn, territory="46", as_of=day)
    frame = state_frame(demo_conn, day)
    on_demand = frame[frame["etat"].isin(["RACCORDABLE DEMANDE", "RAD EN COURS DE DEPLOIEMENT"])]
    listed_now = [r for r in rows if r["etat"] != "DEPLOYE"]
    assert {r["identifiant_immeuble"] for r in listed_now} == set(on_demand["identifiant_immeuble"])
    counts = rad_counts(demo_conn, territory="46", level="epci", as_of=day)
    assert sum(c["logements"] for c in counts) == sum(int(r["logements"]) for r in rows)
    target = listed_now[0]["identifiant_immeuble"]
    tech = Actor(name="tech", role="technicien", territory="46")
    set_rad_step(
        demo_conn,
        tech,
        target,
        expected_version=0,
        values={"etape": "LISTE_AVENANT", "date_avenant": date(2025, 3, 1)},
    )
    again = {r["identifiant_immeuble"]: r for r in rad_list(demo_conn, territory="46", as_of=day)}
    assert again[target]["etape"] == "LISTE_AVENANT"
    change = demo_conn.execute(
        text("SELECT changed_by, after->>'etape' FROM asset_change WHERE object_key = :k"),
        {"k": target},
    ).one()
    assert tuple(change) == ("tech", "LISTE_AVENANT")


def test_forty_missing_addresses_are_all_found(demo_conn: Connection, demo_folder: Path) -> None:
    truth = set(
        json.loads((demo_folder / "manifest.json").read_text())["truth"]["missing_addresses"]
    )
    assert len(truth) == 40
    found = {r["id"] for r in missing_from_operator(demo_conn, territory="46")}
    assert found == truth


def test_left_out_premises_in_finished_zones(demo_conn: Connection) -> None:
    day = date(2022, 3, 17)
    frame = state_frame(demo_conn, day)
    frame["racc"] = frame["logements"].where(frame["etat"] == "DEPLOYE", 0)
    zones = frame.groupby("pm_reference")[["racc", "logements"]].sum()
    done = zones[100 * zones["racc"] / zones["logements"] > 95].index
    expected = frame[
        frame["pm_reference"].isin(done)
        & frame["etat"].isin(["CIBLE", "SIGNE", "EN COURS DE DEPLOIEMENT"])
    ]
    found = in_finished_zones(demo_conn, territory="46", as_of=day)
    assert {r["identifiant_immeuble"] for r in found} == set(expected["identifiant_immeuble"])
    assert all(r["taux_zone"] > 95 for r in found)
