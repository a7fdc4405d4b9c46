"""Uploads through the API: the CLI's importer runs as the token's user; a refused file gives
the same report as JSON and leaves the database as it was; journal and audit name the user."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo_service.db.session import make_engine
from geo_service.ingest.gracethd import import_gracethd
from geo_service.main import create_app
from geo_service.settings import Settings
from tests.conftest import create_scratch_database, data_checksums, drop_database, make_user
from tests.ingest.ipe_files import write_ipe

IDS = ["IMB/46102/T/0001", "IMB/46102/T/0002", "IMB/46102/T/0003", "IMB/46102/T/0004"]


@pytest.fixture(scope="module")
def upload_db(gracethd_gpkg: Path) -> Iterator[tuple[str, Engine]]:
    url = create_scratch_database("uploads")
    engine = make_engine(url)
    import_gracethd(engine, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="t")
    yield url, engine
    engine.dispose()
    drop_database(url)


@pytest.fixture(scope="module")
def upload_client(
    upload_db: tuple[str, Engine],
) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    url, engine = upload_db
    with engine.begin() as conn:
        tech = make_user(conn, "agent-import", "technicien")
        elu = make_user(conn, "maire-import", "elu", commune="46102")
    with TestClient(create_app(Settings(database_url=url, departement="46"))) as client:
        yield client, tech, elu


def test_upload_needs_a_technicien(upload_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, _tech, elu = upload_client
    path = write_ipe(
        tmp_path / "IPE_TEST_46_20211231.csv", {IDS[0]: ("DEPLOYE", 2, "DEPLOYE", "2021-01-01")}
    )
    files = {"fichier": (path.name, path.read_bytes(), "text/csv")}
    assert client.post("/api/v1/imports/ipe", files=files).status_code == 401
    assert client.post("/api/v1/imports/ipe", files=files, headers=elu).status_code == 403


def test_valid_then_invalid_ipe(upload_client, upload_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, tech, _elu = upload_client
    _url, engine = upload_db
    good = write_ipe(
        tmp_path / "IPE_TEST_46_20211231.csv",
        {i: ("DEPLOYE", 3, "DEPLOYE", "2021-06-01") for i in IDS},
    )
    response = client.post(
        "/api/v1/imports/ipe",
        files={"fichier": (good.name, good.read_bytes(), "text/csv")},
        data={"utilisateur": "quelqu-un-d-autre"},
        headers=tech,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "OK" and body["snapshot_date"] == "2021-12-31"
    with engine.connect() as conn:
        deployed = conn.execute(
            text("SELECT sum(logements) FROM premise WHERE etat = 'DEPLOYE'")
        ).scalar_one()
        assert deployed == 12
        journal_user = conn.execute(
            text("SELECT user_name FROM import_journal WHERE id = :i"), {"i": body["journal_id"]}
        ).scalar_one()
        assert journal_user == "agent-import"
        audit = conn.execute(
            text(
                "SELECT user_name, source, import_id FROM audit_log WHERE action = 'import' ORDER BY id DESC LIMIT 1"
            )
        ).one()
        assert tuple(audit) == ("agent-import", "import", body["journal_id"])
        before = data_checksums(conn)
        before.pop("api_token")  # its last use is recorded on every call

    bad = tmp_path / "IPE_TEST_46_20220331.csv"
    lines = good.read_text().splitlines()
    lines[2] = lines[2].replace(";3;DEPLOYE;", ";beaucoup;DEPLOYE;")
    bad.write_text("\n".join(lines) + "\n")
    refused = client.post(
        "/api/v1/imports/ipe",
        files={"fichier": (bad.name, bad.read_bytes(), "text/csv")},
        headers=tech,
    )
    assert refused.status_code == 422
    problems = refused.json()["problemes"]
    assert problems[0]["file"] == bad.name and problems[0]["line"] == 3
    assert (
        problems[0]["column"] == "NombreLogementsAdresseIPE" and problems[0]["value"] == "beaucoup"
    )
    with engine.connect() as conn:
        after = data_checksums(conn)
        after.pop("api_token")
        assert after == before
    journal = client.get("/api/v1/imports", headers=tech).json()
    assert [(j["file_name"], j["status"], j["user_name"]) for j in journal[:2]] == [
        (bad.name, "REJETE", "agent-import"),
        (good.name, "OK", "agent-import"),
    ]


def test_upload_names_are_sanitised_and_checked(upload_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, tech, _elu = upload_client
    content = b"code;nom\n"
    for name, expected in (
        ("../../etc/passwd", 400),
        ("notes.exe", 400),
        ("", 422),
    ):
        response = client.post(
            "/api/v1/imports/ipe", files={"fichier": (name, content, "text/csv")}, headers=tech
        )
        assert response.status_code == expected, (name, response.text)
    unknown = client.post(
        "/api/v1/imports/inconnu", files={"fichier": ("a.csv", content, "text/csv")}, headers=tech
    )
    assert unknown.status_code == 400 and "inconnu" in unknown.json()["detail"]


def test_journal_shows_running_and_interrupted_imports(upload_client, upload_db) -> None:  # type: ignore[no-untyped-def]
    """A marker whose session is alive is an import in progress (its step, and the console page
    refreshes itself); one whose session is gone is an interrupted import."""
    client, tech, _elu = upload_client
    _url, engine = upload_db
    marker = (
        "INSERT INTO import_journal (kind, file_name, sha256, user_name, status, counts)"
        " VALUES ('ipe', :f, '', 'agent-import', 'EN_COURS', jsonb_build_object('pid', :p,"
        " 'etape', 'fusion et historique')) RETURNING id"
    )
    with engine.connect() as running:  # stands for the session of a running import
        pid = running.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.begin() as conn:
            live = conn.execute(text(marker), {"f": "IPE_EN_COURS.csv", "p": pid}).scalar_one()
            dead = conn.execute(text(marker), {"f": "IPE_TUE.csv", "p": 0}).scalar_one()
        try:
            entries = {j["id"]: j for j in client.get("/api/v1/imports", headers=tech).json()}
            assert entries[live]["status"] == "EN_COURS"
            assert entries[live]["etape"] == "fusion et historique"
            assert entries[live]["counts"] == {}
            assert entries[dead]["status"] == "INTERROMPU"
            page = client.get("/console/imports", headers=tech).text
            assert "en cours : fusion et historique" in page
            assert (
                "INTERROMPU : l'import ne s'est pas terminé (étape « fusion et historique »)"
                in page
            )
            assert '<meta http-equiv="refresh" content="3; url=/console/imports">' in page
            calm = client.get("/console/imports?actualiser=non", headers=tech).text
            assert "http-equiv" not in calm and "en cours : fusion" in calm
            # the next import marks the dead one for good; the live one stays in progress
            with engine.begin() as conn:
                from geo_service.ingest.journal import mark_interrupted

                assert mark_interrupted(conn) == 1
                statuses = dict(
                    conn.execute(
                        text("SELECT id, status FROM import_journal WHERE id IN (:a, :b)"),
                        {"a": live, "b": dead},
                    ).all()
                )
            assert statuses == {live: "EN_COURS", dead: "INTERROMPU"}
        finally:
            with engine.begin() as conn:
                conn.execute(
                    text("DELETE FROM import_journal WHERE id IN (:a, :b)"), {"a": live, "b": dead}
                )
    page = client.get("/console/imports", headers=tech).text
    assert "http-equiv" not in page and "en cours :" not in page


def test_console_journal_locked_by_a_first_load_says_so(upload_client, upload_db) -> None:  # type: ignore[no-untyped-def]
    """A first load rebuilds the foreign keys pointing at the journal (locked until it commits):
    the page answers at once, says why, and refreshes itself."""
    import time

    import psycopg

    client, tech, _elu = upload_client
    url, _engine = upload_db
    with psycopg.connect(url) as holder:
        holder.execute("LOCK TABLE import_journal IN ACCESS EXCLUSIVE MODE")
        start = time.perf_counter()
        page = client.get("/console/imports", headers=tech)
        elapsed = time.perf_counter() - start
        holder.rollback()
    assert page.status_code == 200 and elapsed < 10
    assert "Journal momentanément indisponible" in page.text
    assert 'http-equiv="refresh"' in page.text


@pytest.mark.parametrize(
    ("kind", "fixture", "table"),
    [
        ("dcc", "arcep/2022_T2_dcc_Metropole_sites.csv", "mobile_site"),
        ("incidents", "operations/incidents.csv", "incident"),
    ],
)
def test_public_files_and_registers_upload_through_their_importer(  # type: ignore[no-untyped-def]
    upload_client, upload_db, kind: str, fixture: str, table: str
) -> None:
    client, tech, _elu = upload_client
    _url, engine = upload_db
    path = Path(__file__).parents[1] / "fixtures" / fixture
    with engine.connect() as conn:
        before = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    response = client.post(
        f"/api/v1/imports/{kind}",
        files={"fichier": (path.name, path.read_bytes(), "text/csv")},
        headers=tech,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] in ("OK", "PARTIEL")
    with engine.connect() as conn:
        after = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        journal = conn.execute(
            text("SELECT kind, user_name FROM import_journal WHERE id = :i"),
            {"i": body["journal_id"]},
        ).one()
    assert after > before
    assert tuple(journal) == (kind, "agent-import")
