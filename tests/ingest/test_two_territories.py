"""Two territories (Lot 46, Pyrénées-Orientales 66) in one database, the same operator code in
both: each import, date-order check, removal and list is judged within its own territory, and
each territory's raccordables equal those of a database holding that territory alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, box
from sqlalchemy import Engine, text

from geo_service.analysis.onereuses import compare_with_operator
from geo_service.analysis.raccordables import raccordables
from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError
from geo_service.ingest import journal
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from geo_service.ingest.onereuses import import_onereuses
from geo_service.reference.load import load_reference
from geo_service.settings import Settings
from tests.conftest import create_scratch_database, drop_database
from tests.fixtures.gracethd.make_fixture import write_fixture
from tests.ingest.ipe_files import HEADER, write_ipe

# Perpignan (66136): two PM zones side by side, three buildings (Lambert-93)
PER_WEST = box(688_000, 6_172_000, 692_000, 6_178_000)
PER_EAST = box(692_000, 6_172_000, 696_000, 6_178_000)
BUILDINGS_66 = {
    "IMB/66136/T/0001": ("2", "Rue de la Loge", 690_500, 6_175_000, "PER01"),
    "IMB/66136/T/0002": ("4", "Rue de la Loge", 691_500, 6_175_500, "PER01"),
    "IMB/66136/T/0003": ("8", "Avenue du Roussillon", 693_500, 6_174_500, "PER02"),
}
DAYS = [date(2020, 1, 1), date(2020, 5, 1), date(2020, 8, 1), date(2020, 10, 1), date(2021, 2, 1)]


def write_ipe_66(path: Path, states: dict[str, tuple[str, int, str, str]]) -> Path:
    """The Perpignan counterpart of `write_ipe` (same operator code TEST)."""
    lines = [HEADER]
    for ident, (etat, logements, etat_pm, date_pm) in states.items():
        numero, voie, x, y, pm = BUILDINGS_66[ident]
        lines.append(
            f"{ident};66136_{ident[-4:]};66136;66000;Perpignan;{numero};;;{voie};;{x};{y};L93;"
            f"{logements};{etat};{pm};{etat_pm};{date_pm};TEST"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_gracethd_66(path: Path, refs: tuple[str, str] = ("PER01", "PER02")) -> Path:
    """One NRO and two PM zones in Perpignan (`refs` name the PMs)."""
    gpd.GeoDataFrame(
        {"zn_code": ["ZN66136"], "zn_nroref": ["NRO66136"], "zn_etat": ["DEPLOYE"]},
        geometry=[MultiPolygon([PER_WEST, PER_EAST])],
        crs=2154,
    ).to_file(path, layer="t_znro", driver="GPKG")
    gpd.GeoDataFrame(
        {
            "zs_code": [f"ZS-{r}" for r in refs],
            "zs_refpm": list(refs),
            "zs_zn_code": ["ZN66136", "ZN66136"],
            "zs_etatpm": ["PLANIFIE", "PLANIFIE"],
            "zs_nblogmt": [2, 1],
            "zs_dateins": ["", ""],
            "zs_datcomr": ["2021-06-30", "2022-03-31"],
        },
        geometry=[MultiPolygon([PER_WEST]), MultiPolygon([PER_EAST])],
        crs=2154,
    ).to_file(path, layer="t_zsro", driver="GPKG")
    return path


def write_list(path: Path, idents: list[str]) -> Path:
    lines = ["IdentifiantImmeuble;CodeInseeImmeuble;NombreLogements;Motif;CoutEstimeEuros"]
    lines += [f"{i};{i[4:9]};1;isolé;5000" for i in idents]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("two_territories")
    return {
        "grace46": write_fixture(d / "gracethd_46_20190101.gpkg"),
        "grace66": write_gracethd_66(d / "gracethd_66_20190101.gpkg"),
        "grace66_bad": write_gracethd_66(d / "gracethd_66_tst_20190601.gpkg", ("PER01", "TST01")),
        "ipe46_a": write_ipe(
            d / "IPE_TEST_46_20200630.csv",
            {
                "IMB/46102/T/0001": ("DEPLOYE", 2, "DEPLOYE", "2020-04-15"),
                "IMB/46102/T/0002": ("CIBLE", 4, "PLANIFIE", ""),
                "IMB/46102/T/0003": ("CIBLE", 1, "PLANIFIE", ""),
                "IMB/46102/T/0004": ("CIBLE", 3, "PLANIFIE", ""),
            },
        ),
        "ipe46_b": write_ipe(
            d / "IPE_TEST_46_20201231.csv",
            {
                "IMB/46102/T/0001": ("DEPLOYE", 2, "DEPLOYE", "2020-04-15"),
                "IMB/46102/T/0002": ("DEPLOYE", 4, "DEPLOYE", "2020-04-15"),
                "IMB/46102/T/0003": ("EN COURS DE DEPLOIEMENT", 1, "EN COURS DE DEPLOIEMENT", ""),
            },
        ),
        "ipe46_late": write_ipe(
            d / "IPE_TEST_46_20200930.csv",
            {"IMB/46102/T/0001": ("DEPLOYE", 2, "DEPLOYE", "2020-04-15")},
        ),
        "ipe66_a": write_ipe_66(
            d / "IPE_TEST_66_20200331.csv",
            {
                "IMB/66136/T/0001": ("CIBLE", 5, "PLANIFIE", ""),
                "IMB/66136/T/0002": ("CIBLE", 2, "PLANIFIE", ""),
                "IMB/66136/T/0003": ("CIBLE", 7, "PLANIFIE", ""),
            },
        ),
        "ipe66_b": write_ipe_66(
            d / "IPE_TEST_66_20200930.csv",
            {
                "IMB/66136/T/0001": ("DEPLOYE", 5, "DEPLOYE", "2020-08-01"),
                "IMB/66136/T/0003": ("RACCORDABLE DEMANDE", 7, "DEPLOYE", "2020-08-01"),
            },
        ),
        "ipe66_late": write_ipe_66(
            d / "IPE_TEST_66_20200630.csv",
            {"IMB/66136/T/0001": ("DEPLOYE", 5, "DEPLOYE", "2020-08-01")},
        ),
        "list46": write_list(d / "onereuses_46_20201231.csv", ["IMB/46102/T/0004"]),
        "list66": write_list(d / "onereuses_66_20201231.csv", ["IMB/66136/T/0002"]),
    }


def _database(tag: str, with_66: bool) -> tuple[str, Engine]:
    url = create_scratch_database(tag)  # the Lot's reference is loaded
    engine = make_engine(url)
    if with_66:
        with engine.begin() as conn:
            load_reference(conn, "66", territory_dir=Settings().territory_dir("66"))
    return url, engine


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, Engine]]:
    made = {"both": _database("two", True), "alone46": _database("a46", False)}
    made["alone66"] = _database("a66", True)  # no data of the Lot imported there
    yield {k: e for k, (_, e) in made.items()}
    for url, engine in made.values():
        engine.dispose()
        drop_database(url)


def _ipe(engine: Engine, path: Path, territory: str) -> journal.ImportResult:
    return import_ipe(engine, path, territory=territory, user="test")


def _figures(engine: Engine, territory: str) -> dict[date, list[dict[str, object]]]:
    with engine.connect() as conn:
        return {
            d: sorted(
                raccordables(conn, territory=territory, as_of=d),
                key=lambda r: (str(r["level"]), str(r["code"])),
            )
            for d in DAYS
        }


def test_two_territories_share_one_database(
    databases: dict[str, Engine], files: dict[str, Path]
) -> None:
    both, alone46, alone66 = databases["both"], databases["alone46"], databases["alone66"]
    with both.connect() as conn:
        inside = conn.execute(
            text(
                "SELECT bool_and(ST_Contains(c.geom, ST_SetSRID(ST_MakePoint(x, y), 2154))) "
                "FROM commune c, (VALUES (690500, 6175000), (691500, 6175500), (693500, 6174500))"
                " AS b(x, y) WHERE c.insee = '66136'"
            )
        ).scalar_one()
    assert inside  # the Perpignan buildings lie in Perpignan

    for engine, territory, grace in ((both, "46", "grace46"), (both, "66", "grace66")):
        assert import_gracethd(engine, files[grace], territory=territory, user="t").status == "OK"
    # interleaved dates, the same operator TEST in both: 66's March snapshot comes after 46's
    # June one, and 66's import never retires the Lot's premises
    assert _ipe(both, files["ipe46_a"], "46").status == "OK"
    first66 = _ipe(both, files["ipe66_a"], "66")
    assert (first66.status, first66.counts["retires"]) == ("OK", 0)
    second66 = _ipe(both, files["ipe66_b"], "66")
    assert second66.counts["retires"] == 1
    with both.connect() as conn:
        live46 = conn.execute(
            text("SELECT count(*) FROM premise WHERE insee = '46102' AND removed_on IS NULL")
        ).scalar_one()
    assert live46 == 4
    second46 = _ipe(both, files["ipe46_b"], "46")
    assert second46.counts["retires"] == 1
    with both.connect() as conn:
        live = dict(
            conn.execute(
                text("SELECT insee, count(*) FROM premise WHERE removed_on IS NULL GROUP BY insee")
            ).all()
        )
    assert live == {"46102": 3, "66136": 2}

    # the date order holds per territory: an older snapshot is refused in its own territory
    for path, territory, last in (
        ("ipe66_late", "66", "30/09/2020"),
        ("ipe46_late", "46", "31/12/2020"),
    ):
        with pytest.raises(ImportRejectedError, match=f"antérieur au dernier importé \\({last}"):
            _ipe(both, files[path], territory)

    # a PM of the Lot named in a delivery of 66 is refused, not moved nor overwritten
    with pytest.raises(ImportRejectedError, match="autre territoire que le 66 : TST01 \\(46\\)"):
        import_gracethd(both, files["grace66_bad"], territory="66", user="t")
    with both.connect() as conn:
        assert (
            conn.execute(text("SELECT territory_code FROM pm WHERE reference = 'TST01'")).scalar()
            == "46"
        )

    # the operator's lists of the same date, one per territory, side by side
    for territory in ("46", "66"):
        path = files[f"list{territory}"]
        result = import_onereuses(
            both, path, territory=territory, snapshot_date=date(2020, 12, 31), user="t"
        )
        assert (result.status, result.counts["immeubles_inconnus"]) == ("OK", 0)
    with both.connect() as conn:
        listed = conn.execute(
            text("SELECT identifiant_immeuble FROM operator_expensive ORDER BY 1")
        ).scalars()
        assert list(listed) == ["IMB/46102/T/0004", "IMB/66136/T/0002"]
        # each territory is compared with its own list only
        for territory in ("46", "66"):
            compared = compare_with_operator(conn, territory=territory)
            assert (compared["date_liste"], compared["immeubles_listes"]) == ("2020-12-31", 1)
        # every journal entry names its territory, refusals included
        per_territory = dict(
            conn.execute(
                text(
                    "SELECT territory_code, string_agg(file_name || ':' || status, ' ' "
                    "ORDER BY id) FROM import_journal GROUP BY territory_code"
                )
            ).all()
        )
        # the same file is "already imported" only in the territory that imported it
        sha = journal.file_sha256(files["ipe46_a"])
        assert journal.previous_success(conn, "ipe", sha, territory="46") is not None
        assert journal.previous_success(conn, "ipe", sha, territory="66") is None
    assert set(per_territory) == {"46", "66"}
    assert "IPE_TEST_66_20200630.csv:REJETE" in per_territory["66"]
    assert "gracethd_66_tst_20190601.gpkg:REJETE" in per_territory["66"]
    assert "IPE_TEST_46_20200930.csv:REJETE" in per_territory["46"]
    assert "66" not in per_territory["46"]

    # each territory's figures equal those of a database holding it alone
    import_gracethd(alone46, files["grace46"], territory="46", user="t")
    for key in ("ipe46_a", "ipe46_b"):
        _ipe(alone46, files[key], "46")
    import_gracethd(alone66, files["grace66"], territory="66", user="t")
    for key in ("ipe66_a", "ipe66_b"):
        _ipe(alone66, files[key], "66")
    for territory, alone in (("46", alone46), ("66", alone66)):
        shared, own = _figures(both, territory), _figures(alone, territory)
        assert shared == own
        assert any(r["raccordables"] for r in shared[DAYS[-1]])
