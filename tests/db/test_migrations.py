"""Alembic migrations: they match the models and survive a down/up round trip."""

from __future__ import annotations

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import Engine, inspect, text

from geo_service.db.base import Base
from geo_service.db.migrate import downgrade, upgrade


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": alembic_helpers.include_object,
                "compare_type": True,
                "render_item": alembic_helpers.render_item,
            },
        )
        diff = [
            d
            for d in compare_metadata(context, Base.metadata)
            if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
        ]
    assert diff == []


def test_downgrade_then_upgrade_round_trip(settings) -> None:  # type: ignore[no-untyped-def]
    """Run on a scratch database so the shared test database keeps its data."""
    base = settings.libpq_url
    params = psycopg.conninfo.conninfo_to_dict(base)
    scratch = f"{params['dbname']}_roundtrip"
    admin = psycopg.conninfo.make_conninfo(**{**params, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.execute(f'CREATE DATABASE "{scratch}"')
    url = base.rsplit("/", 1)[0] + f"/{scratch}"
    try:
        from geo_service.db.session import make_engine

        upgrade(url)
        downgrade(url, "base")
        engine = make_engine(url)
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
        assert tables == set()
        upgrade(url)
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        engine.dispose()
        assert set(Base.metadata.tables) <= tables
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_every_column_referring_to_an_import_is_indexed(engine: Engine) -> None:
    """Finishing an import deletes its marker row: PostgreSQL checks the referring rows by index,
    not by reading every premise and address of the database."""
    with engine.connect() as conn:
        unindexed = (
            conn.execute(
                text(
                    "SELECT c.conrelid::regclass::text || '.' || a.attname "
                    "FROM pg_constraint c "
                    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                    "WHERE c.contype = 'f' AND c.confrelid = 'import_journal'::regclass "
                    "AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid "
                    "                AND i.indkey[0] = c.conkey[1]) "
                    "ORDER BY 1"
                )
            )
            .scalars()
            .all()
        )
    assert unindexed == []
