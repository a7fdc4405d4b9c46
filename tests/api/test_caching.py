"""Heavy answers are computed once per data version: the same page twice is one computation
and a 304 for a client that has it; an edit or an import moves the version on."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.conftest import make_user

FIGEAC = "46102"


def test_commune_page_is_computed_once_per_data_version(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    cache = demo_client.app.state.response_cache  # type: ignore[attr-defined]
    first = demo_client.get(f"/communes/{FIGEAC}")
    assert first.status_code == 200 and first.headers["cache-control"] == "public, no-cache"
    misses = cache.misses
    second = demo_client.get(f"/communes/{FIGEAC}")
    assert second.content == first.content and second.headers["etag"] == first.headers["etag"]
    assert cache.misses == misses and cache.hits >= 1
    revalidated = demo_client.get(
        f"/communes/{FIGEAC}", headers={"If-None-Match": first.headers["etag"]}
    )
    assert revalidated.status_code == 304 and revalidated.content == b""

    # a staff edit (a new asset_change row) is a new data version
    tech = make_user(demo_conn, "agent", "technicien")
    reference = demo_conn.execute(
        text("SELECT reference FROM pm WHERE territory_code = '46' ORDER BY reference LIMIT 1")
    ).scalar_one()
    version = demo_client.get(f"/api/v1/pm/{reference}").headers["etag"]
    edited = demo_client.patch(
        f"/api/v1/pm/{reference}",
        json={"doe_etat": "DEPOSE"},
        headers={**tech, "If-Match": version},
    )
    assert edited.status_code == 200, edited.text
    after = demo_client.get(f"/communes/{FIGEAC}", headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]


def test_page_with_non_public_lists_is_never_cached(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    elu = make_user(demo_conn, "maire", "elu", commune=FIGEAC)
    private = demo_client.get(f"/communes/{FIGEAC}", headers=elu)
    assert private.headers["cache-control"] == "private, no-store"
    assert "Listes non publiques" in private.text
    public = demo_client.get(f"/communes/{FIGEAC}")
    assert "Listes non publiques" not in public.text


def test_tiles_follow_the_data_version(demo_client: TestClient, demo_conn: Connection) -> None:
    url = "/tiles/zones/10/517/374.pbf"
    first = demo_client.get(url)
    assert first.status_code == 200
    assert demo_client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    demo_conn.execute(
        text(
            "INSERT INTO asset_change (table_name, object_key, valid_from, changed_by, after) "
            "VALUES ('pm', 'X', current_date, 'test', '{}')"
        )
    )
    again = demo_client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200 and again.content == first.content


def test_json_answers_get_an_etag_from_their_body(client: TestClient) -> None:
    first = client.get("/api/v1/stats/raccordables", params={"level": "commune"})
    assert first.status_code == 200 and first.headers["etag"]
    same = client.get(
        "/api/v1/stats/raccordables",
        params={"level": "commune"},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert same.status_code == 304


def test_raccordables_are_computed_once_per_data_version(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    params = {"level": "tous", "as_of": "2022-06-30"}
    first = demo_client.get("/api/v1/stats/raccordables", params=params)
    assert first.status_code == 200 and first.headers["etag"]
    tag = {"If-None-Match": first.headers["etag"]}
    assert (
        demo_client.get("/api/v1/stats/raccordables", params=params, headers=tag).status_code == 304
    )
    other = demo_client.get("/api/v1/stats/raccordables", params={**params, "amii": "true"})
    assert other.headers["etag"] != first.headers["etag"]
    demo_conn.execute(
        text(
            "INSERT INTO asset_change (table_name, object_key, valid_from, changed_by, after) "
            "VALUES ('pm', 'X', current_date, 'test', '{}')"
        )
    )
    again = demo_client.get("/api/v1/stats/raccordables", params=params, headers=tag)
    assert again.status_code == 200 and again.json() == first.json()
