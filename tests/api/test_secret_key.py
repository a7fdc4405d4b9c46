"""The key signing sessions and CSRF tokens: from the environment, else one local file that
every worker process reads alike (created once, private to its owner)."""

from __future__ import annotations

from multiprocessing import get_context
from pathlib import Path

from pydantic import SecretStr

from geo_service.api.middleware import secret_key
from geo_service.settings import Settings


def _key(path: str) -> str:
    return secret_key(Settings(secret_file=Path(path)))


def test_the_environment_wins(tmp_path: Path) -> None:
    settings = Settings(secret_key=SecretStr("de-l-environnement"), secret_file=tmp_path / "k")
    assert secret_key(settings) == "de-l-environnement"
    assert not (tmp_path / "k").exists()


def test_workers_starting_together_share_one_private_key(tmp_path: Path) -> None:
    path = tmp_path / ".secret_key"
    with get_context("spawn").Pool(4) as pool:
        keys = set(pool.map(_key, [str(path)] * 8))
    assert len(keys) == 1 and len(keys.pop()) >= 40
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".secret_key"]
