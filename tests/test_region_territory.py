"""A territory of several départements (issue #12): the Lot (46) and the Lozère (48) declared as
one territory in a `territoire.toml`, their operators' files imported département by
département — each département's figures are those its demo's generator recorded, its own
élu page exists inside the territory, and a delivery of one département leaves the other's
premises as they were."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo_service.analysis.programmes import programme_indicators
from geo_service.analysis.raccordables import raccordables
from geo_service.db.session import make_engine
from geo_service.errors import ImportRejectedError, ReferenceDataError
from geo_service.ingest.batch import REGISTER_FILES, plan
from geo_service.ingest.dcc import import_dcc
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from geo_service.ingest.registers import import_register
from geo_service.main import create_app
from geo_service.reference import sources
from geo_service.reference.load import load_reference
from geo_service.reference.territory_config import read_config
from geo_service.settings import PROJECT_ROOT, Settings
from tests.conftest import clear_shared_cache, create_scratch_database, demo_files, drop_database

pytestmark = [pytest.mark.slow, pytest.mark.long]

CODE = "lot-lozere"
DEPARTEMENTS = ("46", "48")
DATES = ("2019-12-31", "2022-12-31", "2025-12-31")  # snapshots of both demos


def _snapshot(folder: Path, dep: str, day: str) -> Path:
    return folder / "ipe" / f"IPE_ALLF_{dep}_{day.replace('-', '')}.csv.gz"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder declaring the territory (the Lot's AMII list and targets beside it)."""
    root = tmp_path_factory.mktemp("region")
    folder = root / "territories" / CODE
    folder.mkdir(parents=True)
    lot = PROJECT_ROOT / "data" / "territories" / "46"
    shutil.copy(lot / "amii_communes.csv", folder / "amii_communes.csv")
    (folder / "territoire.toml").write_text(
        'nom = "Lot et Lozère"\ndepartements = ["48", "46"]\nfond_de_carte = "CartoDB positron"\n',
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="module")
def region(data_dir: Path) -> Iterator[tuple[str, dict[str, dict]]]:
    """The territory loaded: the Lot's whole history (3 snapshots), then the Lozère's from its
    start — each département's deliveries in their own date order, as operators send them."""
    folders = {dep: demo_files(dep) for dep in DEPARTEMENTS}
    url = create_scratch_database("region", territories=())
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            load_reference(conn, CODE, territory_dir=data_dir / "territories" / CODE)
        for dep, folder in folders.items():
            gpkg = folder / "gracethd" / f"gracethd_{dep}.gpkg"
            import_gracethd(engine, gpkg, territory=CODE, snapshot_date=date(2018, 3, 31))
            for day in DATES:
                import_ipe(engine, _snapshot(folder, dep, day), territory=CODE, user="tests")
        # the Lozère's mobile, WiFi and MED registers, after ARCEP's DCC file they complete
        for step in plan(folders["48"]):
            if step.kind == "dcc":
                import_dcc(engine, step.path, territory=CODE, user="tests")
            elif step.kind in REGISTER_FILES:
                import_register(engine, step.kind, step.path, territory=CODE, user="tests")
        manifests = {
            dep: json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            for dep, folder in folders.items()
        }
        yield url, manifests
    finally:
        engine.dispose()
        drop_database(url)


@pytest.fixture(scope="module")
def region_engine(region: tuple[str, dict]) -> Iterator[Engine]:
    engine = make_engine(region[0])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def region_client(region: tuple[str, dict], data_dir: Path) -> Iterator[TestClient]:
    clear_shared_cache(region[0])
    settings = Settings(database_url=region[0], departement=CODE, data_dir=data_dir)
    with TestClient(create_app(settings)) as client:
        yield client


def test_the_declared_territory_holds_every_commune_of_its_departements(
    region_engine: Engine,
) -> None:
    expected = {dep: len(sources.read_communes(dep)) for dep in DEPARTEMENTS}
    with region_engine.connect() as conn:
        row = conn.execute(
            text("SELECT nom, departements FROM territory WHERE code = :t"), {"t": CODE}
        ).one()
        counts = dict(
            conn.execute(
                text(
                    "SELECT departement, count(*) FROM commune WHERE territory_code = :t "
                    "GROUP BY departement"
                ),
                {"t": CODE},
            ).all()
        )
    assert row.nom == "Lot et Lozère"
    assert list(row.departements) == ["46", "48"]
    assert counts == expected


def test_each_departement_has_the_figures_its_generator_recorded(
    region: tuple[str, dict], region_engine: Engine
) -> None:
    """Raccordables per département at each snapshot = the demo's own truth; the territory is
    their sum. The Lozère's files, imported after the Lot's, did not mark the Lot's premises
    removed (the Lot's 2025 figure would be 0)."""
    manifests = region[1]
    with region_engine.connect() as conn:
        for day in DATES:
            rows = raccordables(
                conn,
                territory=CODE,
                as_of=date.fromisoformat(day),
                levels=("departement_membre", "departement"),
            )
            by = {(r["level"], r["code"]): r["raccordables"] for r in rows}
            truth = {
                d: manifests[d]["truth"]["by_date"][day]["deployed_logements"] for d in DEPARTEMENTS
            }
            assert {d: by[("departement_membre", d)] for d in DEPARTEMENTS} == truth
            assert by[("departement", CODE)] == sum(truth.values())
        assert min(truth.values()) > 0


def test_member_departements_are_a_level_only_of_a_territory_of_several(
    region_engine: Engine, connection
) -> None:  # type: ignore[no-untyped-def]
    with region_engine.connect() as conn:
        levels = {r["level"] for r in raccordables(conn, territory=CODE)}
        communes = [r for r in raccordables(conn, territory=CODE, levels=("commune",))]
    assert "departement_membre" in levels
    assert {r["code"][:2] for r in communes} == set(DEPARTEMENTS)
    alone = {r["level"] for r in raccordables(connection, territory="46")}
    assert "departement_membre" not in alone


def test_programmes_per_member_departement(region_engine: Engine) -> None:
    """The Lozère's registers count for the Lozère and the territory, not for the Lot."""
    day = date.today()
    with region_engine.connect() as conn:
        lozere = programme_indicators(conn, CODE, as_of=day, level="departement_membre", code="48")
        lot = programme_indicators(conn, CODE, as_of=day, level="departement_membre", code="46")
        whole = programme_indicators(conn, CODE, as_of=day)
        registered = conn.execute(text("SELECT count(*) FROM mobile_site")).scalar_one()
    assert lozere["nom"] == "Lozère"
    assert lozere["mobile"]["sites"] == whole["mobile"]["sites"] > 0
    assert lozere["med"]["sites"] == whole["med"]["sites"]
    assert lot["mobile"]["sites"] == 0 and lot["med"]["sites"] == 0
    assert lot["wifi"]["bornes_en_service"] == 0
    assert whole["mobile"]["sites"] <= registered


def test_deliveries_stay_in_date_order_within_each_departement(
    region: tuple[str, dict], region_engine: Engine
) -> None:
    """The Lozère's 2019 file came after the Lot's 2025 one (another département); an older
    Lot file after the Lot's newest is refused, and nothing is written."""
    folder = demo_files("46")
    older = _snapshot(folder, "46", "2020-12-31")
    with region_engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM premise_history")).scalar_one()
    with pytest.raises(ImportRejectedError, match="antérieur au dernier importé"):
        import_ipe(region_engine, older, territory=CODE, user="tests")
    with region_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM premise_history")).scalar_one() == before


def test_a_commune_belongs_to_one_territory(region_engine: Engine) -> None:
    with region_engine.begin() as conn, pytest.raises(ReferenceDataError) as caught:
        load_reference(conn, "46", territory_dir=PROJECT_ROOT / "data" / "territories" / "46")
    assert "appartiennent déjà au territoire « lot-lozere »" in str(caught.value)


def test_index_lists_the_departements_and_each_has_its_page(
    region_client: TestClient, region: tuple[str, dict]
) -> None:
    index = region_client.get("/communes")
    assert index.status_code == 200
    assert 'href="/departements/46"' in index.text and 'href="/departements/48"' in index.text
    page = region_client.get("/departements/48")
    assert page.status_code == 200
    assert "Lozère (48)" in page.text
    last = region[1]["48"]["truth"]["by_date"]["2025-12-31"]["deployed_logements"]
    assert f"{last:,}".replace(",", "\u202f") in page.text
    assert "Sites mobiles" in page.text  # the programmes section, of the Lozère
    assert "comparée à l'ensemble du territoire (Lot et Lozère)" in page.text
    assert "cartocdn" in page.text  # the territory's declared base map
    assert region_client.get("/departements/12").status_code == 404
    assert "Département inconnu" in region_client.get("/departements/12").json()["detail"]
    assert region_client.get("/communes/48095").status_code == 200  # Mende
    assert region_client.get("/communes/46042").status_code == 200  # Cahors


def test_api_gives_the_member_departements(region_client: TestClient) -> None:
    rows = region_client.get(
        "/api/v1/stats/raccordables", params={"level": "departement_membre"}
    ).json()
    assert [r["code"] for r in rows] == ["46", "48"]
    whole = region_client.get("/api/v1/stats/raccordables").json()
    assert whole[0]["raccordables"] == sum(r["raccordables"] for r in rows)


def test_a_lone_departement_has_no_departement_page(client: TestClient) -> None:
    response = client.get("/departements/46")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('nom = "X"\ndepartement = ["46"]\n', "clé(s) inconnue(s) departement"),
        ('departements = ["46", "99"]\n', "Département inconnu : « 99 »"),
        ("departements = []\n", "liste non vide"),
        ('departements = ["46", "46"]\n', "cité deux fois"),
        ("departements = [46\n", "illisible"),
    ],
)
def test_a_wrong_declaration_is_refused_in_french(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "territoire.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ReferenceDataError) as caught:
        read_config("occ", tmp_path)
    assert message in str(caught.value)
    assert "territoire.toml" in str(caught.value) or "Département" in str(caught.value)


def test_without_declaration_a_territory_is_its_departement(tmp_path: Path) -> None:
    config = read_config("12", tmp_path)
    assert config.departements == ("12",)
    with pytest.raises(ReferenceDataError, match="Code de territoire invalide"):
        read_config("../etc", tmp_path)


def test_quand_and_tiles_answer_in_both_departements(
    region_client: TestClient, region_engine: Engine
) -> None:
    """A premise of each département: `quand ?` at its point names it, and the z14 tile holding
    it draws it (premises of both départements in one territory's tiles)."""
    with region_engine.connect() as conn:
        picks = conn.execute(
            text(
                "SELECT DISTINCT ON (c.departement) c.departement, p.identifiant_immeuble, "
                "ST_Y(ST_Transform(p.geom, 4326)) AS lat, ST_X(ST_Transform(p.geom, 4326)) AS lon "
                "FROM premise p JOIN commune c ON c.insee = p.insee "
                "WHERE p.etat = 'DEPLOYE' AND NOT p.amii ORDER BY c.departement, p.id"
            )
        ).all()
    assert [p.departement for p in picks] == ["46", "48"]
    for pick in picks:
        answer = region_client.get("/api/v1/quand", params={"lat": pick.lat, "lon": pick.lon})
        assert answer.status_code == 200
        assert pick.identifiant_immeuble in answer.text
        n = 2**14
        x = int((pick.lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(pick.lat))) / math.pi) / 2 * n)
        tile = region_client.get(f"/tiles/prises/14/{x}/{y}.pbf")
        assert tile.status_code == 200
        assert pick.identifiant_immeuble.encode() in tile.content
