"""A service date written in the sites register is the syndicat's: a later ANFR relink (which
dates New Deal sites from their station's emitters) no longer overwrites it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Connection, text

from geo_service.analysis.mobile_links import link_sites
from tests.ingest.test_import_registers import _load, _row


def test_register_service_date_wins_over_anfr(connection: Connection, tmp_path: Path) -> None:
    connection.execute(
        text(
            "INSERT INTO mobile_site (code, nom, insee, programme, etat, operateurs, date_arrete,"
            " date_mise_en_service, source_mise_en_service, geom) VALUES ('ND-46102-41',"
            " 'Figeac — Nayrac', '46102', 'NEW_DEAL', 'EN_SERVICE', 'ORANGE', '2021-02-01',"
            " '2022-09-01', 'ANFR', ST_Transform(ST_SetSRID(ST_MakePoint(2.03, 44.61), 4326), 2154))"
        )
    )
    connection.execute(
        text(
            "INSERT INTO anfr_support (sup_id, insee, geom) VALUES (910001, '46102',"
            " ST_Transform(ST_SetSRID(ST_MakePoint(2.0301, 44.6101), 4326), 2154));"
            "INSERT INTO anfr_station (sta_nm_anfr, exploitant, date_en_service)"
            " VALUES ('0460910001', 'ORANGE', '2022-09-01');"
            "INSERT INTO anfr_station_support VALUES ('0460910001', 910001);"
            "INSERT INTO anfr_emetteur (emr_id, sta_nm_anfr, systeme, technologie, date_service)"
            " VALUES (9100011, '0460910001', 'LTE 800', '4G', '2022-09-01')"
        )
    )
    register = tmp_path / "sites_mobiles_20240901.csv"
    register.write_text(
        "code;nom;code_insee;programme;etat;operateurs;date_arrete;date_mise_en_service;"
        "longitude;latitude\nND-46102-41;;;;;;;2022-06-15;;\n"
    )
    result = _load(connection, "sites", register)
    assert result.status == "OK", result.problems
    site = _row(connection, "mobile_site", "ND-46102-41")
    assert site["date_mise_en_service"] == date(2022, 6, 15)
    assert site["source_mise_en_service"] is None
    link_sites(connection, "46", import_id=None)
    assert _row(connection, "mobile_site", "ND-46102-41")["date_mise_en_service"] == date(
        2022, 6, 15
    )
