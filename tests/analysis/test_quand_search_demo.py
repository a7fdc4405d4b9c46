"""Address search on the demo Lot: streets by trigrams, then the typed house number first."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Connection, text

from geo_service.analysis.quand import search_addresses, split_address

# Premises with a plain number, in the middle of a street of at least five current premises.
MIDDLE_OF_STREET = """
WITH live AS (
    SELECT p.*,
           count(*) OVER (PARTITION BY insee, type_voie, nom_voie, commune_nom) AS in_street,
           count(*) OVER (PARTITION BY insee, nom_voie, numero) AS same_number
    FROM premise p WHERE removed_on IS NULL
)
SELECT identifiant_immeuble, numero, type_voie, nom_voie, commune_nom,
       ST_Y(ST_Transform(geom, 4326)) AS lat, ST_X(ST_Transform(geom, 4326)) AS lon
FROM live
WHERE in_street >= 5 AND same_number = 1 AND type_voie IS NOT NULL AND complement IS NULL
  AND CASE WHEN numero ~ '^[0-9]+$' THEN numero::int > 2 ELSE false END
  AND length(nom_voie) >= 12 AND length(commune_nom) >= 5
ORDER BY identifiant_immeuble
LIMIT 3
"""


def misspell(voie: str) -> str:
    """Upper case, accents lost or added, one letter dropped from the longest word."""
    longest = max(voie.split(), key=len)
    cut = len(longest) // 2
    typed = voie.replace(longest, longest[:cut] + longest[cut + 1 :], 1)
    return typed.upper().replace("É", "E").replace("E", "É", 1)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12 bis rue de la Pélissarie albas", (12, "b", "rue de la Pélissarie albas")),
        ("12B, rue X", (12, "b", "rue X")),
        ("3 a chemin des Vignes", (3, "a", "chemin des Vignes")),
        ("12 allée des pins", (12, "", "allée des pins")),
        ("7", (None, "", "7")),
        ("rue du 8 mai 1945 46100 figeac", (None, "", "rue du 8 mai 1945 figeac")),
        ("46100 figeac", (None, "", "figeac")),
    ],
)
def test_split_address(typed: str, expected: tuple[int | None, str, str]) -> None:
    assert split_address(typed) == expected


def test_a_misspelt_address_with_its_number_comes_first(demo_conn: Connection) -> None:
    premises = demo_conn.execute(text(MIDDLE_OF_STREET)).all()
    assert len(premises) == 3
    for p in premises:
        typed = f"{p.numero} {misspell(f'{p.type_voie} {p.nom_voie}')} {p.commune_nom[:-1]}"
        best = search_addresses(demo_conn, typed, territory="46")[0]
        assert best["adresse"] == f"{p.numero} {p.type_voie} {p.nom_voie}, {p.commune_nom}", typed
        assert (best["lat"], best["lon"]) == pytest.approx((p.lat, p.lon))


def test_the_complement_picks_bis_or_the_plain_number(demo_conn: Connection) -> None:
    bis = demo_conn.execute(
        text(
            "SELECT b.numero, b.type_voie, b.nom_voie, b.commune_nom FROM premise b "
            "JOIN premise p ON p.insee = b.insee AND p.nom_voie = b.nom_voie "
            "AND p.type_voie = b.type_voie AND p.numero = b.numero AND p.complement IS NULL "
            "WHERE b.complement = 'bis' AND b.removed_on IS NULL AND p.removed_on IS NULL "
            "ORDER BY b.identifiant_immeuble LIMIT 1"
        )
    ).one()
    voie = f"{bis.type_voie} {bis.nom_voie}"
    with_bis = search_addresses(
        demo_conn, f"{bis.numero}b {voie} {bis.commune_nom}", territory="46"
    )
    plain = search_addresses(demo_conn, f"{bis.numero} {voie} {bis.commune_nom}", territory="46")
    assert with_bis[0]["adresse"] == f"{bis.numero} bis {voie}, {bis.commune_nom}"
    assert plain[0]["adresse"] == f"{bis.numero} {voie}, {bis.commune_nom}"
    assert with_bis[1]["adresse"] == plain[0]["adresse"]  # the plain number right after


def test_without_a_number_the_street_comes_in_number_order(demo_conn: Connection) -> None:
    street = demo_conn.execute(text(MIDDLE_OF_STREET)).first()
    assert street is not None
    numbers = sorted(
        int(n)
        for n in demo_conn.execute(
            text(
                "SELECT numero FROM premise WHERE removed_on IS NULL AND insee = "
                "(SELECT insee FROM premise WHERE identifiant_immeuble = :i) "
                "AND type_voie = :t AND nom_voie = :v AND commune_nom = :c"
            ),
            {
                "i": street.identifiant_immeuble,
                "t": street.type_voie,
                "v": street.nom_voie,
                "c": street.commune_nom,
            },
        ).scalars()
    )
    typed = f"{street.type_voie} {street.nom_voie} {street.commune_nom}".lower()
    found = search_addresses(demo_conn, typed, territory="46", limit=5)
    assert [int(re.match(r"\d+", r["adresse"]).group()) for r in found] == numbers[:5]  # type: ignore[union-attr]
    assert {r["adresse"].split(" ", 1)[1] for r in found} == {
        f"{street.type_voie} {street.nom_voie}, {street.commune_nom}"
    }


def test_removed_premises_are_not_proposed(demo_conn: Connection) -> None:
    p = demo_conn.execute(text(MIDDLE_OF_STREET)).first()
    assert p is not None
    demo_conn.execute(
        text("UPDATE premise SET removed_on = '2025-12-31' WHERE identifiant_immeuble = :i"),
        {"i": p.identifiant_immeuble},
    )
    address = f"{p.numero} {p.type_voie} {p.nom_voie}, {p.commune_nom}"
    found = search_addresses(demo_conn, address.replace(",", ""), territory="46")
    assert found and address not in {r["adresse"] for r in found}
