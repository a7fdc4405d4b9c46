"""Which PostgreSQL the local cluster runs and what it installs, on each supported system, from
fake file trees and fake apt output; and that the default start options are durable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo_service.db import cluster
from geo_service.errors import DatabaseProvisioningError

# `apt-cache depends postgresql` / `apt-cache show postgresql` as each system prints them.
APT_DEPENDS = {
    "debian-12": "postgresql\n  Depends: postgresql-15\n  Suggests: postgresql-doc\n",
    "debian-13": "postgresql\n  Depends: postgresql-17\n  Suggests: postgresql-doc\n",
    "ubuntu-22.04": "postgresql\n  Depends: postgresql-14\n  Suggests: postgresql-doc\n",
    "ubuntu-24.04": "postgresql\n  Depends: postgresql-16\n  Suggests: postgresql-doc\n",
}
APT_SHOW_UBUNTU_2404 = """Package: postgresql
Architecture: all
Version: 16+257build1
Priority: optional
Section: database
Source: postgresql-common (257build1)
Origin: Ubuntu
Depends: postgresql-16
Suggests: postgresql-doc
Description: object-relational SQL database (supported version)
"""
DISTRIBUTION_MAJOR = {"debian-12": 15, "debian-13": 17, "ubuntu-22.04": 14, "ubuntu-24.04": 16}


def fake_system(root: Path, servers: list[int], postgis: list[int]) -> tuple[Path, Path]:
    """A /usr/lib/postgresql and /usr/share/postgresql with the given majors."""
    lib, share = root / "lib" / "postgresql", root / "share" / "postgresql"
    for major in servers:
        bin_dir = lib / str(major) / "bin"
        bin_dir.mkdir(parents=True)
        for tool in ("initdb", "pg_ctl", "postgres", "pg_dump", "pg_restore"):
            (bin_dir / tool).touch()
        (share / str(major) / "extension").mkdir(parents=True, exist_ok=True)
    for major in postgis:
        (share / str(major) / "extension").mkdir(parents=True, exist_ok=True)
        (share / str(major) / "extension" / "postgis.control").touch()
    return lib, share


@pytest.mark.parametrize("system", sorted(APT_DEPENDS))
def test_the_distribution_major_is_read_from_apt(system: str) -> None:
    assert cluster.parse_default_major(APT_DEPENDS[system]) == DISTRIBUTION_MAJOR[system]


def test_apt_cache_show_and_unhelpful_outputs() -> None:
    assert cluster.parse_default_major(APT_SHOW_UBUNTU_2404) == 16
    assert cluster.parse_default_major("") is None
    assert cluster.parse_default_major("E: No packages found\n") is None
    # client or common packages are not the server major
    assert cluster.parse_default_major("  Depends: postgresql-client-15\n") is None
    assert cluster.parse_default_major("  Depends: postgresql-common\n") is None
    assert cluster.parse_default_major("Depends: postgresql-common, postgresql-16\n") == 16


@pytest.mark.parametrize("system", sorted(APT_DEPENDS))
def test_an_installed_system_runs_its_own_major(tmp_path: Path, system: str) -> None:
    major = DISTRIBUTION_MAJOR[system]
    lib, share = fake_system(tmp_path, [major], [major])
    assert cluster.server_majors(lib) == [major]
    assert cluster.postgis_majors(share) == [major]
    plan = cluster.plan_provision(
        existing=None,
        servers=cluster.server_majors(lib),
        postgis=cluster.postgis_majors(share),
        distribution=None,
    )
    assert plan == cluster.Provision(major)


@pytest.mark.parametrize("system", sorted(APT_DEPENDS))
def test_a_bare_system_installs_the_distribution_major(tmp_path: Path, system: str) -> None:
    lib, share = fake_system(tmp_path, [], [])
    plan = cluster.plan_provision(
        existing=None,
        servers=cluster.server_majors(lib),
        postgis=cluster.postgis_majors(share),
        distribution=cluster.parse_default_major(APT_DEPENDS[system]),
    )
    major = DISTRIBUTION_MAJOR[system]
    assert plan.major is None
    assert plan.packages == ["postgresql", f"postgresql-{major}-postgis-3"]
    assert f"PostgreSQL {major}" in plan.missing


def test_the_highest_major_with_postgis_wins(tmp_path: Path) -> None:
    lib, share = fake_system(tmp_path, [14, 15, 16], [14, 15])
    plan = cluster.plan_provision(
        existing=None,
        servers=cluster.server_majors(lib),
        postgis=cluster.postgis_majors(share),
        distribution=16,
    )
    assert plan.major == 15  # 16 has no PostGIS


def test_a_server_without_postgis_is_not_enough(tmp_path: Path) -> None:
    lib, share = fake_system(tmp_path, [16], [])
    plan = cluster.plan_provision(
        existing=None,
        servers=cluster.server_majors(lib),
        postgis=cluster.postgis_majors(share),
        distribution=16,
    )
    assert plan.major is None
    assert plan.packages == ["postgresql", "postgresql-16-postgis-3"]
    assert "PostgreSQL 16 est installé, mais sans PostGIS" in plan.missing


def test_an_incomplete_bin_dir_is_not_a_server(tmp_path: Path) -> None:
    lib, _share = fake_system(tmp_path, [15], [15])
    (lib / "15" / "bin" / "postgres").unlink()  # client tools only
    assert cluster.server_majors(lib) == []
    assert cluster.majors_with("pg_dump", lib) == [15]


def test_existing_data_keeps_its_major(tmp_path: Path) -> None:
    """Files written by PostgreSQL 15 need 15, even when a newer major is installed."""
    assert cluster.plan_provision(
        existing=15, servers=[15, 17], postgis=[15, 17], distribution=17
    ) == cluster.Provision(15)
    plan = cluster.plan_provision(existing=15, servers=[17], postgis=[17], distribution=17)
    assert plan.major is None
    assert plan.packages == ["postgresql-15", "postgresql-15-postgis-3"]
    assert "format de PostgreSQL 15" in plan.missing
    plan = cluster.plan_provision(existing=15, servers=[15], postgis=[], distribution=15)
    assert plan.packages == ["postgresql-15-postgis-3"]


def test_data_major_is_read_from_pg_version(tmp_path: Path) -> None:
    assert cluster.data_major(tmp_path) is None
    (tmp_path / "PG_VERSION").write_text("16\n")
    assert cluster.data_major(tmp_path) == 16


def test_without_root_the_message_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, share = fake_system(tmp_path, [], [])
    monkeypatch.setattr(cluster, "LIB_ROOT", lib)
    monkeypatch.setattr(cluster, "SHARE_ROOT", share)
    monkeypatch.setattr(cluster.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(cluster, "distribution_major", lambda: 17)
    monkeypatch.setattr(
        cluster.subprocess, "run", lambda *a, **k: pytest.fail(f"ran {a} without root")
    )
    with pytest.raises(DatabaseProvisioningError) as caught:
        cluster.ensure_packages(tmp_path / "pgdata")
    message = caught.value.message
    assert "PostgreSQL 17 (celui de la distribution) et PostGIS 3 ne sont pas installés" in message
    assert "« sudo apt-get install postgresql postgresql-17-postgis-3 »" in message
    assert "DATABASE_URL" in message


def test_without_root_and_without_apt_the_message_stays_useful(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, share = fake_system(tmp_path, [], [])
    monkeypatch.setattr(cluster, "LIB_ROOT", lib)
    monkeypatch.setattr(cluster, "SHARE_ROOT", share)
    monkeypatch.setattr(cluster.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(cluster, "distribution_major", lambda: None)
    with pytest.raises(DatabaseProvisioningError) as caught:
        cluster.ensure_packages(tmp_path / "pgdata")
    assert "postgresql-NN-postgis-3" in caught.value.message
    assert "apt-cache depends postgresql" in caught.value.message


def test_as_root_the_distribution_packages_are_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, share = fake_system(tmp_path, [], [])
    monkeypatch.setattr(cluster, "LIB_ROOT", lib)
    monkeypatch.setattr(cluster, "SHARE_ROOT", share)
    monkeypatch.setattr(cluster.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cluster, "distribution_major", lambda: 16)
    calls: list[list[str]] = []

    class Done:
        returncode, stdout, stderr = 0, "", ""

    def fake_run(args: list[str], **_kwargs: object) -> Done:
        calls.append(args)
        if args[:2] == ["apt-get", "install"]:
            fake_system(tmp_path / "after", [16], [16])
            shutil.copytree(tmp_path / "after", tmp_path, dirs_exist_ok=True)
        return Done()

    monkeypatch.setattr(cluster.subprocess, "run", fake_run)
    assert cluster.ensure_packages(tmp_path / "pgdata") == 16
    install = next(c for c in calls if c[:2] == ["apt-get", "install"])
    assert install[-2:] == ["postgresql", "postgresql-16-postgis-3"]


def test_this_machine_finds_its_postgresql() -> None:
    """On this (Debian-like) machine: the installed major with PostGIS, the one apt would pick."""
    # Only meaningful where the distribution's PostgreSQL is installed (always under `make test`
    # as root; absent on a machine that uses DATABASE_URL on another host).
    if not cluster.server_majors():
        pytest.skip("no Debian-layout PostgreSQL here")
    major = cluster.ensure_packages(Path("/nonexistent/pgdata"))
    assert major in cluster.server_majors() and major in cluster.postgis_majors()
    apt = cluster.distribution_major()
    if apt is not None and apt in cluster.postgis_majors():
        assert major >= apt


def test_default_start_options_are_durable(tmp_path: Path) -> None:
    options = cluster.start_options(55432, tmp_path)
    settings = {options[i + 1] for i, o in enumerate(options) if o == "-c"}
    assert {"fsync=on", "synchronous_commit=on", "full_page_writes=on"} <= settings
    assert not any(s.endswith("=off") for s in settings)
    assert "listen_addresses=127.0.0.1" in settings


def test_only_the_test_suite_turns_fsync_off(tmp_path: Path) -> None:
    options = cluster.start_options(55432, tmp_path, rapide_tests=True)
    settings = {options[i + 1] for i, o in enumerate(options) if o == "-c"}
    assert {"fsync=off", "synchronous_commit=off"} <= settings
    assert "fsync=on" not in settings
