"""Encoding, line-end, compression and projection variants of one IPE file give identical
database contents."""

from __future__ import annotations

from sqlalchemy import Connection, text

from geo_service.ingest.ipe import import_ipe_conn
from tests.conftest import FIXTURES

VALID = FIXTURES / "ipe" / "valides"
VARIANTS = [
    "IPE_ALLF_46_20211231.csv",
    "IPE_ALLF_46_20211231_bom_crlf.csv",
    "IPE_ALLF_46_20211231_latin1.csv",
    "IPE_ALLF_46_20211231_wgs84.csv",
    "IPE_ALLF_46_20211231_projections_mixtes.csv",
    "IPE_ALLF_46_20211231_sans_projection.csv",
    "IPE_ALLF_46_20211231.csv.gz",
    "IPE_ALLF_46_2021-12-31.zip",
]


def contents(conn: Connection) -> list[tuple]:
    """Premises and their history, without surrogate keys; geometry rounded to the centimetre."""
    return [
        tuple(r)
        for r in conn.execute(
            text(
                "SELECT p.identifiant_immeuble, p.code_adresse, p.insee, p.commune_nom, p.numero, "
                "p.complement, p.type_voie, p.nom_voie, p.batiment, p.logements, p.locaux_pro, "
                "p.etat, p.pm_reference, p.date_signature, p.date_mes_commerciale, p.code_oi, "
                "round(ST_X(p.geom)::numeric, 2), round(ST_Y(p.geom)::numeric, 2), "
                "h.etat, h.logements, h.valid_from, h.valid_to "
                "FROM premise p JOIN premise_history h ON h.premise_id = p.id "
                "ORDER BY p.identifiant_immeuble"
            )
        )
    ]


def test_every_variant_loads_the_same_rows(connection: Connection) -> None:
    # The PMs the file names (normally from a GraceTHD delivery).
    connection.execute(
        text(
            "INSERT INTO pm (reference, territory_code, etat) "
            "SELECT 'DLW0' || i, '46', 'PLANIFIE' FROM generate_series(1, 9) i"
        )
    )
    results = []
    for name in VARIANTS:
        connection.execute(text("SAVEPOINT variant"))
        outcome = import_ipe_conn(connection, VALID / name, territory="46", user="t")
        assert outcome.status == "OK", (name, outcome.problems)
        results.append(contents(connection))
        connection.execute(text("ROLLBACK TO SAVEPOINT variant"))
    assert len(results[0]) == 10
    assert "Saint-Céré" in {row[3] for row in results[0]}
    for name, result in zip(VARIANTS[1:], results[1:], strict=True):
        assert result == results[0], name
