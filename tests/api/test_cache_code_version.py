"""The shared page cache outlives the server's processes: pages rendered by another release of
the code are never served after an upgrade, and they are purged with the older data versions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from geo_service.cache import code_version, data_version, purge_older


@pytest.fixture()
def shared_rows(engine: Engine) -> Iterator[Engine]:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM page_cache"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM page_cache"))


def test_data_version_names_the_code_and_other_code_is_purged(shared_rows: Engine) -> None:
    with shared_rows.connect() as conn:
        current = data_version(conn)
    assert current.endswith("." + code_version())
    imports, edits, day, _code = current.split(".")
    other_release = f"{imports}.{edits}.{day}.00000000"
    older_data = f"{imports}.{edits}.{int(day) - 1}.{code_version()}"  # the day before
    with shared_rows.begin() as conn:
        for version in (current, other_release, older_data):
            conn.execute(
                text(
                    "INSERT INTO page_cache (kind, key, data_version, body)"
                    " VALUES ('page-public', '46:OpenStreetMap', :v, 'x')"
                ),
                {"v": version},
            )
    purged = purge_older(shared_rows, current)
    with shared_rows.connect() as conn:
        kept = conn.execute(text("SELECT data_version FROM page_cache")).scalars().all()
    assert kept == [current]
    assert purged == 2
