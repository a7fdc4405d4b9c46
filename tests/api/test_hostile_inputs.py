"""Hostile inputs on every write endpoint and on the upload endpoint: each is refused with a 4xx
and a French message, never a 5xx, and the database is left exactly as it was.

The corpus is the parametrized lists below (JSON_CASES, QUERY_CASES, UPLOAD_CASES, plus the
long-line cases of LONG_LINE_KINDS): their length is the number of cases.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from geo_service.db.session import make_engine
from geo_service.ingest import csv_source
from geo_service.main import create_app
from geo_service.settings import Settings
from tests.conftest import create_scratch_database, data_checksums, drop_database, make_user

INJECTION = "'; DROP TABLE premise; --"
TAUTOLOGY = "1 OR 1=1"
JSON_LIMIT = 64 * 1024

# French: an accented letter, French quotes or a common French word; English: what FastAPI,
# Starlette or pydantic say by default.
_FRENCH = re.compile(
    r"[éèêàâçùûôîœ«»]|\b(le|la|les|de|des|du|un|une|au|aux|est|pas|fichier|ligne|attendu|"
    r"invalide|trop|refusé|saisie|requête|introuvable|inconnu|inconnue|obligatoire|interdit|nombre|ou|et|en|pour|sur|par)\b",
    re.IGNORECASE,
)
_ENGLISH = re.compile(
    r"\b(field|required|input|should|error|not found|method not allowed|invalid|"
    r"expecting|value is not)\b",
    re.IGNORECASE,
)


def checksums(conn: Connection) -> dict[str, str]:
    """The data tables' checksums, but the tokens' last use (every signed-in request sets it)."""
    sums = data_checksums(conn)
    sums.pop("api_token", None)
    return sums


def assert_refused(response: Any, expected: tuple[int, ...] = ()) -> None:
    """A 4xx (one of `expected` when given), never a 5xx."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if expected:
        assert response.status_code in expected, (response.status_code, response.text[:300])


def assert_french_detail(response: Any) -> None:
    """The body's `detail` is one French sentence."""
    detail = response.json().get("detail")
    assert isinstance(detail, str), detail
    assert _FRENCH.search(detail) and not _ENGLISH.search(detail), detail


# --- JSON write endpoints ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hostile request: `path` may name {pm}, {rad}, {report}, {target} (made per test)."""

    id: str
    method: str
    path: str
    who: str | None = "tech"  # "tech", "admin" or None (anonymous)
    version: str | None = None  # If-Match value (None: the object's current version)
    json: Any = None
    content: bytes | None = None  # a raw body instead of `json`
    headers: dict[str, str] = field(default_factory=dict)
    expected: tuple[int, ...] = ()
    marks: tuple[Any, ...] = ()


PM = "/api/v1/pm/{pm}"
TARGETS = "/api/v1/objectifs"
TARGET = "/api/v1/objectifs/{target}"
RAD = "/api/v1/prises/rad/{rad}"
REPORTS = "/api/v1/signalements"
REPORT = "/api/v1/signalements/{report}"
JSON_CT = {"Content-Type": "application/json"}
ADDRESS = "12 rue de la Paix, Figeac"
NEW_TARGET = {"level": "commune", "code": "46102", "target_date": "2026-12-31", "raccordables": 10}


def _raw(body: str) -> bytes:
    return body.encode()


def _body_cases(endpoint: str, method: str, who: str | None, sample: dict[str, Any]) -> list[Case]:
    """What every JSON endpoint gets: wrong body types, broken JSON, huge bodies, NUL bytes."""
    name = endpoint.strip("/").replace("/", "-").replace("{", "").replace("}", "")
    first = next(iter(sample))
    return [
        Case(f"{name}-body-list", method, endpoint, who, json=[sample]),
        Case(f"{name}-body-string", method, endpoint, who, json="bonjour"),
        Case(f"{name}-body-number", method, endpoint, who, json=42),
        Case(f"{name}-body-null", method, endpoint, who, content=b"null", headers=JSON_CT),
        Case(f"{name}-body-broken-json", method, endpoint, who, content=b'{"a": ', headers=JSON_CT),
        Case(
            f"{name}-body-nul-byte-raw",
            method,
            endpoint,
            who,
            content=b'{"a\x00": 1}',
            headers=JSON_CT,
        ),
        Case(
            f"{name}-body-not-utf8",
            method,
            endpoint,
            who,
            content=b'{"\xff\xfe": 1}',
            headers=JSON_CT,
        ),
        Case(f"{name}-field-object", method, endpoint, who, json={**sample, first: {"$gt": ""}}),
        Case(f"{name}-field-list", method, endpoint, who, json={**sample, first: [1, 2]}),
        Case(
            f"{name}-field-bool",
            method,
            endpoint,
            who,
            json={**sample, first: True},
        ),
        Case(
            f"{name}-huge-declared",
            method,
            endpoint,
            who,
            json={**sample, "bourrage": "x" * (JSON_LIMIT + 10)},
            expected=(413,),
        ),
        Case(
            f"{name}-huge-deep-nesting",
            method,
            endpoint,
            who,
            content=b"[" * 100_000 + b"]" * 100_000,
            headers=JSON_CT,
            expected=(413,),
        ),
        Case(
            f"{name}-deep-nesting-under-limit",
            method,
            endpoint,
            who,
            content=b'{"a":' * 5000 + b"1" + b"}" * 5000,
            headers=JSON_CT,
        ),
    ]


JSON_CASES: list[Case] = [
    # PATCH /api/v1/pm/{reference}
    *_body_cases(PM, "PATCH", "tech", {"date_prevue": "2026-06-30"}),
    Case("pm-date-not-a-date", "PATCH", PM, json={"date_prevue": "demain"}),
    Case("pm-date-year-0", "PATCH", PM, json={"date_prevue": "0000-01-01"}),
    Case("pm-date-year-1", "PATCH", PM, json={"date_prevue": "0001-01-01"}),
    Case("pm-date-year-9999", "PATCH", PM, json={"date_prevue": "9999-12-31"}),
    Case("pm-date-year-10000", "PATCH", PM, json={"date_prevue": "10000-01-01"}),
    Case("pm-date-feb-30", "PATCH", PM, json={"date_prevue": "2026-02-30"}),
    Case("pm-date-huge-number", "PATCH", PM, json={"date_prevue": 1e20}),
    Case(
        "pm-date-nan",
        "PATCH",
        PM,
        content=_raw('{"date_prevue": NaN}'),
        headers=JSON_CT,
    ),
    Case(
        "pm-date-infinity",
        "PATCH",
        PM,
        content=_raw('{"date_prevue": Infinity}'),
        headers=JSON_CT,
    ),
    Case("pm-doe-injection", "PATCH", PM, json={"doe_etat": INJECTION}),
    Case("pm-doe-tautology", "PATCH", PM, json={"doe_etat": TAUTOLOGY}),
    Case("pm-doe-nul", "PATCH", PM, json={"doe_etat": "DEPOSE\x00"}),
    Case("pm-doe-too-long", "PATCH", PM, json={"doe_etat": "D" * 5000}),
    Case("pm-path-injection", "PATCH", f"/api/v1/pm/{INJECTION}", json={"doe_etat": "DEPOSE"}),
    Case("pm-path-tautology", "PATCH", f"/api/v1/pm/{TAUTOLOGY}", json={"doe_etat": "DEPOSE"}),
    Case(
        "pm-path-nul",
        "PATCH",
        "/api/v1/pm/PM%00TEST",
        json={"doe_etat": "DEPOSE"},
    ),
    Case("pm-path-too-long", "PATCH", "/api/v1/pm/" + "P" * 500, json={"doe_etat": "DEPOSE"}),
    Case(
        "pm-if-match-injection", "PATCH", PM, version=f'"{TAUTOLOGY}"', json={"doe_etat": "DEPOSE"}
    ),
    Case(
        "pm-if-match-huge", "PATCH", PM, version='"' + "9" * 400 + '"', json={"doe_etat": "DEPOSE"}
    ),
    Case("pm-if-match-negative", "PATCH", PM, version='"-1"', json={"doe_etat": "DEPOSE"}),
    Case("pm-if-match-nan", "PATCH", PM, version='"NaN"', json={"doe_etat": "DEPOSE"}),
    Case("pm-anonymous", "PATCH", PM, who=None, json={"doe_etat": "DEPOSE"}, expected=(401,)),
    Case(
        "pm-bearer-injection",
        "PATCH",
        PM,
        who=None,
        json={"doe_etat": "DEPOSE"},
        headers={"Authorization": f"Bearer {INJECTION}"},
        expected=(401,),
    ),
    # POST /api/v1/objectifs
    *_body_cases(TARGETS, "POST", "admin", NEW_TARGET),
    Case("objectifs-missing-fields", "POST", TARGETS, "admin", json={}),
    Case(
        "objectifs-raccordables-negative",
        "POST",
        TARGETS,
        "admin",
        json={**NEW_TARGET, "raccordables": -1},
    ),
    Case(
        "objectifs-raccordables-huge",
        "POST",
        TARGETS,
        "admin",
        json={**NEW_TARGET, "raccordables": 10**30},
    ),
    Case(
        "objectifs-raccordables-float",
        "POST",
        TARGETS,
        "admin",
        json={**NEW_TARGET, "raccordables": 1.5},
    ),
    Case(
        "objectifs-raccordables-string",
        "POST",
        TARGETS,
        "admin",
        json={**NEW_TARGET, "raccordables": "dix"},
    ),
    Case(
        "objectifs-raccordables-nan",
        "POST",
        TARGETS,
        "admin",
        content=_raw(
            '{"level": "commune", "code": "46102", "target_date": "2026-12-31", "raccordables": NaN}'
        ),
        headers=JSON_CT,
    ),
    Case(
        "objectifs-raccordables-infinity",
        "POST",
        TARGETS,
        "admin",
        content=_raw(
            '{"level": "commune", "code": "46102", "target_date": "2026-12-31", "raccordables": -Infinity}'
        ),
        headers=JSON_CT,
    ),
    Case(
        "objectifs-raccordables-1e400",
        "POST",
        TARGETS,
        "admin",
        content=_raw(
            '{"level": "commune", "code": "46102", "target_date": "2026-12-31", "raccordables": 1e400}'
        ),
        headers=JSON_CT,
    ),
    Case(
        "objectifs-date-year-1",
        "POST",
        TARGETS,
        "admin",
        json={**NEW_TARGET, "target_date": "0001-01-01"},
    ),
    Case(
        "objectifs-date-year-9999",
        "POST",
        TARGETS,
        "admin",
        json={**NEW_TARGET, "target_date": "9999-12-31"},
    ),
    Case(
        "objectifs-date-negative-year",
        "POST",
        TARGETS,
        "admin",
        json={**NEW_TARGET, "target_date": "-0001-01-01"},
    ),
    Case(
        "objectifs-level-injection",
        "POST",
        TARGETS,
        "admin",
        json={**NEW_TARGET, "level": INJECTION},
    ),
    Case("objectifs-code-nul", "POST", TARGETS, "admin", json={**NEW_TARGET, "code": "461\x0002"}),
    Case(
        "objectifs-source-nul",
        "POST",
        TARGETS,
        "admin",
        json={**NEW_TARGET, "source": "contrat\x00"},
    ),
    Case(
        "objectifs-code-too-long", "POST", TARGETS, "admin", json={**NEW_TARGET, "code": "4" * 41}
    ),
    Case("objectifs-by-technicien", "POST", TARGETS, "tech", json=NEW_TARGET, expected=(403,)),
    # PATCH /api/v1/objectifs/{id}
    *_body_cases(TARGET, "PATCH", "admin", {"raccordables": 20}),
    Case("objectif-raccordables-negative", "PATCH", TARGET, "admin", json={"raccordables": -5}),
    Case("objectif-raccordables-huge", "PATCH", TARGET, "admin", json={"raccordables": 2**63}),
    Case(
        "objectif-raccordables-nan",
        "PATCH",
        TARGET,
        "admin",
        content=_raw('{"raccordables": NaN}'),
        headers=JSON_CT,
    ),
    Case("objectif-date-null-required", "PATCH", TARGET, "admin", json={"target_date": None}),
    Case(
        "objectif-date-out-of-range", "PATCH", TARGET, "admin", json={"target_date": "1000-01-01"}
    ),
    Case("objectif-source-nul", "PATCH", TARGET, "admin", json={"source": "\x00"}),
    Case(
        "objectif-path-injection",
        "PATCH",
        f"/api/v1/objectifs/{INJECTION}",
        "admin",
        json={"raccordables": 1},
    ),
    Case(
        "objectif-path-tautology",
        "PATCH",
        f"/api/v1/objectifs/{TAUTOLOGY}",
        "admin",
        json={"raccordables": 1},
    ),
    Case(
        "objectif-path-negative", "PATCH", "/api/v1/objectifs/-1", "admin", json={"raccordables": 1}
    ),
    Case(
        "objectif-path-huge",
        "PATCH",
        "/api/v1/objectifs/" + "9" * 40,
        "admin",
        json={"raccordables": 1},
    ),
    Case(
        "objectif-path-float", "PATCH", "/api/v1/objectifs/1.5", "admin", json={"raccordables": 1}
    ),
    Case(
        "objectif-path-unknown",
        "PATCH",
        "/api/v1/objectifs/999999",
        "admin",
        json={"raccordables": 1},
        expected=(404,),
    ),
    # PUT /api/v1/prises/rad/{identifiant}
    *_body_cases(RAD, "PUT", "tech", {"etape": "DEMANDE"}),
    Case("rad-missing-etape", "PUT", RAD, json={}),
    Case("rad-etape-injection", "PUT", RAD, json={"etape": INJECTION}),
    Case("rad-etape-tautology", "PUT", RAD, json={"etape": TAUTOLOGY}),
    Case("rad-commentaire-nul", "PUT", RAD, json={"etape": "DEMANDE", "commentaire": "vu\x00"}),
    Case(
        "rad-commentaire-too-long", "PUT", RAD, json={"etape": "DEMANDE", "commentaire": "c" * 2001}
    ),
    Case("rad-date-year-1", "PUT", RAD, json={"etape": "DEMANDE", "date_demande": "0001-01-01"}),
    Case("rad-date-year-9999", "PUT", RAD, json={"etape": "DEMANDE", "date_demande": "9999-12-31"}),
    Case("rad-date-garbage", "PUT", RAD, json={"etape": "DEMANDE", "date_avenant": "31/02/2025"}),
    Case(
        "rad-date-infinity",
        "PUT",
        RAD,
        content=_raw('{"etape": "DEMANDE", "date_demande": Infinity}'),
        headers=JSON_CT,
    ),
    Case("rad-path-injection", "PUT", f"/api/v1/prises/rad/{INJECTION}", json={"etape": "DEMANDE"}),
    Case("rad-path-tautology", "PUT", f"/api/v1/prises/rad/{TAUTOLOGY}", json={"etape": "DEMANDE"}),
    Case(
        "rad-path-nul",
        "PUT",
        "/api/v1/prises/rad/IMB%00X",
        json={"etape": "DEMANDE"},
    ),
    Case(
        "rad-path-traversal",
        "PUT",
        "/api/v1/prises/rad/..%2F..%2Fetc%2Fpasswd",
        json={"etape": "DEMANDE"},
    ),
    Case("rad-path-too-long", "PUT", "/api/v1/prises/rad/" + "I" * 500, json={"etape": "DEMANDE"}),
    # PATCH /api/v1/signalements/{id}
    *_body_cases(REPORT, "PATCH", "tech", {"statut": "EN_COURS"}),
    Case("signalement-statut-injection", "PATCH", REPORT, json={"statut": INJECTION}),
    Case("signalement-statut-tautology", "PATCH", REPORT, json={"statut": TAUTOLOGY}),
    Case("signalement-statut-nul", "PATCH", REPORT, json={"statut": "EN_COURS\x00"}),
    Case("signalement-assigned-nul", "PATCH", REPORT, json={"assigned_to": "tech\x00"}),
    Case("signalement-reponse-nul", "PATCH", REPORT, json={"reponse": "merci\x00"}),
    Case("signalement-reponse-huge", "PATCH", REPORT, json={"reponse": "r" * 60_000}),
    Case(
        "signalement-path-injection",
        "PATCH",
        f"/api/v1/signalements/{INJECTION}",
        json={"statut": "EN_COURS"},
    ),
    Case(
        "signalement-path-tautology",
        "PATCH",
        f"/api/v1/signalements/{TAUTOLOGY}",
        json={"statut": "EN_COURS"},
    ),
    Case("signalement-path-zero", "PATCH", "/api/v1/signalements/0", json={"statut": "EN_COURS"}),
    Case(
        "signalement-path-huge",
        "PATCH",
        "/api/v1/signalements/" + "9" * 30,
        json={"statut": "EN_COURS"},
    ),
    # POST /api/v1/signalements (anonymous)
    *_body_cases(REPORTS, "POST", None, {"adresse": ADDRESS}),
    Case("signalements-missing-adresse", "POST", REPORTS, None, json={"lat": 44.6, "lon": 2.0}),
    Case(
        "signalements-adresse-nul", "POST", REPORTS, None, json={"adresse": "12 rue\x00 de la Paix"}
    ),
    Case(
        "signalements-contact-nul",
        "POST",
        REPORTS,
        None,
        json={"adresse": ADDRESS, "contact": "a@b\x00.fr"},
    ),
    Case(
        "signalements-description-nul",
        "POST",
        REPORTS,
        None,
        json={"adresse": ADDRESS, "description": "\x00"},
    ),
    Case("signalements-adresse-too-long", "POST", REPORTS, None, json={"adresse": "a" * 60_000}),
    Case(
        "signalements-lat-nan",
        "POST",
        REPORTS,
        None,
        content=_raw(f'{{"adresse": "{ADDRESS}", "lat": NaN, "lon": 2.0}}'),
        headers=JSON_CT,
    ),
    Case(
        "signalements-lon-infinity",
        "POST",
        REPORTS,
        None,
        content=_raw(f'{{"adresse": "{ADDRESS}", "lat": 44.6, "lon": Infinity}}'),
        headers=JSON_CT,
    ),
    Case(
        "signalements-lat-1e400",
        "POST",
        REPORTS,
        None,
        content=_raw(f'{{"adresse": "{ADDRESS}", "lat": 1e400, "lon": 2.0}}'),
        headers=JSON_CT,
    ),
    Case(
        "signalements-lat-string-nan",
        "POST",
        REPORTS,
        None,
        json={"adresse": ADDRESS, "lat": "nan", "lon": 2.0},
    ),
    Case(
        "signalements-lat-91",
        "POST",
        REPORTS,
        None,
        json={"adresse": ADDRESS, "lat": 91, "lon": 2.0},
    ),
    Case(
        "signalements-lon-minus-181",
        "POST",
        REPORTS,
        None,
        json={"adresse": ADDRESS, "lat": 44.6, "lon": -181},
    ),
    Case(
        "signalements-lat-string",
        "POST",
        REPORTS,
        None,
        json={"adresse": ADDRESS, "lat": "quarante", "lon": 2.0},
    ),
    Case(
        "signalements-lat-list",
        "POST",
        REPORTS,
        None,
        json={"adresse": ADDRESS, "lat": [44.6, 2.0], "lon": 2.0},
    ),
    Case("signalements-lat-only", "POST", REPORTS, None, json={"adresse": ADDRESS, "lat": 44.6}),
    Case(
        "signalements-geojson-instead-of-lat-lon",
        "POST",
        REPORTS,
        None,
        json={
            "adresse": ADDRESS,
            "lat": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
        },
    ),
]


@pytest.fixture()
def tech_headers(connection: Connection) -> dict[str, str]:
    return make_user(connection, "tech", "technicien", password=None)  # tokens only: no hashing


@pytest.fixture()
def admin_headers(connection: Connection) -> dict[str, str]:
    return make_user(connection, "chef", "admin", password=None)


@pytest.fixture()
def write_targets(
    client: TestClient, connection: Connection, admin_headers: dict[str, str]
) -> dict[str, str]:
    """One object of each kind to aim at: a PM, a RAD premise, a report, a target."""
    connection.execute(
        text(
            "INSERT INTO pm (reference, territory_code, etat, date_prevue) "
            "VALUES ('PMHOSTILE', '46', 'PLANIFIE', '2027-03-15')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO premise (identifiant_immeuble, insee, logements, etat, geom) VALUES "
            "('IMB/HOSTILE/1', '46102', 1, 'RACCORDABLE DEMANDE', "
            "ST_SetSRID(ST_MakePoint(621500, 6390100), 2154))"
        )
    )
    created = client.post(TARGETS, json=NEW_TARGET, headers=admin_headers)
    assert created.status_code == 201, created.text
    report = connection.execute(
        text(
            "INSERT INTO signalement (territory_code, adresse, statut) "
            "VALUES ('46', 'Lieu-dit Hostile, Figeac', 'NOUVEAU') RETURNING id"
        )
    ).scalar_one()
    return {
        "pm": "PMHOSTILE",
        "rad": "IMB/HOSTILE/1",
        "report": str(report),
        "target": str(created.json()["id"]),
    }


_VERSIONS = {"pm": '"1"', "rad": '"0"', "report": '"1"', "target": '"1"'}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in JSON_CASES])
def test_hostile_write_is_refused_in_french_and_writes_nothing(
    client: TestClient,
    connection: Connection,
    tech_headers: dict[str, str],
    admin_headers: dict[str, str],
    write_targets: dict[str, str],
    case: Case,
) -> None:
    url = case.path.format(**write_targets)
    headers = {"tech": tech_headers, "admin": admin_headers, None: {}}[case.who]
    version = case.version or next(
        (v for k, v in _VERSIONS.items() if "{" + k + "}" in case.path), '"1"'
    )
    headers = {**headers, "If-Match": version, **case.headers}
    before = checksums(connection)
    if case.content is not None:
        response = client.request(case.method, url, content=case.content, headers=headers)
    else:
        response = client.request(case.method, url, json=case.json, headers=headers)
    assert_refused(response, case.expected)
    assert checksums(connection) == before
    assert_french_detail(response)


# --- SQL injection in query parameters (reads: nothing runs but the bound query) -----------------

QUERY_CASES = [
    ("signalements-statut", "/api/v1/signalements", {"statut": INJECTION}, "tech", (200, 422)),
    ("raccordables-level", "/api/v1/stats/raccordables", {"level": INJECTION}, None, (400, 422)),
    (
        "raccordables-code",
        "/api/v1/stats/raccordables",
        {"level": "commune", "code": TAUTOLOGY},
        None,
        (200, 400, 404, 422),
    ),
    ("raccordables-as-of", "/api/v1/stats/raccordables", {"as_of": INJECTION}, None, (422,)),
    (
        "progress-code",
        "/api/v1/stats/progress",
        {"level": "pm", "code": INJECTION},
        None,
        (200, 400, 404, 422),
    ),
    (
        "onereuses-commune",
        "/api/v1/prises/onereuses",
        {"commune": TAUTOLOGY},
        "tech",
        (400, 403, 404, 422),
    ),
    ("onereuses-seuil", "/api/v1/prises/onereuses", {"seuil": TAUTOLOGY}, "tech", (422,)),
    ("onereuses-seuil-nan", "/api/v1/prises/onereuses", {"seuil": "NaN"}, "tech", (422,)),
    ("oublies-seuil-inf", "/api/v1/prises/oublies", {"seuil": "inf"}, "tech", (422,)),
    ("adresses-q", "/api/v1/adresses", {"q": INJECTION}, None, (200,)),
    ("adresses-q-nul", "/api/v1/adresses", {"q": "rue\x00"}, None, (200, 400, 422)),
    ("rad-level", "/api/v1/prises/rad", {"level": INJECTION}, None, (400, 422)),
    ("imports-limit", "/api/v1/imports", {"limit": TAUTOLOGY}, "tech", (422,)),
    ("audit-utilisateur", "/api/v1/audit", {"utilisateur": INJECTION}, "admin", (200,)),
    ("audit-depuis", "/api/v1/audit", {"depuis": TAUTOLOGY}, "admin", (422,)),
    (
        "quand-identifiant",
        "/api/v1/quand",
        {"adresse": INJECTION, "identifiant": INJECTION},
        None,
        (200, 400, 404, 422),
    ),
    (
        "export-onereuses-seuil",
        "/api/v1/export/onereuses.csv",
        {"seuil": "-Infinity"},
        "tech",
        (422,),
    ),
]


@pytest.mark.parametrize(
    ("url", "params", "who", "expected"),
    [c[1:] for c in QUERY_CASES],
    ids=[c[0] for c in QUERY_CASES],
)
def test_injection_in_query_parameters_is_inert(
    client: TestClient,
    connection: Connection,
    tech_headers: dict[str, str],
    admin_headers: dict[str, str],
    url: str,
    params: dict[str, str],
    who: str | None,
    expected: tuple[int, ...],
) -> None:
    headers = {"tech": tech_headers, "admin": admin_headers, None: {}}[who]
    before = checksums(connection)
    response = client.get(url, params=params, headers=headers)
    assert response.status_code in expected, (response.status_code, response.text[:300])
    assert checksums(connection) == before
    if response.status_code >= 400:
        assert_french_detail(response)


# --- uploads: POST /api/v1/imports/{kind} --------------------------------------------------------
# An import commits through the app's own engine: these run on a scratch database of their own,
# with a technicien committed there, and compare its checksums before and after.

UPLOAD_LIMIT_MB = 12  # the app under test takes 12 Mo uploads: a 10 Mo line gets through
BOMB_CAP = 1 << 20  # csv_source.MAX_UNPACKED_BYTES (2 Go) lowered to 1 Mo for the bombs
IPE_HEADER = (
    "IdentifiantImmeuble;EtatImmeuble;CoordonneeImmeubleX;CoordonneeImmeubleY;"
    "NombreLogementsAdresseIPE\n"
)
SITES_HEADER = (
    "code;nom;code_insee;programme;etat;operateurs;date_signalement;date_arrete;"
    "date_mise_en_service;anfr;longitude;latitude\n"
)
SITE_ROW = "ND-46102-99;Figeac;46102;NEW_DEAL;EN_SERVICE;Orange;;;;;{lon};{lat}\n"


def _zip(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    return buffer.getvalue()


def _bomb_text() -> bytes:
    """Eight times the lowered cap of one repeated CSV line (compresses to a few kB)."""
    return (IPE_HEADER + "IMB/46102/X/0001;DEPLOYE;600000;6400000;1\n" * 200_000).encode()


@dataclass(frozen=True)
class Upload:
    id: str
    kind: str
    name: str
    content: bytes
    form: dict[str, str] = field(default_factory=dict)
    expected: tuple[int, ...] = ()
    marks: tuple[Any, ...] = ()


UPLOAD_CASES = [
    Upload("traversal-name", "ipe", "../../etc/passwd.csv", b"a;b\n1;2\n"),
    Upload("traversal-backslash", "ipe", "..\\..\\windows\\win.ini.csv", b"a;b\n1;2\n"),
    Upload("nul-in-name", "ipe", "a\x00.csv", IPE_HEADER.encode(), expected=(400,)),
    Upload("dot-only-name", "ipe", "..", IPE_HEADER.encode(), expected=(400,)),
    Upload("wrong-extension-exe", "ipe", "ipe.exe", IPE_HEADER.encode(), expected=(400,)),
    Upload("double-extension", "sites", "sites.csv.exe", SITES_HEADER.encode(), expected=(400,)),
    Upload("gpkg-for-a-register", "bornes", "bornes.gpkg", b"SQLite format 3\x00", expected=(400,)),
    Upload("csv-for-gracethd", "gracethd", "livrable.csv", b"a;b\n", expected=(400,)),
    Upload("kind-injection", INJECTION, "ipe.csv", IPE_HEADER.encode(), expected=(400, 404, 422)),
    Upload("kind-tautology", TAUTOLOGY, "ipe.csv", IPE_HEADER.encode(), expected=(400, 404, 422)),
    Upload("empty-ipe", "ipe", "IPE_46_20240101.csv", b"", expected=(400,)),
    Upload("empty-register", "sites", "sites.csv", b"", expected=(400,)),
    Upload("blank-register", "med", "med.csv", b"\n\n  \n", expected=(400, 422)),
    Upload("header-only-ipe", "ipe", "IPE_46_20240101.csv", IPE_HEADER.encode()),
    Upload(
        "binary-as-csv", "ipe", "IPE_46_20240101.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    ),
    Upload("utf16-csv", "onereuses", "onereuses.csv", "IdentifiantImmeuble;x\n".encode("utf-16")),
    Upload(
        "nul-after-64k-register",
        "sites",
        "sites.csv",
        (SITES_HEADER + SITE_ROW.format(lon="2.02", lat="44.61") * 1200 + "x\x00y\n").encode(),
    ),
    Upload(
        "truncated-gzip",
        "ipe",
        "IPE_46_20240101.csv.gz",
        gzip.compress(IPE_HEADER.encode() * 50)[:40],
    ),
    Upload("corrupt-zip", "ipe", "IPE_46_20240101.zip", b"PK\x03\x04" + b"\x00" * 60),
    Upload("zip-without-csv", "ipe", "IPE_46_20240101.zip", _zip("lisez-moi.txt", b"rien")),
    Upload(
        "zip-member-traversal",
        "ipe",
        "IPE_46_20240101.zip",
        _zip("../../etc/passwd.csv", b"a;b\n1;2\n"),
    ),
    Upload("zip-bomb", "ipe", "IPE_46_20240101.zip", _zip("IPE_46_20240101.csv", _bomb_text())),
    Upload("gzip-bomb", "ipe", "IPE_46_20240101.csv.gz", gzip.compress(_bomb_text())),
    Upload("not-a-geopackage", "gracethd", "livrable.gpkg", b"ceci n'est pas une base SQLite" * 10),
    Upload(
        "date-garbage", "ipe", "IPE_46_20240101.csv", IPE_HEADER.encode(), form={"date": TAUTOLOGY}
    ),
    Upload(
        "date-year-0",
        "ipe",
        "IPE_46_20240101.csv",
        IPE_HEADER.encode(),
        form={"date": "0000-01-01"},
    ),
    Upload(
        "date-year-10000",
        "ipe",
        "IPE_46_20240101.csv",
        IPE_HEADER.encode(),
        form={"date": "10000-01-01"},
    ),
    Upload(
        "skip-invalid-not-bool",
        "ipe",
        "IPE_46_20240101.csv",
        IPE_HEADER.encode(),
        form={"skip_invalid": "peut-être"},
    ),
    Upload(
        "coordinates-nan",
        "sites",
        "sites.csv",
        (SITES_HEADER + SITE_ROW.format(lon="nan", lat="nan")).encode(),
    ),
    Upload(
        "coordinates-infinite",
        "bornes",
        "bornes.csv",
        b"code;nom;code_insee;emplacement;rayon_m;date_installation;connexions_mois;longitude;latitude\n"
        b"W-1;Mairie;46102;EXTERIEUR;100;;;inf;-inf\n",
    ),
    Upload(
        "coordinates-huge",
        "sites",
        "sites.csv",
        (SITES_HEADER + SITE_ROW.format(lon="1e308", lat="-1e308")).encode(),
    ),
    Upload(
        "too-big",
        "ipe",
        "IPE_46_20240101.csv",
        IPE_HEADER.encode() + b"x" * (UPLOAD_LIMIT_MB << 20),
        expected=(413,),
    ),
]
# a single 10 Mo line: refused naming the file and the line, for every CSV kind
LONG_LINE_KINDS = ["ipe", "sites", "bornes", "med", "onereuses", "adresses"]


@pytest.fixture(scope="module")
def upload_app() -> Iterator[tuple[TestClient, dict[str, str], Engine]]:
    url = create_scratch_database("hostile")
    engine = make_engine(url)
    with engine.begin() as conn:
        tech = make_user(conn, "tech-hostile", "technicien", password=None)
    settings = Settings(database_url=url, departement="46", max_upload_mb=UPLOAD_LIMIT_MB)
    with TestClient(create_app(settings)) as client:
        yield client, tech, engine
    engine.dispose()
    drop_database(url)


def _post_upload(
    upload_app: tuple[TestClient, dict[str, str], Engine],
    kind: str,
    name: str,
    content: bytes,
    form: dict[str, str] | None = None,
) -> tuple[Any, dict[str, str], dict[str, str]]:
    client, tech, engine = upload_app
    with engine.connect() as conn:
        before = checksums(conn)
    if "\x00" in name:  # httpx would escape the NUL: the multipart body is written by hand
        boundary = "limite-hostile"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; filename="{name}"'
                "\r\nContent-Type: text/csv\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        response = client.post(
            f"/api/v1/imports/{kind}",
            content=body,
            headers={**tech, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    else:
        response = client.post(
            f"/api/v1/imports/{kind}",
            files={"fichier": (name, content, "text/csv")},
            data=form or {},
            headers=tech,
        )
    with engine.connect() as conn:
        after = checksums(conn)
    return response, before, after


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in UPLOAD_CASES])
def test_hostile_upload_is_refused_in_french_and_imports_nothing(
    upload_app: tuple[TestClient, dict[str, str], Engine],
    monkeypatch: pytest.MonkeyPatch,
    case: Upload,
) -> None:
    monkeypatch.setattr(csv_source, "MAX_UNPACKED_BYTES", BOMB_CAP)
    response, before, after = _post_upload(
        upload_app, case.kind, case.name, case.content, case.form
    )
    assert_refused(response, case.expected)
    assert after == before
    if case.id.startswith("traversal"):  # only the base name is kept, and named
        assert "/etc" not in response.text and "windows" not in response.text
    if case.id.endswith("bomb"):
        assert "décompressé trop volumineux" in response.json()["detail"]
    assert_french_detail(response)


def _header(kind: str) -> str:
    from geo_service.ingest import addresses, onereuses, registers

    if kind == "ipe":
        return IPE_HEADER
    columns = {
        "onereuses": list(onereuses.COLUMNS),
        "adresses": list(addresses.COLUMNS),
    }.get(kind) or [*registers.REGISTERS[kind].columns, "longitude", "latitude"]
    return ";".join(columns) + "\n"


@pytest.mark.parametrize("kind", LONG_LINE_KINDS)
def test_a_ten_megabyte_line_is_refused_naming_file_and_line(
    upload_app: tuple[TestClient, dict[str, str], Engine], kind: str
) -> None:
    content = (_header(kind) + "x" * 10_485_760 + "\n").encode()
    name = "IPE_46_20240101.csv" if kind == "ipe" else f"{kind}.csv"
    response, before, after = _post_upload(
        upload_app, kind, name, content, {"date": "2024-01-01"} if kind == "onereuses" else None
    )
    assert_refused(response)
    assert after == before
    body = response.json()
    assert name in body["detail"], body["detail"]
    # the line is in the message, or in the listed problems when the message counts them
    lines = [p["line"] for p in body.get("problemes", [])]
    assert "ligne 2" in body["detail"] or 2 in lines, body["detail"]
    assert_french_detail(response)
