"""Reads on a real streaming replica of the test cluster (pg_basebackup -R on a second port):
served by it, an import on the primary seen there after catch-up, and the replica stopped under
load without a failed request."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from geo_service.db import cluster
from geo_service.db.replicas import (
    APPLICATION_NAME,
    DOWN,
    LAGGING,
    OK,
    ReplicaSet,
    is_gone,
    public_name,
    replay_delay,
)
from geo_service.db.session import make_engine
from geo_service.ingest.ban import import_ban
from geo_service.main import create_app
from geo_service.settings import Settings
from tests.conftest import _libpq_to_url, create_scratch_database, drop_database

BAN = Path(__file__).parent.parent / "fixtures" / "ban" / "adresses-46.csv.gz"
PAGE = "/tiles/communes/8/129/92.pbf"  # over Figeac: a public read, ETag per data version


@dataclass
class Standby:
    major: int
    datadir: Path
    port: int
    primary_url: str  # the scratch database on the primary
    url: str  # the same database on the replica

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(cluster.bindir(self.major) / "pg_ctl"), "-D", str(self.datadir), *args]
        result = subprocess.run(cluster._as_owner(cmd), capture_output=True, text=True)
        if check and result.returncode != 0:
            log = self.datadir.parent / "replica.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            pytest.fail(f"pg_ctl {' '.join(args)} : {result.stderr or result.stdout}\n{tail}")
        return result


def _server(url: str) -> tuple[str, int, int]:
    params = psycopg.conninfo.conninfo_to_dict(url)
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    assert row is not None
    return str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432), row[0] // 10000


@pytest.fixture(scope="module")
def standby() -> Iterator[Standby]:
    primary_url = create_scratch_database("replica")
    host, port, major = _server(primary_url)
    basebackup = cluster.bindir(major) / "pg_basebackup"
    if not basebackup.exists():
        drop_database(primary_url)
        pytest.fail(
            f"{basebackup} introuvable : installez le serveur PostgreSQL {major} "
            "(make test installe les paquets du serveur)."
        )
    parent = Path(tempfile.mkdtemp(prefix="geo-service-replica-", dir="/var/tmp"))
    if os.geteuid() == 0:  # pg_basebackup and postgres run as `postgres`
        shutil.chown(parent, "postgres", "postgres")
    replica_port = cluster.free_port(port + 1)
    assert replica_port is not None
    datadir = parent / "data"
    node = Standby(
        major,
        datadir,
        replica_port,
        primary_url,
        _libpq_to_url(
            psycopg.conninfo.make_conninfo(primary_url, host="127.0.0.1", port=str(replica_port))
        ),
    )
    try:
        backup = [
            str(basebackup),
            *("-h", host, "-p", str(port), "-U", "postgres", "-D", str(datadir)),
            *("-R", "-X", "stream", "-c", "fast", "--no-sync"),
        ]
        result = subprocess.run(cluster._as_owner(backup), capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"pg_basebackup : {result.stderr or result.stdout}")
        options = [
            *("-p", str(replica_port), "-k", str(parent), "-c", "listen_addresses=127.0.0.1"),
            *("-c", "fsync=off", "-c", "shared_buffers=32MB", "-c", "hot_standby=on"),
        ]
        log = str(parent / "replica.log")
        node.pg_ctl("-w", "-t", "60", "-l", log, "-o", shlex.join(options), "start")
        yield node
    finally:
        node.pg_ctl("stop", "-m", "immediate", check=False)
        shutil.rmtree(parent, ignore_errors=True)
        drop_database(primary_url)


def _wait(what: str, condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    pytest.fail(f"délai dépassé : {what}")


def test_reads_on_replica_then_primary_when_it_stops(standby: Standby) -> None:
    settings = Settings(
        database_url=standby.primary_url, database_replica_urls=standby.url, departement="46"
    )
    app = create_app(settings)
    with TestClient(app) as client:
        replicas = app.state.replicas
        replica = replicas.replicas[0]
        assert "@" not in replica.name and str(standby.port) in replica.name

        def healthz_replica() -> dict[str, object]:
            response = client.get("/healthz")
            assert response.status_code == 200
            return response.json()["replicas"][0]  # type: ignore[no-any-return]

        _wait("réplique en bon état", lambda: healthz_replica()["etat"] == OK)
        lag = healthz_replica()["retard_s"]  # 0 unless other tests' writes are being replayed
        assert isinstance(lag, float | int) and 0 <= lag <= settings.replica_retard_max_s

        # a public read is served by the replica: counted there, and its connection is on it
        before = replica.served
        response = client.get(PAGE)
        assert response.status_code == 200
        etag = response.headers["etag"]
        assert replica.served == before + 1
        assert client.get("/ogc/collections").status_code == 200  # the OGC API too
        assert replica.served == before + 2
        with psycopg.connect(standby.url) as conn:
            on_standby = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (APPLICATION_NAME,),
            ).fetchone()
        assert on_standby is not None and on_standby[0] >= 1

        # an import committed on the primary is read on the replica once replayed (the tile's
        # data version moves: its ETag changes)
        engine = make_engine(standby.primary_url)
        try:
            result = import_ban(engine, BAN, territory="46", user="test")
        finally:
            engine.dispose()
        assert result.counts["adresses"] == 6
        served = replica.served
        _wait("import visible sur la réplique", lambda: client.get(PAGE).headers["etag"] != etag)
        assert replica.served > served

        # the replica stopped under load: every request still answered (on the primary)
        statuses: list[int] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                statuses.append(client.get(PAGE).status_code)

        at_start = replica.served
        workers = [threading.Thread(target=load) for _ in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        served = replica.served
        standby.pg_ctl("stop", "-m", "immediate")
        time.sleep(1.5)
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        assert served > at_start  # the load was on the replica when it stopped
        assert len(statuses) > 20 and set(statuses) == {200}, statuses
        health = healthz_replica()
        assert health["etat"] == DOWN and health["retard_s"] is None
        after_stop = replica.served
        assert client.get(PAGE).status_code == 200
        assert replica.served == after_stop  # skipped


def test_replay_delay_and_public_name() -> None:
    assert replay_delay(True, True, 120.0) == 0.0  # all received is replayed: idle primary
    assert replay_delay(True, False, 4.5) == 4.5
    assert replay_delay(False, True, 40.0) == 40.0  # not streaming: as old as the last replay
    assert replay_delay(True, None, None) is None  # never connected: unknown, not "0"
    assert public_name("postgresql://lecteur:secret@replique:5433/geo") == "replique:5433/geo"
    assert "secret" not in public_name("host=r port=5433 dbname=geo password=secret")


def test_lagging_replica_is_skipped() -> None:
    replicas = ReplicaSet.from_urls(["postgresql://u@127.0.0.1:1/x"], max_lag_s=30)
    try:
        replica = replicas.replicas[0]
        replicas._checked_at = time.monotonic() + 3600  # no background check in this test
        replica.state = LAGGING
        assert replicas.pick() is None
        replica.state = OK
        assert replicas.pick() is replica
        replicas.mark_down(replica, OSError("coupé"))
        assert replicas.pick() is None and replica.status()["etat"] == DOWN
    finally:
        replicas.dispose()


def test_no_replica_configured(client: TestClient) -> None:
    assert client.app.state.replicas is None  # type: ignore[attr-defined]
    assert "replicas" not in client.get("/healthz").json()


def test_only_a_gone_replica_is_marked_down() -> None:
    class Cancelled(Exception):
        sqlstate = "40001"  # canceling statement due to conflict with recovery

    class Shutdown(Exception):
        sqlstate = "57P01"

    assert is_gone(OSError("connexion refusée")) and is_gone(Shutdown())
    assert not is_gone(Cancelled())
