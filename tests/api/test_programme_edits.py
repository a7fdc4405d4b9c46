"""Staff edit the programmes' objects: PATCH with If-Match (428, 409, 422 with French reasons
per field), the lifecycle rules on the whole record, the history that answers "as of", the audit
row; the console form goes through the same service."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text


def _late_site(conn: Connection) -> str:
    return str(
        conn.execute(
            text(
                "SELECT code FROM mobile_site WHERE programme = 'NEW_DEAL'"
                " AND date_arrete + interval '24 months' < current_date"
                " AND date_mise_en_service IS NULL AND date_abandon IS NULL ORDER BY code LIMIT 1"
            )
        ).scalar_one()
    )


def test_a_site_put_in_service_is_no_longer_late_and_keeps_its_history(
    demo_client: TestClient, demo_conn: Connection, demo_tech_headers: dict[str, str]
) -> None:
    code = _late_site(demo_conn)
    url = f"/api/v1/sites-mobiles/{code}"
    read = demo_client.get(url)
    assert read.status_code == 200 and read.json()["properties"]["en_retard"] is True
    day = date.today() - timedelta(days=3)
    anonymous = demo_client.patch(url, json={"date_mise_en_service": day.isoformat()})
    assert anonymous.status_code == 401
    no_version = demo_client.patch(
        url, json={"date_mise_en_service": day.isoformat()}, headers=demo_tech_headers
    )
    assert no_version.status_code == 428
    done = demo_client.patch(
        url,
        json={"date_mise_en_service": day.isoformat()},
        headers={**demo_tech_headers, "If-Match": read.headers["ETag"]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["etat"] == "EN_SERVICE" and done.headers["ETag"] != read.headers["ETag"]
    now = demo_client.get(url).json()["properties"]
    assert now["etat"] == "EN_SERVICE" and now["en_retard"] is False
    before = demo_client.get(url, params={"as_of": (day - timedelta(days=1)).isoformat()})
    assert before.json()["properties"]["en_retard"] is True  # as of before the edit's date
    stale = demo_client.patch(
        url,
        json={"opposition": "Réunion publique prévue"},
        headers={**demo_tech_headers, "If-Match": read.headers["ETag"]},
    )
    assert stale.status_code == 409
    logged = demo_conn.execute(
        text(
            "SELECT count(*) FROM asset_change WHERE table_name = 'mobile_site'"
            " AND object_key = :k AND changed_by = 'tech' AND after ? 'date_mise_en_service'"
        ),
        {"k": code},
    ).scalar_one()
    audited = demo_conn.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE object_type = 'mobile_site' AND object_key = :k"
        ),
        {"k": code},
    ).scalar_one()
    assert logged == 1 and audited == 2  # the edit, and the refused stale write


def test_lifecycle_rules_refuse_the_whole_edit_with_a_reason_per_field(
    demo_client: TestClient, demo_conn: Connection, demo_tech_headers: dict[str, str]
) -> None:
    code = _late_site(demo_conn)
    url = f"/api/v1/sites-mobiles/{code}"
    tag = demo_client.get(url).headers["ETag"]
    arrete = demo_conn.execute(
        text("SELECT date_arrete FROM mobile_site WHERE code = :c"), {"c": code}
    ).scalar_one()
    headers = {**demo_tech_headers, "If-Match": tag}
    cases = {
        "date_mise_en_service": (date.today() + timedelta(days=30)).isoformat(),  # future
        "date_construction": (arrete - timedelta(days=10)).isoformat(),  # before the arrêté
        "rayon_m": 100,  # not a field of a mobile site
    }
    for field, value in cases.items():
        refused = demo_client.patch(url, json={field: value}, headers=headers)
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.json()["champs"], (field, refused.json())
    cleared = demo_client.patch(url, json={"date_arrete": None}, headers=headers)
    assert cleared.status_code == 422  # a New Deal site cannot lose its arrêté while it is built
    unchanged = demo_client.get(url).headers["ETag"]
    assert unchanged == tag


def test_med_opening_is_computed_from_the_reception_when_left_empty(
    demo_client: TestClient, demo_conn: Connection, demo_tech_headers: dict[str, str]
) -> None:
    code, received = demo_conn.execute(
        text(
            "SELECT code, date_reception_orange FROM med_site"
            " WHERE date_reception_orange IS NOT NULL ORDER BY code LIMIT 1"
        )
    ).one()
    url = f"/api/v1/med/{code}"
    tag = demo_client.get(url).headers["ETag"]
    done = demo_client.patch(
        url, json={"date_ouverture": None}, headers={**demo_tech_headers, "If-Match": tag}
    )
    assert done.status_code == 200, done.text
    assert done.json()["date_ouverture"] == (received + timedelta(weeks=12)).isoformat()
    assert done.json()["ouverture_calculee"] is True


def test_console_form_edits_a_borne_through_the_same_rules(
    demo_client: TestClient, demo_conn: Connection, demo_tech_headers: dict[str, str]
) -> None:
    code, radius = demo_conn.execute(
        text("SELECT code, rayon_m FROM wifi_borne ORDER BY code LIMIT 1")
    ).one()
    assert demo_client.get(f"/console/bornes-wifi/{code}", follow_redirects=False).status_code in (
        303,
        401,
    )
    page = demo_client.get(f"/console/bornes-wifi/{code}", headers=demo_tech_headers)
    assert page.status_code == 200 and "Rayon couvert (m)" in page.text
    version = demo_client.get(f"/api/v1/bornes-wifi/{code}").json()["properties"]["version"]
    fields = (
        demo_conn.execute(
            text(
                "SELECT date_deliberation, date_programmation, date_installation,"
                " date_mise_en_service, date_fin_contrat, date_retrait FROM wifi_borne WHERE code = :c"
            ),
            {"c": code},
        )
        .mappings()
        .one()
    )
    form = {k: "" if v is None else v.isoformat() for k, v in fields.items()}
    new_radius = 120 if radius != 120 else 140
    saved = demo_client.post(
        f"/console/bornes-wifi/{code}",
        data={**form, "version": str(version), "rayon_m": str(new_radius)},
        headers=demo_tech_headers,
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    stored = demo_conn.execute(
        text("SELECT rayon_m FROM wifi_borne WHERE code = :c"), {"c": code}
    ).scalar_one()
    assert stored == new_radius
    future = (date.today() + timedelta(days=400)).isoformat()
    version = demo_client.get(f"/api/v1/bornes-wifi/{code}").json()["properties"]["version"]
    refused = demo_client.post(
        f"/console/bornes-wifi/{code}",
        data={**form, "version": str(version), "date_retrait": future},
        headers=demo_tech_headers,
    )
    assert refused.status_code == 422 and "futur" in refused.text
