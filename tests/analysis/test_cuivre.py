"""When copper closes: at an address (its building's dates) and in a commune (its lots)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import Connection, text

from geo_service.analysis.cuivre import copper_by_commune, copper_closing
from geo_service.ingest.fermeture_cuivre import import_fermeture_cuivre_conn
from tests.conftest import FIXTURES
from tests.fixtures.cuivre.make_fixture import BUILDINGS
from tests.ingest.test_ban import network  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("network")
ISO = FIXTURES / "cuivre" / "base_imb_fc_46_iso.csv"
IN_LOT = [b for b in BUILDINGS if b[0].startswith("IMB/46")]


def _premise(conn: Connection, ident: str) -> int:
    return int(
        conn.execute(
            text("SELECT id FROM premise WHERE identifiant_immeuble = :i"), {"i": ident}
        ).scalar_one()
    )


def test_an_address_gets_its_building_s_dates(connection: Connection) -> None:
    import_fermeture_cuivre_conn(connection, ISO, territory="46", user="t")
    first = copper_closing(connection, "46", premise_id=_premise(connection, "IMB/46102/T/0001"))
    assert first["niveau"] == "adresse" and first["lot"] == "LOT2"
    # the address's own commercial closing comes before the zone's
    assert first["fermeture_commerciale"] == date(2025, 6, 15)
    assert first["fermeture_commerciale_zone"] == date(2026, 1, 31)
    assert first["fermeture_technique"] == date(2026, 11, 30)
    assert "30 novembre 2026" in first["reponse"] and "lot LOT2" in first["reponse"]
    second = copper_closing(connection, "46", premise_id=_premise(connection, "IMB/46102/T/0002"))
    assert second["fermeture_commerciale"] == date(2026, 1, 31)  # the zone's, none at the address


def test_a_commune_gets_its_calendar_by_lot(connection: Connection) -> None:
    import_fermeture_cuivre_conn(connection, ISO, territory="46", user="t")
    figeac = copper_closing(connection, "46", insee="46102")
    expected: dict[str, list[tuple]] = defaultdict(list)
    for ident, lot, tech, zone, _addr, _e, _y in IN_LOT:
        if ident[4:9] == "46102":
            expected[lot].append((tech, zone))
    assert [(lot["lot"], lot["immeubles"]) for lot in figeac["lots"]] == [
        (lot, len(v)) for lot, v in sorted(expected.items())
    ]
    assert figeac["lots"][0]["fermeture_technique"] == min(t for t, _z in expected["LOT2"])
    assert figeac["immeubles"] == sum(len(v) for v in expected.values()) == 4
    assert figeac["premiere_fermeture_commerciale"] == date(2026, 1, 31)
    assert "2 lots" in figeac["reponse"]
    empty = copper_closing(connection, "46", insee="46029")
    assert empty["lots"] == [] and "Aucune fermeture" in empty["reponse"]


def test_communes_list_their_earliest_closings(connection: Connection) -> None:
    import_fermeture_cuivre_conn(connection, ISO, territory="46", user="t")
    rows = {r["insee"]: r for r in copper_by_commune(connection, "46")}
    by_commune: dict[str, list[tuple]] = defaultdict(list)
    for ident, lot, tech, zone, addr, _e, _y in IN_LOT:
        by_commune[ident[4:9]].append((lot, tech, addr or zone))
    assert set(rows) == set(by_commune) == {"46102", "46251"}
    for insee, buildings in by_commune.items():
        row = rows[insee]
        assert row["immeubles"] == len(buildings)
        assert row["lots"] == sorted({b[0] for b in buildings})
        assert row["premiere_fermeture_technique"] == min(b[1] for b in buildings)
        assert row["premiere_fermeture_commerciale"] == min(b[2] for b in buildings)
        assert row["immeubles_fermes_commercialement"] == sum(
            b[2] <= date.today() for b in buildings
        )
    assert rows["46251"]["nom"]
