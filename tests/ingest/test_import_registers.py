"""The syndicat's registers: mobile sites, WiFi bornes, MED sites, with change history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.registers import import_register_conn
from tests.conftest import FIXTURES

REGISTRES = FIXTURES / "registres"


def test_registers_load_with_their_commune_and_position(connection: Connection) -> None:
    for kind, name in (
        ("sites", "sites_mobiles.csv"),
        ("bornes", "bornes_wifi.csv"),
        ("med", "sites_med.csv"),
    ):
        result = import_register_conn(connection, kind, REGISTRES / name, territory="46", user="t")
        assert result.status == "OK", result.problems
    sites = connection.execute(
        text(
            "SELECT s.code, s.etat, s.date_arrete, c.insee FROM mobile_site s "
            "JOIN commune c ON ST_Contains(c.geom, s.geom) ORDER BY s.code"
        )
    ).all()
    assert [(s.code, s.insee) for s in sites] == [
        ("CB-46042-01", "46042"),
        ("ND-46102-01", "46102"),
        ("ND-46102-02", "46102"),
    ]
    borne = connection.execute(
        text("SELECT rayon_m, emplacement FROM wifi_borne WHERE code = 'WIFI-46102-1'")
    ).one()
    assert tuple(borne) == (120, "EXTERIEUR")
    assert connection.execute(text("SELECT foyers FROM med_site")).scalar_one() == 140
    assert connection.execute(text("SELECT count(*) FROM asset_change")).scalar_one() == 6


def test_a_changed_register_row_keeps_its_history(connection: Connection, tmp_path: Path) -> None:
    import_register_conn(
        connection, "sites", REGISTRES / "sites_mobiles.csv", territory="46", user="alice"
    )
    changed = tmp_path / "sites_mobiles_20230101.csv"
    changed.write_text(
        (REGISTRES / "sites_mobiles.csv")
        .read_text()
        .replace(
            "ARRETE;Free Mobile;2021-01-10;2022-05-01;;",
            "EN_SERVICE;Free Mobile;2021-01-10;2022-05-01;2022-12-15;",
        )
    )
    result = import_register_conn(connection, "sites", changed, territory="46", user="bob")
    assert (result.counts["crees"], result.counts["modifies"]) == (0, 1)
    change = connection.execute(
        text(
            "SELECT before->>'etat' AS b, after->>'etat' AS a, changed_by, valid_from FROM asset_change WHERE object_key = 'ND-46102-02' ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert (change.b, change.a, change.changed_by, str(change.valid_from)) == (
        "ARRETE",
        "EN_SERVICE",
        "bob",
        "2023-01-01",
    )


def test_invalid_register_is_refused_with_line_column_and_reason(connection: Connection) -> None:
    with pytest.raises(ImportRejectedError) as caught:
        import_register_conn(
            connection, "sites", REGISTRES / "sites_mobiles_invalide.csv", territory="46"
        )
    found = {(p["line"], p["column"], p["reason"].split(" (")[0]) for p in caught.value.problems}
    assert found == {
        (3, "etat", "valeur inconnue"),
        (4, "date_arrete", "date illisible"),
        (5, "longitude", "hors du territoire"),
    }
    assert connection.execute(text("SELECT count(*) FROM mobile_site")).scalar_one() == 0
