"""The copper switch-off calendar (ARCEP `base_imb_fc`): every date format, separator and
encoding read alike, an ambiguous one refused, the territory's buildings kept, history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.fermeture_cuivre import import_fermeture_cuivre_conn
from tests.conftest import FIXTURES
from tests.fixtures.cuivre.make_fixture import BUILDINGS
from tests.ingest.test_ban import network  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("network")
CUIVRE = FIXTURES / "cuivre"
PUBLISHED = {
    "base_imb_fc_46_iso.csv": "AAAA-MM-JJ",
    "base_imb_fc_46_fr.csv": "JJ/MM/AAAA",
    "base_imb_fc_46_compact.csv.gz": "AAAAMMJJ",
    "base_imb_fc_46_datetime.csv": "AAAA-MM-JJThh:mm:ss",
}
ROWS = (
    "SELECT immeuble_id, num_lot_fz, fermeture_technique, fermeture_com_zone, fermeture_com_addr,"
    " elig_fo, annee_ft, code_insee FROM fermeture_cuivre WHERE territory_code = '46'"
    " ORDER BY immeuble_id"
)
# the fixture's own table, kept for the territory: the Figeac premises and the Saint-Céré
# building named by its id; Perpignan's and the id naming no commune are left out
EXPECTED = [
    (ident, lot, tech, zone, addr, elig, int(year), ident[4:9])
    for ident, lot, tech, zone, addr, elig, year in BUILDINGS
    if ident.startswith("IMB/46")
]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_each_date_format_reads_the_same_calendar(
    connection: Connection,
    name: str,
) -> None:
    result = import_fermeture_cuivre_conn(connection, CUIVRE / name, territory="46", user="t")
    assert result.status == "OK", result.problems
    assert [tuple(r) for r in connection.execute(text(ROWS))] == EXPECTED
    assert (result.counts["immeubles"], result.counts["hors_territoire"]) == (5, 2)
    assert f"fermeture_technique {PUBLISHED[name]}" in result.message


def test_an_ambiguous_date_format_is_refused_naming_column_and_values(
    connection: Connection,
) -> None:
    path = CUIVRE / "base_imb_fc_46_ambigu.csv"
    with pytest.raises(ImportRejectedError) as caught:
        import_fermeture_cuivre_conn(connection, path, territory="46", user="t")
    assert caught.value.message == (
        "base_imb_fc_46_ambigu.csv : format de date ambigu dans la colonne « fermeture_technique » :"
        " « 01/11/2026 », « 01/11/2027 », « 01/11/2025 » se lisent aussi bien JJ/MM/AAAA que"
        " MM/JJ/AAAA ; précisez le format avec --format-date"
    )
    assert caught.value.problems[0]["column"] == "fermeture_technique"
    assert connection.execute(text("SELECT count(*) FROM fermeture_cuivre")).scalar_one() == 0


def test_the_user_settles_an_ambiguous_format(connection: Connection) -> None:
    path = CUIVRE / "base_imb_fc_46_ambigu.csv"
    result = import_fermeture_cuivre_conn(
        connection, path, territory="46", user="t", date_format="JJ/MM/AAAA"
    )
    tech = connection.execute(
        text("SELECT fermeture_technique FROM fermeture_cuivre WHERE immeuble_id = :i"),
        {"i": "IMB/46102/T/0001"},
    ).scalar_one()
    assert tech == date(2026, 11, 1)
    assert result.counts["immeubles"] == 5


def test_a_changed_date_is_kept_in_the_history(
    connection: Connection,
    tmp_path: Path,
) -> None:
    first = import_fermeture_cuivre_conn(
        connection, CUIVRE / "base_imb_fc_46_iso.csv", territory="46", user="alice"
    )
    again = import_fermeture_cuivre_conn(
        connection, CUIVRE / "base_imb_fc_46_iso.csv", territory="46", user="alice"
    )
    assert again.status == "DEJA_IMPORTE"
    newer = tmp_path / "base_imb_fc_46_20260301.csv"
    newer.write_text(
        (CUIVRE / "base_imb_fc_46_iso.csv")
        .read_text()
        .replace("IMB/46102/T/0004;LOT3;2027-11-30", "IMB/46102/T/0004;LOT3;2028-03-31")
    )
    result = import_fermeture_cuivre_conn(connection, newer, territory="46", user="bob")
    assert (result.counts["crees"], result.counts["modifies"], result.counts["retires"]) == (
        0,
        1,
        0,
    )
    change = connection.execute(
        text(
            "SELECT object_key, before->>'fermeture_technique' AS b,"
            " after->>'fermeture_technique' AS a, changed_by, valid_from, import_id"
            " FROM asset_change WHERE table_name = 'fermeture_cuivre' AND import_id = :j"
        ),
        {"j": result.journal_id},
    ).one()
    assert tuple(change) == (
        "IMB/46102/T/0004",
        "2027-11-30",
        "2028-03-31",
        "bob",
        date(2026, 3, 1),
        result.journal_id,
    )
    # the unchanged buildings keep the import that wrote them
    imports = connection.execute(
        text("SELECT immeuble_id, import_id FROM fermeture_cuivre ORDER BY immeuble_id")
    ).all()
    assert {i for _b, i in imports} == {first.journal_id, result.journal_id}
    assert dict(imports)["IMB/46102/T/0004"] == result.journal_id
