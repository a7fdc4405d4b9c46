"""Backups of a geo_service database: pg_dump / pg_restore in custom format, with the Alembic
schema revision recorded beside the dump and checked again at restore time.

A dump is written under a temporary name and renamed when complete, so a scheduled backup never
leaves a truncated file under the real name. A restore goes into a new or empty database (never
over the source), in one transaction, then migrates it to this code's schema.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from psycopg import sql

from geo_service.db.cluster import LIB_ROOT, majors_with
from geo_service.db.migrate import alembic_config, upgrade
from geo_service.errors import GeoServiceError

log = logging.getLogger(__name__)
FORMAT = "geo_service-sauvegarde/1"


class BackupError(GeoServiceError):
    status_code = 500


@dataclass(frozen=True)
class BackupInfo:
    """What the sidecar `<dump>.json` records about a dump."""

    format: str
    database: str
    schema_revision: str
    server_version: str
    pg_dump_version: str
    created_at: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class RestoreResult:
    database: str
    url: str
    schema_revision: str
    migrated_to: str | None


def sidecar(dump: Path) -> Path:
    return dump.with_name(dump.name + ".json")


def _conninfo(url: str, **changes: str) -> tuple[str, dict[str, str]]:
    """A conninfo without the password (given to the tools through PGPASSWORD, not argv)."""
    params = {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(url).items()}
    params.update(changes)
    env = {**os.environ}
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = password
    return psycopg.conninfo.make_conninfo(**params), env


def as_url(conninfo: str, *, hide_password: bool = False) -> str:
    """postgresql://user:pw@host:port/db from a libpq URL or key=value conninfo."""
    from sqlalchemy.engine import URL

    p = psycopg.conninfo.conninfo_to_dict(conninfo)
    url = URL.create(
        "postgresql",
        username=str(p["user"]) if p.get("user") else None,
        password=str(p["password"]) if p.get("password") else None,
        host=str(p.get("host") or "127.0.0.1"),
        port=int(str(p["port"])) if p.get("port") else None,
        database=str(p.get("dbname") or ""),
    )
    return url.render_as_string(hide_password=hide_password)


def _server_major(conn: psycopg.Connection) -> tuple[int, str]:
    num = int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
    version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    return num // 10000, version


def tool(name: str, server_major: int, lib_root: Path | None = None) -> Path:
    """pg_dump / pg_restore of the server's major, else of the nearest newer installed major
    (they read older servers and archives, never newer ones)."""
    lib_root = lib_root or LIB_ROOT
    usable = [m for m in majors_with(name, lib_root) if m >= server_major]
    if not usable:
        raise BackupError(
            f"{name} de PostgreSQL {server_major} (ou plus récent) est introuvable sous "
            f"{lib_root} : installez « postgresql-client-{server_major} »."
        )
    return lib_root / str(min(usable)) / "bin" / name


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BackupError(f"{what} a échoué : {(result.stderr or result.stdout).strip()[-800:]}")
    return result.stdout


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _schema_revision(conn: psycopg.Connection, database: str) -> str:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except psycopg.errors.UndefinedTable:
        row = None
    if not row:
        raise BackupError(
            f"La base « {database} » n'a pas de schéma geo_service (pas de table alembic_version) : "
            "lancez d'abord « geo-service db migrate »."
        )
    return str(row[0])


def default_name(database: str, revision: str, when: datetime) -> str:
    """File name used when the target is a folder: base, date and schema revision."""
    return f"{database}_{when:%Y%m%d-%H%M%S}_schema-{revision}.dump"


def backup(url: str, target: Path, *, overwrite: bool = False) -> tuple[Path, BackupInfo]:
    """Dump the database at `url` into `target` (a file, or a folder for a dated name)."""
    database = str(psycopg.conninfo.conninfo_to_dict(url).get("dbname", ""))
    with psycopg.connect(url, connect_timeout=10) as conn:
        major, server_version = _server_major(conn)
        revision = _schema_revision(conn, database)
    now = datetime.now().astimezone()
    path = target / default_name(database, revision, now) if target.is_dir() else target
    if path.exists() and not overwrite:
        raise BackupError(
            f"Le fichier {path} existe déjà : choisissez un autre nom, un dossier (nom daté "
            "automatique) ou --ecraser."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    pg_dump = tool("pg_dump", major)
    conninfo, env = _conninfo(url)
    partial = path.with_name(f".{path.name}.partiel")
    try:
        _run(
            [str(pg_dump), "--format=custom", "--no-password", f"--file={partial}", conninfo],
            env,
            "pg_dump",
        )
        dump_version = _run([str(pg_dump), "--version"], env, "pg_dump --version").strip()
        info = BackupInfo(
            format=FORMAT,
            database=database,
            schema_revision=revision,
            server_version=server_version,
            pg_dump_version=dump_version,
            created_at=now.isoformat(timespec="seconds"),
            bytes=partial.stat().st_size,
            sha256=_sha256(partial),
        )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    sidecar(path).write_text(json.dumps(asdict(info), indent=2, ensure_ascii=False) + "\n")
    log.debug("Sauvegarde de %s écrite dans %s (schéma %s)", database, path, revision)
    return path, info


_COPY_BLOCK = re.compile(
    r"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.*?)^\\\.$", re.MULTILINE | re.DOTALL
)


def dump_revision(dump: Path, pg_restore: Path) -> str:
    """The schema revision inside the dump itself (its alembic_version table's data)."""
    out = _run(
        [str(pg_restore), "--data-only", "--table=alembic_version", "--file=-", str(dump)],
        dict(os.environ),
        f"La lecture de {dump.name} (pg_restore)",
    )
    found = _COPY_BLOCK.search(out)
    rows = found.group(1).split() if found else []
    if len(rows) != 1:
        raise BackupError(
            f"{dump} n'est pas une sauvegarde de geo_service (pas de révision de schéma dedans)."
        )
    return rows[0]


def check_revision(revision: str, url_for_config: str) -> str | None:
    """Refuse a dump from a schema this code does not know (a newer geo_service); return the
    head to migrate to when the dump is older, None when it is current."""
    script = ScriptDirectory.from_config(alembic_config(url_for_config))
    heads = script.get_heads()
    try:
        known = script.get_revision(revision)
    except CommandError:  # unknown or malformed revision id
        known = None
    if known is None:
        raise BackupError(
            f"Cette sauvegarde a le schéma « {revision} », inconnu de cette version de geo_service "
            f"(la plus récente connue est « {', '.join(heads)} ») : elle vient d'une version plus "
            "récente. Mettez geo_service à jour avant de la restaurer."
        )
    return None if revision in heads else heads[0]


def _verify_sidecar(dump: Path) -> BackupInfo | None:
    path = sidecar(dump)
    if not path.exists():
        log.warning("Pas de fichier %s : la révision est lue dans la sauvegarde elle-même.", path)
        return None
    try:
        info = BackupInfo(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise BackupError(f"{path} est illisible ({exc}).") from exc
    if info.bytes != dump.stat().st_size or info.sha256 != _sha256(dump):
        raise BackupError(
            f"{dump} ne correspond pas à {path.name} (taille ou empreinte différente) : "
            "le fichier est incomplet ou abîmé."
        )
    return info


def _is_empty(conn: psycopg.Connection) -> bool:
    """No table, view or sequence outside the system schemas but those of extensions."""
    row = conn.execute(
        """
        SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE 'pg_temp%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        """
    ).fetchone()
    return row is not None and int(row[0]) == 0


def restore(dump: Path, target_url: str) -> RestoreResult:
    """Restore `dump` into the database of `target_url`, created if missing, refused unless empty."""
    if not dump.is_file():
        raise BackupError(f"Fichier introuvable : {dump}.")
    info = _verify_sidecar(dump)
    target = str(psycopg.conninfo.conninfo_to_dict(target_url).get("dbname", ""))
    admin, _env = _conninfo(target_url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        major, _version = _server_major(conn)
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target,)).fetchone()
    pg_restore = tool("pg_restore", major)
    revision = dump_revision(dump, pg_restore)
    if info and info.schema_revision != revision:
        raise BackupError(
            f"{sidecar(dump).name} annonce le schéma « {info.schema_revision} » mais la sauvegarde "
            f"contient « {revision} » : fichiers mélangés ?"
        )
    migrate_to = check_revision(revision, as_url(target_url))
    if exists:
        with psycopg.connect(target_url, connect_timeout=10) as conn:
            if not _is_empty(conn):
                raise BackupError(
                    f"La base « {target} » n'est pas vide : la restauration se fait dans une base "
                    "neuve ou vide, jamais par-dessus des données (choisissez un autre nom)."
                )
    else:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))
    conninfo, env = _conninfo(target_url)
    try:
        _run(
            [
                str(pg_restore),
                "--single-transaction",
                "--exit-on-error",
                "--no-owner",
                "--no-acl",
                "--no-password",
                f"--dbname={conninfo}",
                str(dump),
            ],
            env,
            "pg_restore",
        )
    except BackupError:
        if not exists:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(target)))
        raise
    if migrate_to:
        upgrade(as_url(target_url), "head")
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    log.debug("Sauvegarde %s restaurée dans %s (schéma %s)", dump, target, revision)
    return RestoreResult(target, target_url, revision, migrate_to)
