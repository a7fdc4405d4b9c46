"""A PM's DOE state as of a date follows the staff's dated edits (yearly report: DOE validés)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from geo_service.analysis.progress import armoires
from geo_service.auth.actor import Actor
from geo_service.edits.pm import get_pm, update_pm
from geo_service.ingest.gracethd import import_gracethd_conn

TECH = Actor(name="tech", role="technicien", territory="46")


@pytest.fixture()
def network(connection: Connection, gracethd_gpkg: Path) -> Connection:
    import_gracethd_conn(
        connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1), user="test"
    )
    return connection


def set_doe(conn: Connection, reference: str, state: str, day: date) -> None:
    """The edit as staff make it, then dated `day` (as if made that day)."""
    version = get_pm(conn, "46", reference)["version"]
    update_pm(conn, TECH, reference, expected_version=version, values={"doe_etat": state})
    conn.execute(
        text(
            "UPDATE asset_change SET valid_from = :d WHERE id = (SELECT max(id) FROM asset_change"
            " WHERE table_name = 'pm' AND object_key = :r)"
        ),
        {"d": day, "r": reference},
    )


def doe_of(conn: Connection, reference: str, day: date) -> str:
    rows = {a["reference"]: a for a in armoires(conn, territory="46", as_of=day)}
    return str(rows[reference]["doe_etat"])


def test_the_doe_state_as_of_a_date_follows_the_dated_edits(network: Connection) -> None:
    reference = armoires(network, territory="46")[0]["reference"]
    stored = get_pm(network, "46", reference)["doe_etat"]
    assert stored != "VALIDE"
    set_doe(network, reference, "DEPOSE", date(2024, 3, 1))
    set_doe(network, reference, "VALIDE", date(2024, 9, 1))
    assert doe_of(network, reference, date(2024, 2, 29)) == stored  # before any edit
    assert doe_of(network, reference, date(2024, 3, 1)) == "DEPOSE"  # the edit's own day
    assert doe_of(network, reference, date(2024, 8, 31)) == "DEPOSE"
    assert doe_of(network, reference, date(2024, 12, 31)) == "VALIDE"
    assert doe_of(network, reference, date.today()) == get_pm(network, "46", reference)["doe_etat"]


def test_a_pm_never_edited_keeps_its_stored_state(network: Connection) -> None:
    first, second = (a["reference"] for a in armoires(network, territory="46")[:2])
    set_doe(network, first, "VALIDE", date.today() - timedelta(days=10))
    stored = get_pm(network, "46", second)["doe_etat"]
    assert doe_of(network, second, date(2020, 1, 1)) == stored
    assert doe_of(network, first, date.today() - timedelta(days=11)) != "VALIDE"
