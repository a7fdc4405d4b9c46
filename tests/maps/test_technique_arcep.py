"""The technical map shows the ARCEP cross-check: one layer of the buildings where ARCEP's view
and the operator's differ, each with its category, once an ARCEP quarter is loaded."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import Connection

from tests.analysis.test_controle_arcep import expected
from tests.api.test_controles import loaded  # noqa: F401  (the fixture)


def test_technical_map_has_the_arcep_differences(
    client: TestClient,
    loaded: Connection,  # noqa: F811
    tech_headers: dict[str, str],
) -> None:
    html = client.get("/technique", headers=tech_headers).text
    assert "carts avec ARCEP" in html  # the layer (accents may be escaped in the script)
    planted = expected(loaded)
    shown = set()
    for blob in re.findall(r'"imb_id": "([^"]+)"', html):
        shown.add(json.loads(f'"{blob}"'))
    assert {imb for _category, imb in planted} <= shown
