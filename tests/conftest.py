"""Test fixtures: a fresh PostGIS database per test session, migrated with Alembic; each test
runs in a transaction rolled back at the end."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from geo_service.api.deps import get_session
from geo_service.db.migrate import upgrade
from geo_service.db.session import make_engine
from geo_service.main import create_app
from geo_service.reference.load import load_reference
from geo_service.settings import PROJECT_ROOT, Settings

FIXTURES = Path(__file__).parent / "fixtures"
OUTPUT = PROJECT_ROOT / "tests" / "output"


def _with_dbname(url: str, name: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(url)
    params["dbname"] = name
    return psycopg.conninfo.make_conninfo(**params)


def _libpq_to_url(conninfo: str) -> str:
    p = psycopg.conninfo.conninfo_to_dict(conninfo)
    auth = str(p.get("user", ""))
    if p.get("password"):
        auth += f":{p['password']}"
    host = str(p.get("host", "127.0.0.1"))
    port = f":{p['port']}" if p.get("port") else ""
    return f"postgresql://{auth}@{host}{port}/{p['dbname']}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A brand-new database on the configured server, dropped after the session."""
    base = Settings().libpq_url
    name = f"geo_service_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _with_dbname(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _libpq_to_url(_with_dbname(base, name))
    upgrade(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, departement="46")


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def lot_loaded(engine: Engine, settings: Settings) -> str:
    """The Lot's reference geography, committed once for the session."""
    with engine.begin() as conn:
        load_reference(conn, "46", territory_dir=settings.territory_dir("46"))
    return "46"


@pytest.fixture()
def connection(engine: Engine, lot_loaded: str) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        yield conn
        trans.rollback()


@pytest.fixture()
def session(connection: Connection) -> Iterator[Session]:
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session


@pytest.fixture()
def client(settings: Settings, session: Session) -> Iterator[TestClient]:
    """The web app, talking to the test database through the rolled-back session."""
    clear_shared_cache(settings.libpq_url)
    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def gracethd_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small GraceTHD GeoPackage (one NRO, PM TST01/TST02 in Figeac), written for the session."""
    from tests.fixtures.gracethd.make_fixture import write_fixture

    return write_fixture(tmp_path_factory.mktemp("gracethd") / "gracethd_figeac.gpkg")


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


# Migrated databases holding some territories' reference geography, made once per test process
# (territories -> database name): a scratch database is a copy of one (CREATE DATABASE … TEMPLATE
# copies files in a fraction of a second, where migrating and loading the reference take seconds).
_TEMPLATES: dict[tuple[str, ...], str] = {}


# The run's name, drawn by the process pytest was started in and inherited by xdist's workers.
RUN = "GEO_SERVICE_TEST_RUN"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(RUN, uuid.uuid4().hex[:12])  # before the workers start


def demo_template() -> str:
    """The demo Lot loaded once for the whole run, whatever the number of processes (the first
    one to need it loads it under an advisory lock, then each process works on its own copy)."""
    return f"geo_service_demo_{os.environ[RUN]}"


def _create_database(name: str, template: str | None = None) -> str:
    base = Settings().libpq_url
    copied = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(_with_dbname(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copied}')
    return _libpq_to_url(_with_dbname(base, name))


def _reference_template(territories: tuple[str, ...]) -> str:
    if territories not in _TEMPLATES:
        name = f"geo_service_modele_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        url = _create_database(name)
        _TEMPLATES[territories] = name  # dropped at the session's end, even half made
        upgrade(url)
        engine = make_engine(url)
        for code in territories:
            with engine.begin() as conn:
                load_reference(conn, code, territory_dir=Settings().territory_dir(code))
        engine.dispose()  # nobody may stay connected to a template
    return _TEMPLATES[territories]


def _scratch_name(tag: str) -> str:
    return f"geo_service_test_{tag}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def create_scratch_database(tag: str, territories: tuple[str, ...] = ("46",)) -> str:
    """A fresh migrated database with the reference geography of `territories` (the Lot unless
    told), for committed imports."""
    return _create_database(_scratch_name(tag), _reference_template(territories))


def copy_database(url: str, tag: str) -> str:
    """A new database holding what the one at `url` holds (nobody may be connected to it)."""
    return _create_database(_scratch_name(tag), psycopg.conninfo.conninfo_to_dict(url)["dbname"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The modules marked `long` first, the order kept otherwise: with several processes, the
    longest module does not start last and end the run alone."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for name in _TEMPLATES.values():
        drop_database(_with_dbname(Settings().libpq_url, name))
    _TEMPLATES.clear()
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # the run's own process, its workers done
        # no server to reach: no test made the demo database either
        with contextlib.suppress(psycopg.OperationalError):
            drop_database(_with_dbname(Settings().libpq_url, demo_template()))


def drop_database(url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(_with_dbname(Settings().libpq_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clear_shared_cache(url: str) -> None:
    """Empty page_cache (pages are stored there in transactions of their own, committed): a
    page another test rendered from its own rolled-back data is not served to this one."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM page_cache")


def data_checksums(conn: Connection) -> dict[str, str]:
    """md5 of every data table's rows (all but the import journal, which records rejections)."""
    from sqlalchemy import text

    from geo_service.db.base import Base

    out = {}
    for table in sorted(Base.metadata.tables):
        if table in ("import_journal", "audit_log", "page_cache"):
            continue  # they record refusals too; page_cache holds pages a read stored
        out[table] = conn.execute(
            text(
                f"SELECT count(*) || ':' || COALESCE(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t"
            )
        ).scalar_one()
    return out


def demo_files(departement: str, seed: int = 46) -> Path:
    """A département's demo exchange files: the checkout's own when this generator version wrote
    them with `seed`, else generated once per generator version under tests/output/."""
    import shutil

    from geo_service.demo.generate import generate_demo, generator_version, manifest_is_current

    folder = Settings().demo_path(departement)
    if manifest_is_current(folder, departement, seed):
        return folder
    cached = OUTPUT / "demo" / f"{departement}-{generator_version(departement)}-seed{seed}"
    if manifest_is_current(cached, departement, seed):
        return cached
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}")
    shutil.rmtree(partial, ignore_errors=True)
    generate_demo(departement, partial, seed=seed)
    for stale in cached.parent.glob(f"{departement}-*"):
        if stale.name.count(".") == 0 and stale != cached:  # other versions, not in progress
            shutil.rmtree(stale, ignore_errors=True)
    if manifest_is_current(cached, departement, seed):  # another session finished first
        shutil.rmtree(partial, ignore_errors=True)
        return cached
    shutil.rmtree(cached, ignore_errors=True)
    partial.rename(cached)
    return cached


@pytest.fixture(scope="session")
def demo_folder() -> Path:
    """The demo Lot's exchange files (see demo_files)."""
    return demo_files("46")


def _loaded_demo(folder: Path) -> str:
    """demo_template(), loaded through the regular importers by the first process to ask."""
    from geo_service.ingest.batch import load_folder

    name = demo_template()
    admin = _with_dbname(Settings().libpq_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as lock:  # released when it closes
        lock.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
        found = "SELECT 1 FROM pg_database WHERE datname = %s"
        if lock.execute(found, (name,)).fetchone() is None:
            url = create_scratch_database("demo")
            engine = make_engine(url)
            try:
                load_folder(engine, folder, territory="46", user="tests")
            except BaseException:
                drop_database(url)
                raise
            finally:
                engine.dispose()
            loaded = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
            lock.execute(f'ALTER DATABASE "{loaded}" RENAME TO "{name}"')  # when whole
    return _with_dbname(Settings().libpq_url, name)


@pytest.fixture(scope="session")
def demo_url(demo_folder: Path) -> Iterator[str]:
    """A database holding the whole demo Lot, loaded through the regular importers (this
    process's copy of the run's demo_template())."""
    url = copy_database(_loaded_demo(demo_folder), "demo")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def copy_of_demo(demo_url: str) -> Callable[[str], str]:
    """Makes a new database holding the demo Lot as demo_url received it (a file copy, not a
    second load); the caller drops it."""
    template = _with_dbname(Settings().libpq_url, demo_template())
    return lambda tag: copy_database(template, tag)


@pytest.fixture(scope="session")
def demo_engine(demo_url: str) -> Iterator[Engine]:
    engine = make_engine(demo_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def demo_conn(demo_engine: Engine) -> Iterator[Connection]:
    with demo_engine.connect() as conn:
        trans = conn.begin()
        yield conn
        trans.rollback()


@pytest.fixture()
def demo_client(demo_url: str, demo_conn: Connection) -> Iterator[TestClient]:
    """The web app on the demo database (each test rolled back)."""
    clear_shared_cache(demo_url)
    app = create_app(Settings(database_url=demo_url, departement="46"))
    session = Session(bind=demo_conn, join_transaction_mode="create_savepoint")
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as test_client:
        yield test_client
    session.close()


# --- accounts -----------------------------------------------------------------------------------

STAFF_PASSWORD = "mot-de-passe-de-test-1"


def make_user(
    conn: Connection,
    nom: str,
    role: str,
    *,
    commune: str | None = None,
    epci: str | None = None,
    password: str | None = STAFF_PASSWORD,
) -> dict[str, str]:
    """An account in the test's transaction, and the Authorization header of a fresh token."""
    from geo_service.auth import users
    from geo_service.auth.actor import cli_actor

    operator = cli_actor("tests", "46")
    users.add_user(
        conn,
        operator,
        nom,
        role=role,
        territory="46",
        commune=commune,
        epci=epci,
        password=password,
    )
    return {"Authorization": f"Bearer {users.issue_token(conn, operator, nom)}"}


@pytest.fixture()
def tech_headers(connection: Connection) -> dict[str, str]:
    return make_user(connection, "tech", "technicien")


@pytest.fixture()
def admin_headers(connection: Connection) -> dict[str, str]:
    return make_user(connection, "chef", "admin")


@pytest.fixture()
def demo_tech_headers(demo_conn: Connection) -> dict[str, str]:
    return make_user(demo_conn, "tech", "technicien")
