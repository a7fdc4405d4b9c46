"""The in-memory street index of the address search computes pg_trgm's similarity exactly, gives
the same suggestions as the search in PostgreSQL, and follows the street table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.analysis import street_index
from geo_service.analysis.quand import search_addresses
from geo_service.analysis.street_index import StreetIndex, trigrams
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.ipe import import_ipe_conn
from tests.ingest.test_streets import BUILDINGS, write_snapshot

TEXTS = [
    "rue de l'eglise figeac",
    "lieu-dit le pech grand saint-maurice-en-quercy",
    "21 l",
    "a",
    "",
    "  route   de capdenac 46100 ",
    "rue des tanneurs 12b",
    "chemin_du_moulin",
    "place du 8 mai 1945",
]


@pytest.fixture(autouse=True)
def fresh_indexes() -> Iterator[None]:
    street_index.forget()
    yield
    street_index.forget()


def test_trigrams_are_those_of_pg_trgm(connection: Connection) -> None:
    for value in TEXTS:
        expected = connection.execute(text("SELECT show_trgm(:v)"), {"v": value}).scalar_one()
        assert trigrams(value) == set(expected), value


def test_similarity_is_that_of_pg_trgm(connection: Connection) -> None:
    rows = list(enumerate(TEXTS, start=1))
    index = StreetIndex.build(rows, max_id=len(rows))
    for query in ["rue de l eglise", "pech grand", "21 l", "capdenac", "place 8 mai"]:
        found = dict(index.best(query, threshold=0.0, count=len(rows)))
        for street_id, value in rows:
            expected = connection.execute(
                text("SELECT similarity(:a, :b)"), {"a": value, "b": query}
            ).scalar_one()
            assert found.get(street_id, 0.0) == pytest.approx(expected, abs=1e-6), (query, value)


def test_best_is_by_score_then_id_above_the_threshold() -> None:
    rows = [(5, "rue haute"), (3, "rue haute"), (9, "rue basse"), (1, "impasse des lilas")]
    index = StreetIndex.build(sorted(rows), max_id=9)
    best = index.best("rue haute", threshold=0.25, count=10)  # rue basse: 4 / 16 = 0.25
    assert [i for i, _ in best] == [3, 5, 9]
    assert best[0][1] == pytest.approx(1.0)
    assert index.best("rue haute", threshold=0.26, count=10) == best[:2]
    assert index.best("rue haute", threshold=0.25, count=1) == best[:1]
    assert index.best("zzz", threshold=0.3, count=10) == []


@pytest.fixture()
def figeac(connection: Connection, gracethd_gpkg: Path, tmp_path: Path) -> Connection:
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    snapshot = write_snapshot(tmp_path / "IPE_TEST_46_20200331.csv", list(BUILDINGS))
    import_ipe_conn(connection, snapshot, territory="46")
    return connection


QUERIES = ["rue de l'eglise", "3 rue de l eglise figeac", "route capdenac", "7b tanneurs", "zzz"]


def test_memory_and_postgresql_give_the_same_suggestions(
    figeac: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory = [search_addresses(figeac, q, territory="46", limit=8) for q in QUERIES]
    assert in_memory[1][0]["adresse"].startswith("3 Rue de l'Église")
    monkeypatch.setattr(street_index, "MAX_STREETS", 0)
    street_index.forget()
    in_postgresql = [search_addresses(figeac, q, territory="46", limit=8) for q in QUERIES]
    assert in_memory == in_postgresql
    assert street_index.street_index(figeac, "46", 0) is None  # too large: stays in PostgreSQL


def test_the_index_follows_the_street_table(figeac: Connection) -> None:
    def found(query: str) -> list[str]:
        return [r["adresse"] for r in search_addresses(figeac, query, territory="46")]

    assert found("avenue du lot") == []
    savepoint = figeac.begin_nested()
    premise = figeac.execute(
        text(
            "INSERT INTO premise (identifiant_immeuble, insee, commune_nom, numero, nom_voie,"
            " geom, etat, logements) VALUES ('IMB/46102/S/0099', '46102', 'Figeac', '2',"
            " 'Avenue du Lot', ST_SetSRID(ST_MakePoint(621600, 6390150), 2154), 'CIBLE', 1)"
            " RETURNING id"
        )
    ).scalar_one()
    figeac.execute(
        text(
            "INSERT INTO address_street (insee, nom_voie, commune_nom, search_text, premise_ids)"
            " VALUES ('46102', 'Avenue du Lot', 'Figeac', 'avenue du lot figeac', ARRAY[:p])"
        ),
        {"p": premise},
    )
    assert found("avenue du lot") == ["2 Avenue du Lot, Figeac"]
    savepoint.rollback()  # the table's last id goes back: the index is read again
    assert found("avenue du lot") == []
