"""« Quand ? » at a border between two territories of one database answers with the territory's
own premises only, never with the neighbour's (which another syndicat answers for)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from geo_service.analysis.quand import quand_point
from geo_service.reference.load import load_reference
from geo_service.settings import Settings


def test_the_neighbours_premise_across_the_border_is_not_the_answer(
    connection: Connection,
) -> None:
    load_reference(connection, "19", territory_dir=Settings().territory_dir("19"))
    # a point of the Lot within 100 m of a Corrèze commune
    # and a point of that Corrèze commune within 200 m of it
    lot_insee, correze_insee, lon, lat, lon_19, lat_19 = connection.execute(
        text(
            "SELECT a.insee, b.insee, ST_X(ST_Transform(p.g, 4326)), ST_Y(ST_Transform(p.g, 4326)),"
            " ST_X(ST_Transform(q.g, 4326)), ST_Y(ST_Transform(q.g, 4326))"
            " FROM commune a JOIN commune b ON ST_DWithin(a.geom, b.geom, 100)"
            " CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_Intersection(a.geom,"
            " ST_Buffer(b.geom, 100))) AS g) p"
            " CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_Intersection(b.geom,"
            " ST_Buffer(p.g, 200))) AS g) q"
            " WHERE a.territory_code = '46' AND b.territory_code = '19'"
            " ORDER BY a.insee, b.insee LIMIT 1"
        )
    ).one()
    connection.execute(
        text(
            "INSERT INTO premise (identifiant_immeuble, insee, numero, nom_voie, geom, etat,"
            " logements) VALUES ('IMB/19/VOISIN', :insee, '1', 'Route du Voisin',"
            " ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154), 'DEPLOYE', 1)"
        ),
        {"insee": correze_insee, "lon": lon, "lat": lat},
    )
    answer = quand_point(connection, lat=lat, lon=lon, territory="46")
    assert answer["commune"]["insee"] == lot_insee
    assert answer["immeuble"] is None
    assert answer["statut"] == "NON_COUVERT"
    # the neighbour's own service finds it
    theirs = quand_point(connection, lat=lat_19, lon=lon_19, territory="19")
    assert theirs["commune"]["insee"] == correze_insee
    assert theirs["immeuble"] == "IMB/19/VOISIN"
