"""Throw-away clusters (own PGDATA, free ports; the shared one is never touched): `db up` never
takes another checkout's server for its own, remembers the port it picks, and runs durable
unless the test suite asks otherwise."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from geo_service.db import cluster
from geo_service.errors import DatabaseProvisioningError
from geo_service.settings import Settings, port_file

# These tests start clusters of their own from the distribution's binaries: `make test` installs
# them as root (CI, our machines); only a machine using DATABASE_URL on another host lacks them.
pytestmark = pytest.mark.skipif(
    not cluster.server_majors() or not cluster.postgis_majors(),
    reason="PostgreSQL/PostGIS (Debian layout) not installed",
)


def _has_postgres_user() -> bool:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return True


@pytest.fixture(autouse=True)
def _no_port_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests choose their ports and folders; the run's own GEO_SERVICE_PG_PORT (a CI
    run on another port) must not leak into them."""
    for name in (
        "GEO_SERVICE_PG_PORT",
        "GEO_SERVICE_PGDATA",
        "DATABASE_URL",
        "GEO_SERVICE_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def new_pgdata() -> Iterator[Callable[[str], Path]]:
    """Makes PGDATA paths under /var/tmp (reachable by `postgres` when we are root); stops
    and removes their clusters afterwards."""
    # root cannot run initdb; without a `postgres` account (the postgresql package creates it)
    # there is no one to run it as
    if os.geteuid() == 0 and not _has_postgres_user():
        pytest.skip("no postgres user")
    made: list[Path] = []

    def make(name: str) -> Path:
        folder = Path(tempfile.mkdtemp(prefix=f"geo-service-test-{name}-", dir="/var/tmp"))
        made.append(folder)
        return folder / "pgdata"

    yield make
    for folder in made:
        cluster.down(local(folder / "pgdata"))
        shutil.rmtree(folder, ignore_errors=True)


def local(pgdata: Path, **kwargs: object) -> Settings:
    """Settings of a checkout whose cluster lives in `pgdata` (DATABASE_URL ignored)."""
    return Settings(database_url=None, pgdata=pgdata, **kwargs)  # type: ignore[arg-type]


def port_of(url: str) -> int:
    return int(str(psycopg.conninfo.conninfo_to_dict(url)["port"]))


def test_a_port_held_by_another_checkout_is_not_taken_for_ours(
    new_pgdata: Callable[[str], Path],
) -> None:
    busy = cluster.free_port(56000)
    assert busy is not None
    other = local(new_pgdata("autre-copie"), pg_port=busy)
    assert port_of(cluster.up(other)) == busy
    assert cluster.is_own_server(busy, other.pgdata)

    # This checkout's remembered (or default) port is the one the other clone holds.
    ours_pgdata = new_pgdata("ce-depot")
    ours_pgdata.parent.mkdir(exist_ok=True)
    port_file(ours_pgdata).write_text(f"{busy}\n")
    ours = local(ours_pgdata)
    assert ours.pg_port == busy and "pg_port" not in ours.model_fields_set

    url = cluster.up(ours)
    port = port_of(url)
    assert port != busy
    assert cluster.same_directory(cluster.server_data_directory(port) or "", ours_pgdata)
    assert cluster.is_own_server(busy, other.pgdata)  # the other clone's server, untouched
    # Later commands of this checkout (migrate, serve, tests) find the port again.
    assert port_file(ours_pgdata).read_text().strip() == str(port)
    again = local(ours_pgdata)
    assert again.pg_port == port and f":{port}/" in again.libpq_url
    assert cluster.up(again) == url  # running: found by its data_directory, not restarted
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("geo_service",)

    # A port asked for explicitly is never swapped: a clear message instead.
    cluster.down(again)
    with pytest.raises(DatabaseProvisioningError) as caught:
        cluster.up(local(ours_pgdata, pg_port=busy))
    assert f"Le port {busy} (GEO_SERVICE_PG_PORT) est déjà pris" in caught.value.message
    assert str(other.pgdata) in caught.value.message
    assert cluster.is_own_server(busy, other.pgdata)
    assert cluster.running_port(again) is None


def test_the_cluster_runs_durable_unless_the_tests_ask(new_pgdata: Callable[[str], Path]) -> None:
    port = cluster.free_port(56100)
    assert port is not None
    settings = local(new_pgdata("durable"), pg_port=port)
    cluster.up(settings)
    assert cluster.durability(port) == {
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
    }
    cluster.up(settings, rapide_tests=True)  # already durable: stays so
    assert cluster.is_durable(port)


def test_a_cluster_left_in_test_mode_is_made_durable(new_pgdata: Callable[[str], Path]) -> None:
    port = cluster.free_port(56200)
    assert port is not None
    settings = local(new_pgdata("rapide"), pg_port=port)
    url = cluster.up(settings, rapide_tests=True)
    assert cluster.durability(port)["fsync"] == "off"
    assert not cluster.is_durable(port)
    cluster.up(settings, rapide_tests=True)
    assert not cluster.is_durable(port)

    with psycopg.connect(url):  # someone (a test run) is connected: not cut off, but told
        with pytest.raises(DatabaseProvisioningError) as caught:
            cluster.up(settings)
        assert "mode rapide pour les tests" in caught.value.message
        assert "1 connexion(s)" in caught.value.message
    assert not cluster.is_durable(port)

    assert cluster.up(settings) == url
    assert cluster.is_durable(port)
    assert cluster.durability(port)["synchronous_commit"] == "on"
