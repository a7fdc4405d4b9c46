"""A project-local PostgreSQL + PostGIS cluster, for machines without DATABASE_URL.

Installs Debian's packages when missing (as root), runs initdb as the `postgres` user when we are
root (initdb refuses root), listens on 127.0.0.1 only with trust authentication.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from geo_service.errors import DatabaseProvisioningError
from geo_service.settings import Settings

log = logging.getLogger(__name__)
PG_VERSION = "15"
DEBIAN_PACKAGES = ["postgresql", f"postgresql-{PG_VERSION}-postgis-3", "postgresql-contrib"]


def _bindir() -> Path:
    return Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")


def _postgis_installed() -> bool:
    control = Path(f"/usr/share/postgresql/{PG_VERSION}/extension/postgis.control")
    return (_bindir() / "initdb").exists() and control.exists()


def ensure_packages() -> None:
    """Install PostgreSQL and PostGIS from Debian's packages when missing (root only)."""
    if _postgis_installed():
        return
    if os.geteuid() != 0:
        raise DatabaseProvisioningError(
            "PostgreSQL 15 et PostGIS 3 ne sont pas installés et l'installation automatique "
            "demande les droits root : « sudo apt-get install "
            + " ".join(DEBIAN_PACKAGES)
            + " », ou définissez DATABASE_URL."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log.info("Installation de PostgreSQL/PostGIS (apt-get)")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *DEBIAN_PACKAGES],
        check=True,
        env=env,
    )


def _as_owner(cmd: list[str]) -> list[str]:
    """Run as `postgres` when we are root (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _run(cmd: list[str]) -> None:
    result = subprocess.run(_as_owner(cmd), capture_output=True, text=True)
    if result.returncode != 0:
        raise DatabaseProvisioningError(
            f"Échec de « {' '.join(cmd[:2])} » : {result.stderr.strip() or result.stdout.strip()}"
        )


def _prepare_dir(pgdata: Path) -> None:
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(pgdata.parent, "postgres", "postgres")
        pgdata.parent.chmod(0o700)


def is_running(settings: Settings) -> bool:
    try:
        with psycopg.connect(_admin_url(settings), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _admin_url(settings: Settings, dbname: str = "postgres") -> str:
    return f"postgresql://postgres@127.0.0.1:{settings.pg_port}/{dbname}"


def up(settings: Settings) -> str:
    """Start (creating if needed) the local cluster and the geo_service database; return its URL."""
    if not settings.local_cluster:
        raise DatabaseProvisioningError(
            "DATABASE_URL est défini : la base est fournie par ailleurs, rien à démarrer."
        )
    ensure_packages()
    pgdata = settings.pgdata
    if not (pgdata / "PG_VERSION").exists():
        _prepare_dir(pgdata)
        log.info("initdb %s", pgdata)
        _run(
            [
                str(_bindir() / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
    if not is_running(settings):
        sockdir = pgdata.parent
        options = (
            f"-p {settings.pg_port} -c listen_addresses=127.0.0.1 -k {sockdir} "
            "-c shared_buffers=256MB -c work_mem=64MB -c maintenance_work_mem=256MB "
            "-c max_wal_size=4GB -c fsync=off -c synchronous_commit=off"
        )
        _run(
            [
                str(_bindir() / "pg_ctl"),
                "-D",
                str(pgdata),
                "-l",
                str(pgdata.parent / "postgresql.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        for _ in range(60):
            if is_running(settings):
                break
            time.sleep(0.5)
    create_database(settings.libpq_url, admin_url=_admin_url(settings))
    return settings.libpq_url


def down(settings: Settings) -> None:
    """Stop the local cluster (its data stays)."""
    if not (settings.pgdata / "PG_VERSION").exists():
        return
    if is_running(settings):
        _run([str(_bindir() / "pg_ctl"), "-D", str(settings.pgdata), "-m", "fast", "-w", "stop"])


def create_database(url: str, *, admin_url: str) -> None:
    """Create the database named in `url` if missing, with PostGIS."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(str(name)))
            )
