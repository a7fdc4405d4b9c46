"""The sites, bornes and MED registers merged by code with what is stored: a site created by a
public file (ARCEP DCC) keeps what that file filled, an older register leaves the new columns
alone, another territory's object is neither seen nor overwritten."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.analysis.wifi import wifi_bornes
from geo_service.errors import ImportRejectedError
from tests.ingest.test_import_registers import REGISTRES, _load, _row


def test_the_sites_register_merges_with_a_dcc_site_without_blanking_it(
    connection: Connection, tmp_path: Path
) -> None:
    dcc = connection.execute(
        text(
            "INSERT INTO import_journal (kind, file_name, sha256, snapshot_date, user_name, status,"
            " territory_code) VALUES ('dcc', '2024_T2_dcc_Metropole_sites.csv', 'x', '2024-06-30',"
            " 'arcep', 'OK', '46') RETURNING id"
        )
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO mobile_site (code, nom, insee, programme, etat, operateurs, op_leader,"
            " date_arrete, num_arrete, nom_zone, import_id, geom) VALUES ('ND-46102-40',"
            " 'Figeac — Ceint d''Eau (ARCEP)', '46102', 'NEW_DEAL', 'ARRETE', 'ORANGE, SFR',"
            " '20801', '2022-07-05', '2022-0705-46', 'Ceint d''Eau', :j,"
            " ST_Transform(ST_SetSRID(ST_MakePoint(2.05, 44.59), 4326), 2154))"
        ),
        {"j": dcc},
    )
    register = tmp_path / "sites_mobiles_20240901.csv"
    register.write_text(
        "code;nom;code_insee;programme;etat;operateurs;date_signalement;date_carence;"
        "date_retenue;date_arrete;num_arrete;date_mise_en_service;opposition;longitude;latitude\n"
        "ND-46102-40;;;;;;2021-03-01;2021-06-15;2021-11-02;;;;riverains opposés au pylône;;\n"
    )
    result = _load(connection, "sites", register)
    assert (result.status, result.counts["modifies"]) == ("OK", 1), result.problems
    site = _row(connection, "mobile_site", "ND-46102-40")
    assert (site["nom"], site["insee"], site["programme"], site["operateurs"]) == (
        "Figeac — Ceint d'Eau (ARCEP)",
        "46102",
        "NEW_DEAL",
        "ORANGE, SFR",
    )
    assert (site["date_arrete"], site["num_arrete"], site["op_leader"], site["nom_zone"]) == (
        date(2022, 7, 5),
        "2022-0705-46",
        "20801",
        "Ceint d'Eau",
    )
    assert (site["date_signalement"], site["date_carence"], site["date_retenue"]) == (
        date(2021, 3, 1),
        date(2021, 6, 15),
        date(2021, 11, 2),
    )
    assert (site["opposition"], site["etat"]) == ("riverains opposés au pylône", "ARRETE")
    x, y = connection.execute(
        text(
            "SELECT ST_X(ST_Transform(geom, 4326)), ST_Y(ST_Transform(geom, 4326)) FROM mobile_site WHERE code = 'ND-46102-40'"
        )
    ).one()
    assert (round(x, 6), round(y, 6)) == (2.05, 44.59)  # the public position is kept
    change = connection.execute(
        text(
            "SELECT before, after, import_id, valid_from FROM asset_change"
            " WHERE object_key = 'ND-46102-40'"
        )
    ).one()
    assert change.import_id == result.journal_id and change.valid_from == date(2024, 9, 1)
    assert (change.before["date_carence"], change.after["date_carence"]) == (None, "2021-06-15")
    assert change.after["date_arrete"] == "2022-07-05"


def test_an_older_register_leaves_the_new_columns_alone(
    connection: Connection, tmp_path: Path
) -> None:
    _load(connection, "bornes", REGISTRES / "bornes_wifi_complet.csv")
    older = tmp_path / "bornes_wifi_20250101.csv"  # the format before the lifecycle columns
    older.write_text(
        "code;nom;code_insee;emplacement;rayon_m;date_installation;connexions_mois;longitude;latitude\n"
        "WIFI-46102-A;Mairie de Figeac;46102;EXTERIEUR;140;2018-05-02;900;2.03460;44.60980\n"
    )
    assert _load(connection, "bornes", older).counts["modifies"] == 1
    borne = _row(connection, "wifi_borne", "WIFI-46102-A")
    assert (borne["rayon_m"], borne["contrat"], borne["date_deliberation"]) == (
        140,
        "C2018-01",
        date(2018, 1, 10),
    )
    assert (borne["date_mise_en_service"], borne["etat"]) == (date(2018, 5, 15), "EN_SERVICE")


def test_a_stale_register_state_gives_way_to_a_public_service_date(
    connection: Connection, tmp_path: Path
) -> None:
    connection.execute(
        text(
            "INSERT INTO mobile_site (code, nom, insee, programme, etat, date_arrete,"
            " date_mise_en_service, geom) VALUES ('ND-46102-41', 'Figeac — Planioles', '46102',"
            " 'NEW_DEAL', 'EN_SERVICE', '2021-02-01', '2023-01-20',"
            " ST_Transform(ST_SetSRID(ST_MakePoint(2.04, 44.60), 4326), 2154))"
        )
    )
    register = tmp_path / "sites_mobiles_20240901.csv"
    register.write_text(
        "code;nom;programme;etat;date_signalement;date_mise_en_service;longitude;latitude\n"
        "ND-46102-41;Figeac — Planioles;NEW_DEAL;ARRETE;2020-03-01;;2.04;44.60\n"
    )
    assert _load(connection, "sites", register).status == "OK"
    site = _row(connection, "mobile_site", "ND-46102-41")
    assert (site["etat"], site["date_mise_en_service"], site["date_signalement"]) == (
        "EN_SERVICE",
        date(2023, 1, 20),
        date(2020, 3, 1),
    )


def test_another_territorys_object_is_neither_seen_nor_overwritten(
    connection: Connection,
) -> None:
    square = "ST_Multi(ST_MakeEnvelope(100000, 6000000, 101000, 6001000, 2154))"
    connection.execute(
        text(
            "INSERT INTO territory (code, nom, srid, source, source_version, licence, geom)"
            f" VALUES ('T99', 'Essai', 2154, 'test', '1', 'test', {square});"
            "INSERT INTO epci (territory_code, siren, nom, geom)"
            f" VALUES ('T99', '999999999', 'CC Essai', {square});"
            "INSERT INTO commune (insee, nom, population, epci_siren, territory_code, geom)"
            f" VALUES ('99001', 'Essai', 10, '999999999', 'T99', {square});"
            "INSERT INTO wifi_borne (code, nom, insee, emplacement, rayon_m, etat,"
            " date_deliberation, date_programmation, date_installation, date_mise_en_service, geom)"
            " VALUES ('WIFI-46102-A', 'Borne d''ailleurs', '99001', 'EXTERIEUR', 100, 'EN_SERVICE',"
            " '2019-01-01', '2019-02-01', '2019-03-01', '2019-04-01',"
            " ST_SetSRID(ST_MakePoint(100500, 6000500), 2154))"
        )
    )
    with pytest.raises(ImportRejectedError) as caught:
        _load(connection, "bornes", REGISTRES / "bornes_wifi_complet.csv")
    assert [(p["line"], p["column"], p["reason"]) for p in caught.value.problems] == [
        (2, "code", "code déjà utilisé dans un autre territoire")
    ]
    assert _row(connection, "wifi_borne", "WIFI-46102-A")["nom"] == "Borne d'ailleurs"
    assert wifi_bornes(connection, "46", as_of=date(2024, 1, 1)) == []
    assert [b["code"] for b in wifi_bornes(connection, "T99", as_of=date(2024, 1, 1))] == [
        "WIFI-46102-A"
    ]
