"""ARCEP's New Deal (DCC) sites file, as published: BOM, `NA`, several départements in insee_dep,
operator flags by MCC-MNC, status flags; a later quarter updates with history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pyproj import Transformer
from shapely import wkb
from shapely.geometry import Point
from sqlalchemy import Connection, text

from geo_service.errors import ImportRejectedError
from geo_service.ingest.dcc import import_dcc_conn
from tests.conftest import FIXTURES

DCC = FIXTURES / "arcep" / "2022_T2_dcc_Metropole_sites.csv"
TODAY = date(2026, 1, 15)
SITES = (
    "SELECT code, nom, insee, programme, etat, operateurs, op_leader, date_arrete, num_arrete,"
    " date_construction, date_mise_en_service, source_mise_en_service, nom_zone,"
    " nom_site_operateurs, ST_X(geom) AS x, ST_Y(geom) AS y FROM mobile_site ORDER BY code"
)


def _import(conn: Connection, path: Path, **kw: object):  # type: ignore[no-untyped-def]
    return import_dcc_conn(conn, path, territory="46", user="tests", today=TODAY, **kw)  # type: ignore[arg-type]


def _rewrite(tmp_path: Path, name: str, replace: dict[str, str]) -> Path:
    content = DCC.read_text(encoding="utf-8-sig")
    for old, new in replace.items():
        assert old in content
        content = content.replace(old, new)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _commune_of(conn: Connection, x: float, y: float) -> str:
    """The commune holding a point, by shapely on the communes' own geometry (independent of
    the importer's SQL)."""
    point = Point(x, y)
    for insee, geom in conn.execute(
        text("SELECT insee, ST_AsBinary(geom) FROM commune WHERE territory_code = '46'")
    ):
        if wkb.loads(bytes(geom)).intersects(point):
            return str(insee)
    return "hors du Lot"


def test_dcc_file_as_published(connection: Connection) -> None:
    result = _import(connection, DCC)
    assert result.status == "OK", result.problems
    assert result.snapshot_date == date(2022, 6, 30)  # the quarter of the file name
    assert (result.counts["crees"], result.counts["hors_territoire"]) == (4, 2)
    sites = {r.code: r for r in connection.execute(text(SITES))}
    # 104 says "46, 12" but its point is in the Aveyron; 105 is Aveyron's only
    assert sorted(sites) == ["101", "102", "103", "106"]
    for site in sites.values():
        assert site.insee == _commune_of(connection, site.x, site.y)
        assert site.programme == "NEW_DEAL"
    bastit, carlucet, brengues, larnagol = (sites[c] for c in ("101", "102", "103", "106"))
    assert (bastit.insee, carlucet.insee, brengues.insee) == ("46018", "46059", "46039")
    assert bastit.operateurs == "ORANGE, SFR, FREE MOBILE, BOUYGUES TELECOM"
    assert (bastit.op_leader, brengues.op_leader, larnagol.op_leader) == (
        "ORANGE",
        "SFR",
        "FREE MOBILE",
    )
    assert brengues.operateurs == "SFR, BOUYGUES TELECOM"
    assert (bastit.date_arrete, bastit.num_arrete) == (date(2019, 7, 8), "2019-2")
    assert bastit.nom == "Le Bastit - Bourg"
    assert (carlucet.nom, carlucet.nom_zone) == ("CARLUCET", "CARLUCET")  # NA name: the zone's
    assert larnagol.nom_site_operateurs is None  # NA
    # status flags: in service, within 6 months (under construction), 6-24 months, waiting
    assert [s.etat for s in (bastit, carlucet, brengues, larnagol)] == [
        "EN_SERVICE",
        "EN_CONSTRUCTION",
        "ARRETE",
        "ARRETE",
    ]
    # no service date in the file: at the latest the quarter's end, until ANFR gives one
    assert (bastit.date_mise_en_service, bastit.source_mise_en_service) == (
        date(2022, 6, 30),
        "DCC",
    )
    assert carlucet.date_construction == date(2022, 6, 30)
    history = connection.execute(
        text(
            "SELECT object_key, import_id, changed_by, valid_from FROM asset_change"
            " WHERE table_name = 'mobile_site' ORDER BY object_key"
        )
    ).all()
    assert [(h.object_key, h.import_id, h.changed_by) for h in history] == [
        (c, result.journal_id, "tests") for c in ("101", "102", "103", "106")
    ]


def test_positions_equal_the_file_in_lambert93(connection: Connection) -> None:
    _import(connection, DCC)
    lon, lat = connection.execute(
        text(
            "SELECT ST_X(ST_Transform(geom, 4326)), ST_Y(ST_Transform(geom, 4326))"
            " FROM mobile_site WHERE code = '101'"
        )
    ).one()
    expected = Transformer.from_crs(2154, 4326, always_xy=True).transform(594903, 6401958)
    assert (lon, lat) == pytest.approx(expected, abs=1e-7)


def test_reimport_and_reordered_columns_change_nothing(
    connection: Connection, tmp_path: Path
) -> None:
    first = _import(connection, DCC)
    assert _import(connection, DCC).status == "DEJA_IMPORTE"
    lines = DCC.read_text(encoding="utf-8-sig").splitlines()
    table = [line.split(";") for line in lines]
    order = list(reversed(range(len(table[0]))))
    shuffled = tmp_path / "2022_T2_dcc_Metropole_sites_bis.csv"
    shuffled.write_text(
        "\n".join(";".join([row[i] for i in order] + ["extra"]) for row in table) + "\n"
    )
    again = _import(connection, shuffled)
    assert again.status == "OK"
    assert (again.counts["crees"], again.counts["modifies"]) == (0, 0)
    changes = connection.execute(text("SELECT count(*) FROM asset_change")).scalar_one()
    assert changes == first.counts["crees"]


def test_later_quarter_updates_with_history_and_keeps_register_sites(
    connection: Connection, tmp_path: Path
) -> None:
    _import(connection, DCC)
    connection.execute(
        text(
            "INSERT INTO mobile_site (code, nom, insee, programme, etat, date_mise_en_service,"
            " geom) VALUES ('CB-46102-01', 'Figeac', '46102', 'CENTRE_BOURG', 'EN_SERVICE',"
            " '2005-09-01', ST_SetSRID(ST_MakePoint(622711, 6390243), 2154))"
        )
    )
    connection.execute(
        text(
            "UPDATE mobile_site SET date_signalement = '2018-03-01', opposition = 'pétition'"
            " WHERE code = '103'"
        )
    )
    later = _rewrite(
        tmp_path,
        "2023_T1_dcc_Metropole_sites.csv",
        {"20810;1;0;0;1;0;Collectivité;7": "20810;1;1;0;0;0;Collectivité;7"},
    )
    result = _import(connection, later)
    assert (result.counts["crees"], result.counts["modifies"]) == (0, 1)
    site = connection.execute(
        text(
            "SELECT etat, date_mise_en_service, date_signalement, opposition FROM mobile_site"
            " WHERE code = '103'"
        )
    ).one()
    assert tuple(site) == ("EN_SERVICE", date(2023, 3, 31), date(2018, 3, 1), "pétition")
    change = connection.execute(
        text(
            "SELECT before->>'etat' AS b, after->>'etat' AS a, valid_from, import_id"
            " FROM asset_change WHERE object_key = '103' ORDER BY id DESC LIMIT 1"
        )
    ).one()
    assert (change.b, change.a, change.valid_from, change.import_id) == (
        "ARRETE",
        "EN_SERVICE",
        date(2023, 3, 31),
        result.journal_id,
    )
    # the register's site and the sites the later file no longer lists stay
    codes = {r[0] for r in connection.execute(text("SELECT code FROM mobile_site"))}
    assert codes == {"101", "102", "103", "106", "CB-46102-01"}


def test_french_dates_are_detected(connection: Connection, tmp_path: Path) -> None:
    path = _rewrite(
        tmp_path,
        "2022_T2_dcc_fr.csv",
        {"2019-07-08": "08/07/2019", "2020-10-15": "15/10/2020"},
    )
    assert _import(connection, path).status == "OK"
    dates = dict(connection.execute(text("SELECT code, date_arrete FROM mobile_site")).all())
    assert (dates["101"], dates["102"]) == (date(2019, 7, 8), date(2020, 10, 15))


def test_american_dates_are_refused_as_uncertain(connection: Connection, tmp_path: Path) -> None:
    path = _rewrite(
        tmp_path, "2022_T2_dcc_us.csv", {"2019-07-08": "07/08/2019", "2020-10-15": "10/15/2020"}
    )
    with pytest.raises(ImportRejectedError) as caught:
        _import(connection, path)
    [found] = caught.value.problems
    assert (found["line"], found["column"], found["value"]) == (
        3,
        "date_publication_arrete",
        "10/15/2020",
    )
    assert "format de date incertain" in found["reason"]


def test_skip_invalid_imports_the_valid_lines(connection: Connection, tmp_path: Path) -> None:
    path = _rewrite(tmp_path, "2022_T2_dcc_bad.csv", {"590684;6404168": "590684;abc"})
    with pytest.raises(ImportRejectedError):
        _import(connection, path)
    result = _import(connection, path, skip_invalid=True)
    assert result.status == "PARTIEL"
    assert [(p["line"], p["column"], p["reason"]) for p in result.problems] == [
        (3, "x_lambert_93", "coordonnées illisibles")
    ]
    codes = [r[0] for r in connection.execute(text("SELECT code FROM mobile_site ORDER BY 1"))]
    assert codes == ["101", "103", "106"]
    journal = connection.execute(
        text("SELECT status, errors->0->>'line' FROM import_journal WHERE id = :j"),
        {"j": result.journal_id},
    ).one()
    assert tuple(journal) == ("PARTIEL", "3")
