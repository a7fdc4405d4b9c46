"""The syndicat's registers: mobile sites, WiFi bornes, MED sites, with change history."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.journal import ImportResult
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


# --- the registers at the depth of fibre: every stage dated, lifecycle rules, merge by code ----


def _load(connection: Connection, kind: str, path: Path, **options: object) -> ImportResult:
    return import_register_conn(connection, kind, path, territory="46", user="t", **options)  # type: ignore[arg-type]


def _row(connection: Connection, table: str, code: str) -> dict[str, object]:
    # table names are this module's constants
    return dict(
        connection.execute(text(f"SELECT * FROM {table} WHERE code = :c"), {"c": code})
        .mappings()
        .one()
    )


def test_new_format_registers_derive_states_and_the_med_opening(connection: Connection) -> None:
    for kind, name in (
        ("sites", "sites_mobiles_complet.csv"),
        ("bornes", "bornes_wifi_complet.csv"),
        ("med", "sites_med_complet.csv"),
    ):
        assert _load(connection, kind, REGISTRES / name).status == "OK"
    site = _row(connection, "mobile_site", "ND-46102-10")
    assert (site["etat"], site["date_carence"], site["num_arrete"]) == (
        "EN_SERVICE",  # etat left empty: the last dated stage
        date(2018, 9, 1),
        "ARR-2019-03",
    )
    tdf = _row(connection, "mobile_site", "TDF-46102-01")
    assert (tdf["proprietaire"], tdf["date_fin_iru"], tdf["renouvellement_iru"]) == (
        "TDF",
        date(2025, 12, 31),
        "renouvelé pour 10 ans (2026-2035)",
    )
    assert _row(connection, "mobile_site", "ND-46042-02")["etat"] == "CARENCE_CONFIRMEE"
    states = dict(connection.execute(text("SELECT code, etat FROM wifi_borne")).all())
    assert states == {
        "WIFI-46102-A": "EN_SERVICE",
        "WIFI-46102-B": "RETIREE",
        "WIFI-46042-A": "PROGRAMMEE",
    }
    assert _row(connection, "wifi_borne", "WIFI-46102-A")["rayon_m"] == 150  # empty → 150 m
    given = _row(connection, "med_site", "MED-46102-A")
    computed = _row(connection, "med_site", "MED-46129-A")
    assert (given["date_ouverture"], given["ouverture_calculee"]) == (date(2018, 10, 1), False)
    # réception Orange 2018-11-05 + 12 weeks, computed independently here
    assert computed["date_ouverture"] == date(2018, 11, 5) + timedelta(days=7 * 12)
    assert computed["ouverture_calculee"] is True
    assert computed["date_alimentation"] is None  # the electrical extension is optional
    assert _row(connection, "med_site", "MED-46240-A")["cause_blocage"].startswith("servitude")


def test_a_computed_opening_in_the_future_is_planned_not_refused(
    connection: Connection, tmp_path: Path
) -> None:
    path = tmp_path / "sites_med_20181201.csv"  # réception 2018-11-05 + 12 weeks is 2019-01-28
    path.write_text((REGISTRES / "sites_med_complet.csv").read_text())
    result = _load(connection, "med", path)
    assert result.status == "OK", result.problems
    opening = _row(connection, "med_site", "MED-46129-A")["date_ouverture"]
    assert isinstance(opening, date) and opening > date(2018, 12, 1)


def test_a_cp1252_register_keeps_its_accents(connection: Connection) -> None:
    assert _load(connection, "bornes", REGISTRES / "bornes_wifi_cp1252.csv").status == "OK"
    borne = _row(connection, "wifi_borne", "WIFI-46129-A")
    assert (borne["nom"], borne["adresse"], borne["operateur"]) == (
        "Église de Gréalou — parvis",
        "Place de l’Église",
        "Opérateur œcuménique",
    )


LIFECYCLE_CASES = [
    (
        "sites",
        "sites_mobiles_lignes_invalides_20220101.csv",
        {
            (2, "code_insee", "12202", "commune inconnue du territoire"),
            (3, "longitude", "deux 44.61196", "coordonnées illisibles"),
            (5, "code", "ND-46102-22", "code en double (déjà ligne 4)"),
            (
                6,
                "date_arrete",
                "",
                "étape « arrêté » sans date alors que « mise en service » est datée",
            ),
            (
                7,
                "date_mise_en_service",
                "2022-06-01",
                "mise en service datée du 01/06/2022, dans le futur",
            ),
            (
                8,
                "date_arrete",
                "2019-03-15",
                "arrêté (15/03/2019) avant zone signalée (01/07/2019)",
            ),
            (
                9,
                "etat",
                "ARRETE",
                "état ARRETE contredit les dates (état EN_SERVICE d'après elles)",
            ),
        },
    ),
    (
        "bornes",
        "bornes_wifi_lignes_invalides_20240101.csv",
        {
            (2, "longitude", "2.03400 nord", "coordonnées illisibles"),
            (3, "code_insee", "46999", "commune inconnue du territoire"),
            (5, "code", "WIFI-46102-Z", "code en double (déjà ligne 4)"),
            (
                6,
                "date_programmation",
                "",
                "étape « programmation » sans date alors que « installation » est datée",
            ),
            (
                7,
                "date_mise_en_service",
                "2024-03-15",
                "mise en service datée du 15/03/2024, dans le futur",
            ),
        },
    ),
    (
        "med",
        "sites_med_lignes_invalides_20190101.csv",
        {
            (2, "longitude", "200.5 44.59", "coordonnées illisibles"),
            (3, "code_insee", "12202", "commune inconnue du territoire"),
            (5, "code", "MED-46102-Z", "code en double (déjà ligne 4)"),
            (
                6,
                "date_reception_dalle",
                "",
                "étape « réception de dalle » sans date alors que « pose de l'armoire » est datée",
            ),
            (
                7,
                "date_recette",
                "2018-06-01",
                "recette (01/06/2018) avant pose de l'armoire (20/06/2018)",
            ),
            (
                8,
                "date_ouverture",
                "2019-02-15",
                "ouverture commerciale datée du 15/02/2019, dans le futur",
            ),
        },
    ),
]


@pytest.mark.parametrize(
    ("kind", "name", "expected"), LIFECYCLE_CASES, ids=[c[0] for c in LIFECYCLE_CASES]
)
def test_each_broken_rule_is_a_french_line_problem(
    connection: Connection, kind: str, name: str, expected: set[tuple[int, str, str, str]]
) -> None:
    with pytest.raises(ImportRejectedError) as caught:
        _load(connection, kind, REGISTRES / name)
    found = {(p["line"], p["column"], p["value"], p["reason"]) for p in caught.value.problems}
    assert found == expected
    assert {p["file"] for p in caught.value.problems} == {name}
    assert (
        caught.value.message
        == f"{name} refusé : {len(expected)} problème(s) ; rien n'a été importé."
    )


def test_skip_invalid_imports_the_valid_lines_and_journals_the_others(
    connection: Connection,
) -> None:
    name = "sites_med_lignes_invalides_20190101.csv"
    result = _load(connection, "med", REGISTRES / name, skip_invalid=True)
    assert (result.status, result.counts["crees"], result.counts["rejetees"]) == ("PARTIEL", 1, 6)
    assert connection.execute(text("SELECT code FROM med_site")).scalars().all() == ["MED-46102-Z"]
    entry = connection.execute(
        text("SELECT status, kind, errors FROM import_journal WHERE id = :j"),
        {"j": result.journal_id},
    ).one()
    assert (entry.status, entry.kind) == ("PARTIEL", "med")
    assert {e["line"] for e in entry.errors} == {2, 3, 5, 6, 7, 8}


def test_reimporting_the_same_rows_changes_nothing(connection: Connection, tmp_path: Path) -> None:
    first = _load(connection, "med", REGISTRES / "sites_med_complet.csv")
    copy = tmp_path / "sites_med_copie.csv"
    copy.write_bytes((REGISTRES / "sites_med_complet.csv").read_bytes() + b"\n")
    again = _load(connection, "med", copy)
    assert (first.counts["crees"], again.counts["crees"], again.counts["modifies"]) == (3, 0, 0)
    assert _load(connection, "med", REGISTRES / "sites_med_complet.csv").status == "DEJA_IMPORTE"
