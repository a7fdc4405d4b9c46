"""Migration 0005 on a database holding premises: the streets are filled from them (search keeps
working after the upgrade) and the downgrade gives the premise search text back."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text

from geo_service.analysis.quand import search_addresses
from geo_service.db.migrate import downgrade, upgrade
from geo_service.db.session import make_engine
from geo_service.reference.load import load_reference
from geo_service.settings import Settings

PREMISES = [  # identifiant, numero, complement, type, nom (Figeac); two on one street
    ("IMB/46102/M/1", "4", None, "Rue", "Gambetta"),
    ("IMB/46102/M/2", "4", "bis", "Rue", "Gambetta"),
    ("IMB/46102/M/3", "9", None, None, "Place Champollion"),
]


@pytest.fixture()
def at_0004(settings: Settings) -> Iterator[tuple[str, Engine]]:
    """A scratch database migrated to 0004 with the Lot's communes and three premises."""
    base = settings.libpq_url
    params = psycopg.conninfo.conninfo_to_dict(base)
    name = f"{params['dbname']}_streets"
    admin = psycopg.conninfo.make_conninfo(**{**params, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + f"/{name}"
    # the reference as today's code loads it, then the schema taken back to 0004 (the
    # downgrades keep the communes: only later columns go)
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        load_reference(conn, "46", territory_dir=settings.territory_dir("46"))
    engine.dispose()
    downgrade(url, "0004")
    engine = make_engine(url)
    with engine.begin() as conn:
        for ident, numero, complement, type_voie, nom in PREMISES:
            conn.execute(
                text(
                    "INSERT INTO premise (identifiant_immeuble, insee, commune_nom, numero, "
                    "complement, type_voie, nom_voie, logements, etat, search_text, geom) "
                    "VALUES (:i, '46102', 'Figeac', :n, :c, :t, :v, 1, 'DEPLOYE', 'x', "
                    "ST_SetSRID(ST_MakePoint(622000, 6390000), 2154))"
                ),
                {"i": ident, "n": numero, "c": complement, "t": type_voie, "v": nom},
            )
    try:
        yield url, engine
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_fills_the_streets_and_downgrade_the_search_text(
    at_0004: tuple[str, Engine],
) -> None:
    url, engine = at_0004
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT type_voie, nom_voie, commune_nom, search_text FROM address_street")
        ).all()
        assert sorted(rows, key=str) == sorted(
            [
                ("Rue", "Gambetta", "Figeac", "rue gambetta figeac"),
                (None, "Place Champollion", "Figeac", "place champollion figeac"),
            ],
            key=str,
        )
        found = search_addresses(conn, "4 bis rue gambeta figeac", territory="46")
        assert [r["adresse"] for r in found] == [
            "4 bis Rue Gambetta, Figeac",
            "4 Rue Gambetta, Figeac",
        ]
    downgrade(url, "0004")
    with engine.connect() as conn:
        texts = dict(
            conn.execute(text("SELECT identifiant_immeuble, search_text FROM premise")).all()
        )
        assert (
            "address_street"
            not in conn.execute(
                text("SELECT array_agg(tablename::text) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
        )
    assert texts == {
        "IMB/46102/M/1": "4 rue gambetta figeac",
        "IMB/46102/M/2": "4 bis rue gambetta figeac",
        "IMB/46102/M/3": "9 place champollion figeac",
    }
