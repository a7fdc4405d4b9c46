"""Accounts and roles: who may write or read what, tokens and sessions, optimistic concurrency,
and the audit trail (the acceptance list of the staff-accounts issue)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from geo_service.auth import users
from geo_service.auth.actor import cli_actor
from tests.conftest import STAFF_PASSWORD, make_user

ANONYMOUS_WRITES = {("post", "/api/v1/signalements")}  # citizens' reports, by design


@pytest.fixture()
def pm_ref(connection: Connection) -> str:
    """A PM of the Lot to edit (inserted in the test's transaction)."""
    connection.execute(
        text(
            "INSERT INTO pm (reference, territory_code, etat, date_prevue) "
            "VALUES ('PMTEST01', '46', 'PLANIFIE', '2027-03-15')"
        )
    )
    return "PMTEST01"


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_write_endpoint_of_the_openapi_refuses_anonymous_callers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    writes = [
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("post", "put", "patch", "delete")
    ]
    assert len(writes) >= 7
    for method, path in writes:
        if (method, path) in ANONYMOUS_WRITES:
            continue
        response = client.request(method.upper(), _fill(path), json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        # and the OpenAPI names the security scheme on it
        assert spec["paths"][path][method].get("security"), (method, path)


def test_elu_cannot_write(client: TestClient, connection: Connection, pm_ref: str) -> None:
    elu = make_user(connection, "maire", "elu", commune="46102")
    response = client.patch(
        f"/api/v1/pm/{pm_ref}",
        json={"date_prevue": "2026-06-30"},
        headers={**elu, "If-Match": '"1"'},
    )
    assert response.status_code == 403 and "technicien" in response.json()["detail"]


def test_elu_reads_their_own_area_only(client: TestClient, connection: Connection) -> None:
    elu = make_user(connection, "maire", "elu", commune="46102")
    assert client.get("/api/v1/prises/onereuses?commune=46102", headers=elu).status_code == 200
    refused = client.get("/api/v1/prises/onereuses?commune=46042", headers=elu)
    assert refused.status_code == 403
    assert client.get("/api/v1/prises/onereuses?commune=46042").status_code == 401
    assert client.get("/api/v1/prises/oublies").status_code == 401
    assert client.get("/api/v1/prises/rad").status_code == 401
    assert client.get("/api/v1/prises/rad?level=commune").status_code == 200
    assert client.get("/api/v1/export/oublies.csv", headers=elu).status_code == 403


def test_disabled_user_and_revoked_token_get_401(
    client: TestClient, connection: Connection
) -> None:
    headers = make_user(connection, "agent", "technicien")
    assert client.get("/api/v1/signalements", headers=headers).status_code == 200
    users.revoke_tokens(connection, cli_actor("tests", "46"), "agent")
    assert client.get("/api/v1/signalements", headers=headers).status_code == 401
    fresh = {
        "Authorization": f"Bearer {users.issue_token(connection, cli_actor('t', '46'), 'agent')}"
    }
    assert client.get("/api/v1/signalements", headers=fresh).status_code == 200
    users.disable_user(connection, cli_actor("tests", "46"), "agent")
    assert client.get("/api/v1/signalements", headers=fresh).status_code == 401
    bogus = {"Authorization": "Bearer gs_nimportequoi"}
    assert client.get("/api/v1/signalements", headers=bogus).status_code == 401


def test_forged_author_in_a_body_changes_nothing_in_the_audit(
    client: TestClient, connection: Connection, tech_headers: dict[str, str], pm_ref: str
) -> None:
    response = client.patch(
        f"/api/v1/pm/{pm_ref}",
        json={"date_prevue": "2026-06-30", "utilisateur": "le-president", "user": "x"},
        headers={**tech_headers, "If-Match": '"1"', "X-Request-ID": "req-forge-0001"},
    )
    assert response.status_code == 200, response.text
    rows = connection.execute(
        text(
            "SELECT user_name, source, request_id, before->>'date_prevue', after->>'date_prevue' "
            "FROM audit_log WHERE object_type = 'pm' AND object_key = :k"
        ),
        {"k": pm_ref},
    ).all()
    assert [tuple(r) for r in rows] == [
        ("tech", "api", "req-forge-0001", "2027-03-15", "2026-06-30")
    ]
    changed_by = connection.execute(
        text("SELECT changed_by FROM asset_change WHERE table_name = 'pm' AND object_key = :k"),
        {"k": pm_ref},
    ).scalar_one()
    assert changed_by == "tech"


def test_two_writers_with_the_same_version_one_wins_one_gets_409(
    client: TestClient, connection: Connection, tech_headers: dict[str, str], pm_ref: str
) -> None:
    other = make_user(connection, "tech2", "technicien")
    read = client.get(f"/api/v1/pm/{pm_ref}")
    assert read.headers["ETag"] == '"1"'
    first = client.patch(
        f"/api/v1/pm/{pm_ref}",
        json={"date_prevue": "2026-09-30"},
        headers={**tech_headers, "If-Match": read.headers["ETag"]},
    )
    second = client.patch(
        f"/api/v1/pm/{pm_ref}",
        json={"doe_etat": "DEPOSE"},
        headers={**other, "If-Match": read.headers["ETag"]},
    )
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    assert second.status_code == 409
    assert second.json()["actuel"]["date_prevue"] == "2026-09-30"
    assert second.json()["actuel"]["version"] == 2
    now = client.get(f"/api/v1/pm/{pm_ref}").json()
    assert (now["date_prevue"], now["doe_etat"]) == ("2026-09-30", "NON_DU")
    audit = connection.execute(
        text(
            "SELECT user_name, outcome FROM audit_log WHERE object_type = 'pm' AND object_key = :k "
            "ORDER BY id"
        ),
        {"k": pm_ref},
    ).all()
    assert [tuple(a) for a in audit] == [("tech", "ok"), ("tech2", "refuse")]


def test_a_write_without_if_match_gets_428_and_a_bad_field_422(
    client: TestClient, tech_headers: dict[str, str], pm_ref: str
) -> None:
    missing = client.patch(
        f"/api/v1/pm/{pm_ref}", json={"date_prevue": "2026-06-30"}, headers=tech_headers
    )
    assert missing.status_code == 428 and "If-Match" in missing.json()["detail"]
    bad = client.patch(
        f"/api/v1/pm/{pm_ref}",
        json={"doe_etat": "PERDU"},
        headers={**tech_headers, "If-Match": '"1"'},
    )
    assert bad.status_code == 422 and "doe_etat" in bad.json()["champs"]


def test_rad_step_is_readable_where_it_is_written(
    client: TestClient, connection: Connection, tech_headers: dict[str, str]
) -> None:
    connection.execute(
        text(
            "INSERT INTO premise (identifiant_immeuble, insee, logements, etat, geom) VALUES "
            "('IMB/TEST/RAD1', '46102', 1, 'RACCORDABLE DEMANDE', ST_SetSRID(ST_MakePoint(621500, 6390100), 2154))"
        )
    )
    url = "/api/v1/prises/rad/IMB/TEST/RAD1"
    first = client.get(url, headers=tech_headers)
    assert first.status_code == 200 and first.headers["ETag"] == '"0"'
    put = client.put(
        url,
        json={"etape": "LISTE_AVENANT", "date_avenant": "2025-02-01", "utilisateur": "x"},
        headers={**tech_headers, "If-Match": '"0"'},
    )
    assert put.status_code == 200, put.text
    again = client.get(url, headers=tech_headers)
    assert again.json()["etape"] == "LISTE_AVENANT" and again.headers["ETag"] == '"1"'
    assert again.json()["updated_by"] == "tech"
    stale = client.put(url, json={"etape": "DEMANDE"}, headers={**tech_headers, "If-Match": '"0"'})
    assert stale.status_code == 409


def test_audit_is_for_administrators_and_filters(
    client: TestClient,
    connection: Connection,
    tech_headers: dict[str, str],
    admin_headers: dict[str, str],
    pm_ref: str,
) -> None:
    client.patch(
        f"/api/v1/pm/{pm_ref}",
        json={"doe_etat": "DEPOSE"},
        headers={**tech_headers, "If-Match": '"1"'},
    )
    assert client.get("/api/v1/audit", headers=tech_headers).status_code == 403
    rows = client.get(
        "/api/v1/audit",
        params={"utilisateur": "tech", "objet": "pm", "depuis": str(date.today())},
        headers=admin_headers,
    ).json()
    assert [(r["object_key"], r["after"]) for r in rows] == [(pm_ref, {"doe_etat": "DEPOSE"})]
    nothing = client.get(
        "/api/v1/audit",
        params={"utilisateur": "tech", "jusqu_au": "2020-01-01"},
        headers=admin_headers,
    ).json()
    assert nothing == []


def _csrf(client: TestClient, url: str) -> str:
    page = client.get(url)
    match = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert match, url
    return match.group(1)


def test_browser_sign_in_session_cookie_and_csrf(
    client: TestClient, connection: Connection
) -> None:
    make_user(connection, "agent", "technicien")
    assert (
        client.get("/console", headers={"Accept": "text/html"}, follow_redirects=False).status_code
        == 303
    )
    token = _csrf(client, "/connexion")
    no_csrf = client.post("/connexion", data={"nom": "agent", "mot_de_passe": STAFF_PASSWORD})
    assert no_csrf.status_code == 403
    signed = client.post(
        "/connexion",
        data={
            "csrftoken": token,
            "nom": "agent",
            "mot_de_passe": STAFF_PASSWORD,
            "suivant": "https://ailleurs.example",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/console"
    cookie = signed.headers["set-cookie"]
    assert (
        "geo_session=" in cookie
        and "httponly" in cookie.lower()
        and "samesite=lax" in cookie.lower()
    )
    assert client.get("/console").status_code == 200
    # a form posted without its CSRF token is refused even with a valid session
    assert client.post("/deconnexion").status_code == 403
    out = client.post("/deconnexion", data={"csrftoken": token}, follow_redirects=False)
    assert out.status_code == 303
    assert (
        client.get("/console", headers={"Accept": "text/html"}, follow_redirects=False).status_code
        == 303
    )


def test_session_cookie_is_secure_over_https(settings, session) -> None:  # type: ignore[no-untyped-def]
    from geo_service.api.deps import get_session
    from geo_service.main import create_app

    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: session
    make_user(session.connection(), "agent", "technicien")
    with TestClient(app, base_url="https://testserver") as secure:
        token = _csrf(secure, "/connexion")
        signed = secure.post(
            "/connexion",
            data={"csrftoken": token, "nom": "agent", "mot_de_passe": STAFF_PASSWORD},
            follow_redirects=False,
        )
        assert "secure" in signed.headers["set-cookie"].lower()


def test_repeated_failures_lock_the_account(client: TestClient, connection: Connection) -> None:
    make_user(connection, "agent", "technicien")
    token = _csrf(client, "/connexion")
    for _ in range(5):
        wrong = client.post(
            "/connexion",
            data={"csrftoken": token, "nom": "agent", "mot_de_passe": "faux-mot-de-passe"},
        )
        assert wrong.status_code == 401 and "incorrect" in wrong.text
    locked = client.post(
        "/connexion", data={"csrftoken": token, "nom": "agent", "mot_de_passe": STAFF_PASSWORD}
    )
    assert locked.status_code == 401 and "bloqué" in locked.text
