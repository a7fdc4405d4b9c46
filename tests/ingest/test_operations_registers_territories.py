"""Two territories in one database: each sees its own operating registers only, the same ticket
or sheet may exist in both, and a territory's file naming the other's communes is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection

from geo_service.analysis.operations import restoration_delays
from geo_service.analysis.take_up import border_exchanges, take_up
from geo_service.errors import ImportRejectedError
from geo_service.ingest.abonnes import ABONNES
from geo_service.ingest.incidents import INCIDENTS
from geo_service.ingest.operations_common import import_register_conn
from geo_service.reference.load import load_reference
from geo_service.settings import Settings

INCIDENTS_CSV = """reference;code_insee;categorie;ouverture;retablissement;source
INC-1;{insee};pm;2023-05-01 08:00;2023-05-01 10:00;délégataire
"""
ABONNES_CSV = "date;code_insee;abonnes;fai\n2023-12-31;{insee};{n};Orange\n"


@pytest.fixture()
def both(connection: Connection) -> Connection:
    load_reference(connection, "66", territory_dir=Settings().territory_dir("66"))
    return connection


def test_each_territory_sees_its_own_registers(both: Connection, tmp_path: Path) -> None:
    for territory, insee, n in (("46", "46102", 10), ("66", "66136", 30)):
        folder = tmp_path / territory
        folder.mkdir()
        (folder / "incidents.csv").write_text(INCIDENTS_CSV.format(insee=insee))
        (folder / "abonnes.csv").write_text(ABONNES_CSV.format(insee=insee, n=n))
        for register, name in ((INCIDENTS, "incidents.csv"), (ABONNES, "abonnes.csv")):
            result = import_register_conn(both, register, folder / name, territory=territory)
            assert result.status == "OK", result.problems
    for territory, insee, n in (("46", "46102", 10), ("66", "66136", 30)):
        delays = restoration_delays(both, territory=territory, year=2023, by="commune")
        assert [(x["groupe"], x["incidents"]) for x in delays["lignes"]] == [(insee, 1)]
        answer = take_up(both, territory=territory)
        assert [(x["code"], x["abonnes"]) for x in answer["lignes"]] == [(insee, n)]
        assert border_exchanges(both, territory=territory)["lignes"] == []
    wrong = tmp_path / "incidents_66_avec_46.csv"
    wrong.write_text(INCIDENTS_CSV.format(insee="46102").replace("INC-1", "INC-2"))
    with pytest.raises(ImportRejectedError) as caught:
        import_register_conn(both, INCIDENTS, wrong, territory="66")
    assert [(p["line"], p["value"], p["reason"]) for p in caught.value.problems] == [
        (2, "46102", "commune inconnue du territoire")
    ]
