"""WiFi bornes as of any date and the syndicat's indicators, against independent computations
(dates compared here, discs and premises with shapely/pyproj)."""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from geo_service.analysis.wifi import wifi_borne, wifi_bornes, wifi_indicators
from geo_service.ingest.cube import refresh_cube
from geo_service.ingest.registers import import_register_conn
from geo_service.ingest.wifi_stats import import_wifi_stats_conn
from tests.conftest import FIXTURES

REGISTRES = FIXTURES / "registres"
TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
GOURDON = "WIFI-46127-A;Mairie de Gourdon;46127;;EXTERIEUR;130;WiFi Lot SAS;G-2019;2019-01-07;2019-02-01;2019-03-01;2019-03-10;;;1.38197;44.73690\n"
CHANGE = date(2022, 1, 1)  # premises' second period starts here
FIGEAC_EPCI = "200067361"


def _bornes_file(tmp_path: Path) -> Path:
    path = tmp_path / "bornes_wifi_20250201.csv"
    path.write_text((REGISTRES / "bornes_wifi_complet.csv").read_text() + GOURDON)
    return path


def _discs() -> list[dict[str, Any]]:
    """The bornes of the test registers with their L93 centre, radius and service period."""
    with (REGISTRES / "bornes_wifi_complet.csv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    rows += list(csv.DictReader([GOURDON], fieldnames=list(rows[0]), delimiter=";"))
    out = []
    for r in rows:
        x, y = TO_L93.transform(float(r["longitude"]), float(r["latitude"]))
        start = date.fromisoformat(r["date_mise_en_service"]) if r["date_mise_en_service"] else None
        end = date.fromisoformat(r["date_retrait"]) if r["date_retrait"] else None
        out.append({"x": x, "y": y, "r": int(r["rayon_m"] or 150), "start": start, "end": end})
    return out


def _premises(conn: Connection, discs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Premises around the Figeac bornes (some listed later, removed, or changed in 2022) and a
    few in Gréalou, written to premise and premise_history."""
    rng = random.Random(11)
    centre = discs[0]
    made: list[dict[str, Any]] = []
    gx, gy = TO_L93.transform(1.88599, 44.53583)
    while len(made) < 140:
        i = len(made)
        if i < 120:
            x, y, insee = (
                centre["x"] + rng.uniform(-350, 350),
                centre["y"] + rng.uniform(-350, 350),
                "46102",
            )
        else:
            x, y, insee = gx + rng.uniform(-200, 200), gy + rng.uniform(-200, 200), "46129"
        if any(
            abs(shapely.Point(x, y).distance(shapely.Point(d["x"], d["y"])) - d["r"]) < 0.5
            for d in discs
        ):
            continue  # not on a disc's edge, where a polygonal disc and a distance may differ
        logements = rng.randint(1, 5)
        if i % 10 == 0:  # first listed in 2022
            periods = [(CHANGE, None, logements, False)]
        elif i % 10 == 1:  # gone from 2022
            periods = [
                (date(2017, 1, 1), CHANGE, logements, False),
                (CHANGE, None, logements, True),
            ]
        elif i % 10 == 2:  # three more logements from 2022
            periods = [
                (date(2017, 1, 1), CHANGE, logements, False),
                (CHANGE, None, logements + 3, False),
            ]
        else:
            periods = [(date(2017, 1, 1), None, logements, False)]
        pid = conn.execute(
            text(
                "INSERT INTO premise (identifiant_immeuble, insee, logements, etat, geom)"
                " VALUES (:i, :c, :l, 'DEPLOYE', ST_SetSRID(ST_MakePoint(:x, :y), 2154)) RETURNING id"
            ),
            {"i": f"IMB/{insee}/T/{i:04d}", "c": insee, "l": periods[-1][2], "x": x, "y": y},
        ).scalar_one()
        for start, end, count, removed in periods:
            conn.execute(
                text(
                    "INSERT INTO premise_history (premise_id, etat, logements, removed, valid_from,"
                    " valid_to, changed_by) VALUES (:p, 'DEPLOYE', :l, :r, :f, :t, 'test')"
                ),
                {"p": pid, "l": count, "r": removed, "f": start, "t": end},
            )
        made.append({"x": x, "y": y, "insee": insee, "periods": periods})
    return made


def _expected_coverage(
    premises: list[dict[str, Any]], discs: list[dict[str, Any]], as_of: date
) -> dict[str, tuple[int, int]]:
    """(logements, logements inside a disc) per commune, by shapely: the union of the discs of
    the bornes in service on `as_of`, and the premises of the last snapshot on or before it
    (the first snapshot before them all)."""
    live = [
        d
        for d in discs
        if d["start"] and d["start"] <= as_of and not (d["end"] and d["end"] <= as_of)
    ]
    union = shapely.union_all(
        [shapely.Point(d["x"], d["y"]).buffer(d["r"], quad_segs=512) for d in live]
    )
    snapshots = sorted({q[0] for p in premises for q in p["periods"]})
    snap = max([d for d in snapshots if d <= as_of], default=snapshots[0])
    out: dict[str, tuple[int, int]] = {}
    for p in premises:
        total, inside = out.get(p["insee"], (0, 0))
        for start, end, count, removed in p["periods"]:
            if start <= snap and (end is None or end > snap) and not removed:
                covered = union.covers(shapely.Point(p["x"], p["y"]))
                total, inside = total + count, inside + (count if covered else 0)
        out[p["insee"]] = (total, inside)
    return out


@pytest.fixture()
def loaded(connection: Connection, tmp_path: Path) -> tuple[Connection, list[dict[str, Any]]]:
    assert (
        import_register_conn(connection, "bornes", _bornes_file(tmp_path), territory="46").status
        == "OK"
    )
    import_wifi_stats_conn(connection, REGISTRES / "wifi_stats_20240630.csv", territory="46")
    premises = _premises(connection, _discs())
    refresh_cube(connection, date(2017, 1, 1), "46")  # as an IPE import does
    return connection, premises


@pytest.mark.parametrize(
    ("as_of", "any_covered"),
    [
        (date(2016, 6, 1), False),
        (date(2018, 1, 1), False),
        (date(2019, 1, 1), True),
        (date(2021, 1, 1), True),
        (date(2025, 1, 1), True),
    ],
)
def test_coverage_share_per_commune_equals_shapely(
    loaded: tuple[Connection, list[dict[str, Any]]], as_of: date, any_covered: bool
) -> None:
    conn, premises = loaded
    expected = _expected_coverage(premises, _discs(), as_of)
    figures = wifi_indicators(conn, "46", as_of=as_of, level="epci", code=FIGEAC_EPCI)
    by_commune = {c["insee"]: c for c in figures["couverture_par_commune"]}
    snap = CHANGE if as_of >= CHANGE else date(2017, 1, 1)  # the premises' two snapshots
    assert {c["date_logements"] for c in by_commune.values()} == {snap}
    for insee, (total, inside) in expected.items():
        assert (by_commune[insee]["logements"], by_commune[insee]["logements_couverts"]) == (
            total,
            inside,
        )
        assert by_commune[insee]["part_couverte"] == pytest.approx(inside / total)
    total = sum(t for t, _ in expected.values())
    assert figures["part_logements_couverts"] == pytest.approx(
        sum(i for _, i in expected.values()) / total
    )
    assert (expected["46102"][1] > 0) is any_covered  # no borne in service before 2018-05-15


def test_states_as_of_several_dates(loaded: tuple[Connection, list[dict[str, Any]]]) -> None:
    conn, _ = loaded

    def states(as_of: date) -> dict[str, str]:
        return {b["code"]: b["etat"] for b in wifi_bornes(conn, "46", as_of=as_of)}

    assert states(date(2017, 12, 31)) == {}
    assert states(date(2018, 2, 1)) == {"WIFI-46102-A": "DELIBERATION_RECUE"}
    assert states(date(2018, 4, 1)) == {"WIFI-46102-A": "PROGRAMMEE"}
    assert states(date(2018, 5, 10)) == {"WIFI-46102-A": "INSTALLEE"}
    assert states(date(2024, 7, 1)) == {
        "WIFI-46102-A": "EN_SERVICE",
        "WIFI-46102-B": "RETIREE",
        "WIFI-46127-A": "EN_SERVICE",
    }
    assert states(date(2025, 1, 20))["WIFI-46042-A"] == "PROGRAMMEE"
    in_figeac = wifi_bornes(conn, "46", as_of=date(2021, 1, 1), insee="46102", etat="EN_SERVICE")
    assert [b["code"] for b in in_figeac] == ["WIFI-46102-A", "WIFI-46102-B"]
    assert wifi_bornes(conn, "46", as_of=date(2021, 1, 1), epci="200023737") == []  # Grand Cahors


def test_indicators_count_bornes_communes_users_and_kept_service(
    loaded: tuple[Connection, list[dict[str, Any]]], tmp_path: Path
) -> None:
    conn, _ = loaded
    renewed = tmp_path / "bornes_wifi_20250601.csv"  # Gourdon's contract renewed
    renewed.write_text(
        (REGISTRES / "bornes_wifi_complet.csv").read_text().splitlines()[0]
        + "\n"
        + GOURDON.replace("G-2019", "G-2025")
    )
    assert import_register_conn(conn, "bornes", renewed, territory="46").counts["modifies"] == 1
    early = wifi_indicators(conn, "46", as_of=date(2021, 1, 1))
    assert (early["bornes_en_service"], early["communes_avec_borne"]) == (3, 2)
    assert early["communes_service_maintenu"] == []
    # Figeac's first contract ended on 2023-05-14 and its borne stayed in service
    assert wifi_indicators(conn, "46", as_of=date(2024, 1, 1))["communes_service_maintenu"] == [
        "46102"
    ]
    late = wifi_indicators(conn, "46", as_of=date(2025, 7, 1))
    assert late["communes_service_maintenu"] == ["46102", "46127"]
    assert (late["bornes_en_service"], late["communes_avec_borne"]) == (2, 2)
    assert late["utilisateurs_par_mois"] == [
        {"mois": date(2024, 4, 1), "sessions": 1400, "utilisateurs": 390},
        {"mois": date(2024, 5, 1), "sessions": 1530, "utilisateurs": 417},
        {"mois": date(2024, 6, 1), "sessions": 1500, "utilisateurs": 400},
    ]
    gourdon = wifi_indicators(conn, "46", as_of=date(2025, 7, 1), level="commune", code="46127")
    assert (gourdon["bornes_en_service"], gourdon["utilisateurs_par_mois"]) == (1, [])
    assert gourdon["part_logements_couverts"] is None  # no premise there


def test_one_borne_with_its_history_and_usage(
    loaded: tuple[Connection, list[dict[str, Any]]],
) -> None:
    conn, _ = loaded
    borne = wifi_borne(conn, "46", "WIFI-46102-B", as_of=date(2024, 5, 20))
    assert borne is not None
    assert (borne["etat"], borne["etat_historique"], borne["rayon_m"]) == ("EN_SERVICE", None, 60)
    assert [u["mois"] for u in borne["usage"]] == [date(2024, 4, 1), date(2024, 5, 1)]
    later = wifi_borne(conn, "46", "WIFI-46102-B", as_of=date(2025, 3, 1))
    assert later is not None and later["etat"] == later["etat_historique"] == "RETIREE"
    assert [(h["valid_from"], h["kind"], h["before"]) for h in later["historique"]] == [
        (date(2025, 2, 1), "bornes", None)
    ]
    assert wifi_borne(conn, "66", "WIFI-46102-B", as_of=date(2025, 3, 1)) is None
