"""A project-local PostgreSQL + PostGIS cluster, for machines without DATABASE_URL.

Runs the distribution's own PostgreSQL major (installs it with PostGIS when missing, as root),
runs initdb and postgres as the `postgres` user when we are root (they refuse root), listens on
127.0.0.1 only with trust authentication. Durable by default: fsync is turned off only when the
test suite asks for it (`rapide_tests`). The port is checked to be this checkout's own cluster;
when another one holds it, a free port is chosen and remembered next to PGDATA.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import socket
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from geo_service.errors import DatabaseProvisioningError
from geo_service.settings import DEFAULT_PG_PORT, Settings, port_file

log = logging.getLogger(__name__)
LIB_ROOT = Path("/usr/lib/postgresql")
SHARE_ROOT = Path("/usr/share/postgresql")
DURABLE_OPTIONS = ("fsync=on", "synchronous_commit=on", "full_page_writes=on")
FAST_TEST_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
TUNING_OPTIONS = (
    "shared_buffers=256MB",
    "work_mem=64MB",
    "maintenance_work_mem=256MB",
    "max_wal_size=4GB",
)
PORT_SEARCH = 100


# --- Which PostgreSQL: the installed majors, the distribution's default, what to install ---


def majors_with(tool: str, lib_root: Path | None = None) -> list[int]:
    """PostgreSQL majors whose bin/ holds `tool` (Debian layout /usr/lib/postgresql/NN/bin)."""
    lib_root = lib_root or LIB_ROOT
    if not lib_root.is_dir():
        return []
    return sorted(
        int(d.name) for d in lib_root.iterdir() if d.name.isdigit() and (d / "bin" / tool).exists()
    )


def server_majors(lib_root: Path | None = None) -> list[int]:
    """Majors with a complete server (initdb, pg_ctl, postgres)."""
    found = [set(majors_with(t, lib_root)) for t in ("initdb", "pg_ctl", "postgres")]
    return sorted(set.intersection(*found))


def postgis_majors(share_root: Path | None = None) -> list[int]:
    """Majors for which PostGIS is installed (…/NN/extension/postgis.control)."""
    share_root = share_root or SHARE_ROOT
    if not share_root.is_dir():
        return []
    return sorted(
        int(d.name)
        for d in share_root.iterdir()
        if d.name.isdigit() and (d / "extension" / "postgis.control").exists()
    )


_DEPENDS = re.compile(r"^\s*(?:Pre-?)?Depends:\s*(.*)$", re.MULTILINE | re.IGNORECASE)
_MAJOR_PACKAGE = re.compile(r"(?<![\w-])postgresql-(\d+)(?![\w-])")


def parse_default_major(apt_output: str) -> int | None:
    """The major the `postgresql` metapackage pulls in, from `apt-cache depends postgresql`
    (`  Depends: postgresql-15`) or `apt-cache show postgresql` (`Depends: postgresql-16`)."""
    for line in _DEPENDS.findall(apt_output):
        found = _MAJOR_PACKAGE.search(line)
        if found:
            return int(found.group(1))
    return None


def distribution_major() -> int | None:
    """The distribution's default PostgreSQL major, asked of apt (None when apt cannot say)."""
    for args in (["apt-cache", "depends", "postgresql"], ["apt-cache", "show", "postgresql"]):
        try:
            result = subprocess.run(args, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        major = parse_default_major(result.stdout) if result.returncode == 0 else None
        if major:
            return major
    return None


def data_major(pgdata: Path) -> int | None:
    """The major whose format the cluster's files are in (PGDATA/PG_VERSION), if any."""
    try:
        text = (pgdata / "PG_VERSION").read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@dataclass(frozen=True)
class Provision:
    """What running the cluster needs: the major to use, or the packages missing and why."""

    major: int | None
    packages: list[str] = field(default_factory=list)
    missing: str = ""


def plan_provision(
    *,
    existing: int | None,
    servers: Iterable[int],
    postgis: Iterable[int],
    distribution: int | None,
) -> Provision:
    """Decide which major runs the cluster: the one of existing data, else the highest installed
    with PostGIS, else the distribution's default (to install)."""
    servers, postgis = set(servers), set(postgis)
    usable = servers & postgis
    if existing is not None:
        if existing in usable:
            return Provision(existing)
        packages = [f"postgresql-{existing}"] if existing not in servers else []
        if existing not in postgis:
            packages.append(f"postgresql-{existing}-postgis-3")
        what = "PostgreSQL et PostGIS" if existing not in servers else "PostGIS"
        return Provision(
            None,
            packages,
            f"Les données du cluster local sont au format de PostgreSQL {existing}, "
            f"mais {what} {existing} n'est pas installé",
        )
    if usable:
        return Provision(max(usable))
    without = sorted(servers - postgis)
    also = (
        f" (PostgreSQL {', '.join(map(str, without))} est installé, mais sans PostGIS)"
        if without
        else ""
    )
    if distribution is None:
        return Provision(
            None,
            ["postgresql", "postgresql-NN-postgis-3"],
            "PostgreSQL et PostGIS 3 ne sont pas installés" + also + " et la version de "
            "PostgreSQL de la distribution est inconnue (« apt-cache depends postgresql » ne "
            "la donne pas ; NN = cette version, par ex. 15 sur Debian 12)",
        )
    return Provision(
        None,
        ["postgresql", f"postgresql-{distribution}-postgis-3"],
        f"PostgreSQL {distribution} (celui de la distribution) et PostGIS 3 ne sont pas "
        "installés" + also,
    )


def _current_provision(pgdata: Path, distribution: int | None) -> Provision:
    return plan_provision(
        existing=data_major(pgdata),
        servers=server_majors(),
        postgis=postgis_majors(),
        distribution=distribution,
    )


def ensure_packages(pgdata: Path) -> int:
    """The major to run, after installing PostgreSQL and PostGIS from apt when missing (root)."""
    provision = _current_provision(pgdata, None)
    if provision.major is not None:
        return provision.major
    root = os.geteuid() == 0
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if root:
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    provision = _current_provision(pgdata, distribution_major())
    if not root:
        raise DatabaseProvisioningError(
            f"{provision.missing}. L'installation automatique demande les droits "
            f"root : « sudo apt-get install {' '.join(provision.packages)} », "
            "ou définissez DATABASE_URL."
        )
    if "postgresql-NN-postgis-3" in provision.packages:
        raise DatabaseProvisioningError(provision.missing + ".")
    log.info("Installation de %s (apt-get)", " ".join(provision.packages))
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *provision.packages],
        capture_output=True,
        text=True,
        env=env,
    )
    after = _current_provision(pgdata, None)
    if after.major is None:
        hint = ""
        if data_major(pgdata) is not None:
            hint = (
                f" Si cette version n'existe plus dans la distribution, réinstallez-la depuis "
                f"apt.postgresql.org le temps d'une sauvegarde (geo-service db backup), ou "
                f"déplacez {pgdata} et restaurez la sauvegarde dans un cluster neuf."
            )
        raise DatabaseProvisioningError(
            f"{provision.missing} et « apt-get install "
            f"{' '.join(provision.packages)} » a échoué : "
            f"{(result.stderr or result.stdout).strip()[-500:]}.{hint}"
        )
    return after.major


def bindir(major: int) -> Path:
    return LIB_ROOT / str(major) / "bin"


# --- Running commands as the cluster's owner ---


def _as_owner(cmd: list[str]) -> list[str]:
    """Run as `postgres` when we are root (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _run(cmd: list[str], label: str) -> None:
    result = subprocess.run(_as_owner(cmd), capture_output=True, text=True)
    if result.returncode != 0:
        raise DatabaseProvisioningError(
            f"Échec de « {label} » : {result.stderr.strip() or result.stdout.strip()}"
        )


def _prepare_dir(pgdata: Path) -> None:
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(pgdata.parent, "postgres", "postgres")
        pgdata.parent.chmod(0o700)


# --- Whose server is on a port ---


def port_in_use(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _admin_url(port: int, dbname: str = "postgres") -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{dbname}"


def server_data_directory(port: int) -> str | None:
    """`SHOW data_directory` of the PostgreSQL on 127.0.0.1:port; None when nothing answers,
    "" when a server answers but will not tell (another installation, other credentials)."""
    if not port_in_use(port):
        return None
    try:
        with psycopg.connect(_admin_url(port), connect_timeout=3) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
    except psycopg.Error:
        return ""
    return str(row[0]) if row else ""


def same_directory(reported: str, pgdata: Path) -> bool:
    """Whether the server's data_directory is this PGDATA (symlinks resolved)."""
    if not reported:
        return False
    return os.path.realpath(reported) == os.path.realpath(pgdata)


def is_own_server(port: int, pgdata: Path) -> bool:
    return same_directory(server_data_directory(port) or "", pgdata)


def _pid_file_port(pgdata: Path) -> int | None:
    """The port recorded in PGDATA/postmaster.pid (4th line) while the cluster runs."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None


def running_port(settings: Settings) -> int | None:
    """The port this checkout's cluster is running on, checked by its data_directory."""
    for port in dict.fromkeys(p for p in (_pid_file_port(settings.pgdata), settings.pg_port) if p):
        if is_own_server(port, settings.pgdata):
            return port
    return None


def is_running(settings: Settings) -> bool:
    return running_port(settings) is not None


def free_port(start: int, count: int = PORT_SEARCH) -> int | None:
    """The first port from `start` where nothing listens and 127.0.0.1 can be bound."""
    for port in range(start, min(start + count, 65536)):
        if port_in_use(port):
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    return None


def remember_port(pgdata: Path, port: int) -> None:
    """Write the port next to PGDATA, read by Settings for this checkout's later commands."""
    path = port_file(pgdata)
    if port == DEFAULT_PG_PORT and not path.exists():
        return
    path.write_text(f"{port}\n")


def _describe_other(port: int) -> str:
    other = server_data_directory(port)
    if other:
        return f"un autre PostgreSQL (données dans {other}, sans doute une autre copie du dépôt)"
    return "un autre programme (ou un PostgreSQL qui n'est pas celui de ce dépôt)"


def choose_port(settings: Settings) -> int:
    """The port to start on: the configured one if free, else (unless it was given explicitly
    with GEO_SERVICE_PG_PORT) the next free one."""
    wanted = settings.pg_port
    if not port_in_use(wanted):
        return wanted
    held_by = _describe_other(wanted)
    if "pg_port" in settings.model_fields_set:
        raise DatabaseProvisioningError(
            f"Le port {wanted} (GEO_SERVICE_PG_PORT) est déjà pris par {held_by} : le cluster "
            f"de ce dépôt ({settings.pgdata}) ne peut pas y démarrer. Choisissez un autre port "
            "ou retirez GEO_SERVICE_PG_PORT pour qu'un port libre soit choisi."
        )
    port = free_port(wanted + 1)
    if port is None:
        raise DatabaseProvisioningError(
            f"Le port {wanted} est pris par {held_by} et aucun port libre n'a été trouvé de "
            f"{wanted + 1} à {wanted + PORT_SEARCH} : définissez GEO_SERVICE_PG_PORT."
        )
    log.warning(
        "Le port %s est pris par %s : le cluster de ce dépôt démarre sur le port %s, retenu dans %s "
        "pour les commandes suivantes (migrate, serve, tests).",
        wanted,
        held_by,
        port,
        port_file(settings.pgdata),
    )
    return port


# --- Start, stop, durability ---


def start_options(port: int, sockdir: Path, *, rapide_tests: bool = False) -> list[str]:
    """postgres options: durable unless the test suite asks for speed (fsync off: a power cut
    could corrupt every database of the cluster, so never for real data)."""
    options = ["-p", str(port), "-k", str(sockdir), "-c", "listen_addresses=127.0.0.1"]
    for setting in (*TUNING_OPTIONS, *(FAST_TEST_OPTIONS if rapide_tests else DURABLE_OPTIONS)):
        options += ["-c", setting]
    return options


def _pg_ctl(major: int, pgdata: Path, action: str, options: list[str] | None = None) -> None:
    cmd = [str(bindir(major) / "pg_ctl"), "-D", str(pgdata), "-w", "-t", "60"]
    if action in {"start", "restart"}:
        cmd += ["-l", str(pgdata.parent / "postgresql.log")]
    if options is not None:
        cmd += ["-o", shlex.join(options)]
    if action in {"stop", "restart"}:
        cmd += ["-m", "fast"]
    _run([*cmd, action], f"pg_ctl {action}")


def durability(port: int) -> dict[str, str]:
    """fsync, synchronous_commit and full_page_writes of the server on `port`."""
    names = ("fsync", "synchronous_commit", "full_page_writes")
    with psycopg.connect(_admin_url(port), connect_timeout=3) as conn:
        row = conn.execute(
            "SELECT current_setting(%s), current_setting(%s), current_setting(%s)", names
        ).fetchone()
    return dict(zip(names, map(str, row or ("", "", "")), strict=True))


def is_durable(port: int) -> bool:
    settings = durability(port)
    return settings["fsync"] == "on" and settings["synchronous_commit"] != "off"


def _other_connections(port: int) -> int:
    with psycopg.connect(_admin_url(port), connect_timeout=3) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


def _make_durable(major: int, pgdata: Path, port: int) -> None:
    """Restart a cluster found in the tests' fast mode with durable settings, unless in use."""
    others = _other_connections(port)
    if others:
        raise DatabaseProvisioningError(
            f"Le PostgreSQL local de ce dépôt (port {port}) tourne en mode rapide pour les tests "
            "(fsync=off, synchronous_commit=off) : une coupure de courant pourrait corrompre ses "
            f"données. {others} connexion(s) y sont ouvertes (des tests en cours ?) ; relancez "
            "« geo-service db up » quand elles seront fermées : il redémarrera en mode sûr."
        )
    log.warning(
        "Le PostgreSQL local tournait en mode rapide pour les tests (fsync=off) : "
        "redémarrage en mode sûr."
    )
    _pg_ctl(major, pgdata, "restart", start_options(port, pgdata.parent))
    if not is_durable(port):
        raise DatabaseProvisioningError(
            f"Le PostgreSQL local (port {port}) n'a pas pu être redémarré en mode sûr (fsync=on)."
        )


def up(settings: Settings, *, rapide_tests: bool = False) -> str:
    """Start (creating if needed) this checkout's cluster and the geo_service database; return
    its URL. `rapide_tests` (test suite only) starts it with fsync off."""
    if not settings.local_cluster:
        raise DatabaseProvisioningError(
            "DATABASE_URL est défini : la base est fournie par ailleurs, rien à démarrer."
        )
    pgdata = settings.pgdata
    major = ensure_packages(pgdata)
    if not (pgdata / "PG_VERSION").exists():
        _prepare_dir(pgdata)
        log.info("initdb %s (PostgreSQL %s)", pgdata, major)
        _run(
            [
                str(bindir(major) / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            "initdb",
        )
    port = running_port(settings)
    if port is not None and "pg_port" in settings.model_fields_set and port != settings.pg_port:
        raise DatabaseProvisioningError(
            f"Le cluster de ce dépôt tourne déjà sur le port {port}, pas sur le port "
            f"{settings.pg_port} demandé par GEO_SERVICE_PG_PORT : arrêtez-le "
            "(geo-service db down) pour changer de port, ou retirez GEO_SERVICE_PG_PORT."
        )
    if port is None:
        port = choose_port(settings)
        _pg_ctl(
            major, pgdata, "start", start_options(port, pgdata.parent, rapide_tests=rapide_tests)
        )
        if not is_own_server(port, pgdata):
            raise DatabaseProvisioningError(
                f"Le PostgreSQL qui répond sur le port {port} n'est pas celui de ce dépôt "
                f"({pgdata}) : voyez {pgdata.parent / 'postgresql.log'}."
            )
    elif not is_durable(port):
        if rapide_tests:
            log.info("Le PostgreSQL local tourne déjà en mode rapide pour les tests.")
        else:
            _make_durable(major, pgdata, port)
    elif rapide_tests:
        log.info(
            "Le PostgreSQL local tourne déjà en mode sûr (fsync=on) : il y reste, "
            "les tests seront un peu plus lents."
        )
    remember_port(pgdata, port)
    url = f"postgresql://postgres@127.0.0.1:{port}/geo_service"
    create_database(url, admin_url=_admin_url(port))
    return url


def down(settings: Settings) -> None:
    """Stop this checkout's cluster (its data stays); never another one on the same port."""
    major = data_major(settings.pgdata)
    if major is None or not (settings.pgdata / "postmaster.pid").exists():
        return
    if not (bindir(major) / "pg_ctl").exists():
        raise DatabaseProvisioningError(
            f"pg_ctl de PostgreSQL {major} introuvable ({bindir(major)}) : impossible d'arrêter "
            f"le cluster de {settings.pgdata}."
        )
    status = subprocess.run(
        _as_owner([str(bindir(major) / "pg_ctl"), "-D", str(settings.pgdata), "status"]),
        capture_output=True,
    )
    if status.returncode == 0:
        _pg_ctl(major, settings.pgdata, "stop")


def create_database(url: str, *, admin_url: str) -> None:
    """Create the database named in `url` if missing, with PostGIS."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(str(name)))
            )
