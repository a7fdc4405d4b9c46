"""Console forms of the operating registers (/console/exploitation): a signed-in technicien lists,
adds, corrects and deletes entries through the importers' rules; anonymous visitors are sent to
the sign-in page, élus refused; a bad input is a French 422 and changes nothing; the history and
the as-of answers follow an edit."""

from __future__ import annotations

import re
from datetime import date, datetime
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from geo_service.ingest.abonnes import ABONNES
from geo_service.ingest.controles_pm import CONTROLES_PM
from geo_service.ingest.echanges_frontaliers import ECHANGES_FRONTALIERS
from geo_service.ingest.gracethd import import_gracethd_conn
from geo_service.ingest.incidents import INCIDENTS
from geo_service.ingest.operations_common import import_register_conn
from tests.conftest import FIXTURES, STAFF_PASSWORD, data_checksums, make_user

OPERATIONS = FIXTURES / "operations"
PARIS = ZoneInfo("Europe/Paris")
BASE = "/console/exploitation"
KINDS = ("incidents", "controles-pm", "abonnes", "echanges-frontaliers")


@pytest.fixture()
def registers(connection: Connection, gracethd_gpkg: Path) -> Connection:
    """PM TST01/TST02 in Figeac and the four register fixtures, imported."""
    import_gracethd_conn(connection, gracethd_gpkg, territory="46", snapshot_date=date(2019, 1, 1))
    for register, name in (
        (INCIDENTS, "incidents.csv"),
        (CONTROLES_PM, "controles_pm.csv"),
        (ABONNES, "abonnes.csv"),
        (ECHANGES_FRONTALIERS, "echanges_frontaliers.csv"),
    ):
        import_register_conn(connection, register, OPERATIONS / name, territory="46")
    return connection


def _token(page_text: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]+)"', page_text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _sign_in(client: TestClient, conn: Connection, nom: str, role: str, **where: str) -> str:
    """A browser session: the sign-in form with its CSRF token, then the session cookie;
    returns the token (valid for the session's forms)."""
    make_user(conn, nom, role, **where)
    token = _token(client.get("/connexion").text)
    signed = client.post(
        "/connexion",
        data={"csrftoken": token, "nom": nom, "mot_de_passe": STAFF_PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    return token


@pytest.fixture()
def technicien(client: TestClient, registers: Connection) -> TestClient:
    _sign_in(client, registers, "agent", "technicien")
    return client


def _post(client: TestClient, page_url: str, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """Post a form the way a browser does: with the CSRF token of the page it came from."""
    token = _token(client.get(page_url).text)
    return client.post(url, data={**data, "csrftoken": token}, follow_redirects=False)


def _version(page_text: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page_text)
    assert match, "no version on the page"
    return match.group(1)


def _incident_id(conn: Connection, reference: str) -> int:
    return int(
        conn.execute(
            text("SELECT id FROM incident WHERE reference = :r AND territory_code = '46'"),
            {"r": reference},
        ).scalar_one()
    )


NEW_INCIDENT = {
    "perimetre": "46",
    "reference": "INC-2023-100",
    "pm": "TST01",
    "code_insee": "",
    "categorie": "pm",
    "ouverture": "2023-03-01T10:00",
    "retablissement": "",
    "cause": "Armoire forcée",
    "source": "DELEGATAIRE",
}


def test_console_home_links_to_the_registers(technicien: TestClient) -> None:
    home = technicien.get("/console")
    assert home.status_code == 200 and f'href="{BASE}"' in home.text
    overview = technicien.get(BASE)
    assert overview.status_code == 200
    for kind in KINDS:
        assert f'href="{BASE}/{kind}/nouveau"' in overview.text


@pytest.mark.parametrize("kind", KINDS)
def test_each_register_lists_its_entries_and_opens_their_forms(
    technicien: TestClient, registers: Connection, kind: str
) -> None:
    table = {
        "incidents": "incident",
        "controles-pm": "controle_pm",
        "abonnes": "abonnes_releve",
        "echanges-frontaliers": "echange_frontalier",
    }[kind]
    ids = list(registers.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars())
    assert ids  # the fixtures hold entries of every register
    listing = technicien.get(f"{BASE}/{kind}")
    assert listing.status_code == 200
    for entry_id in ids:
        assert f'href="{BASE}/{kind}/{entry_id}"' in listing.text
    entry = technicien.get(f"{BASE}/{kind}/{ids[0]}")
    assert entry.status_code == 200
    assert 'name="version"' in entry.text and "Historique" in entry.text
    assert "importé" in entry.text  # the import's own history line is shown
    assert technicien.get(f"{BASE}/{kind}/nouveau").status_code == 200


def test_anonymous_visitors_go_to_sign_in_and_their_posts_are_refused(
    client: TestClient, registers: Connection
) -> None:
    entry_id = _incident_id(registers, "INC-2023-001")
    before = data_checksums(registers)
    for url in (
        BASE,
        f"{BASE}/incidents",
        f"{BASE}/incidents/nouveau",
        f"{BASE}/incidents/{entry_id}",
    ):
        page = client.get(url, headers={"Accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/connexion")
    token = _token(client.get("/connexion").text)
    for url, data in (
        (f"{BASE}/incidents/nouveau", NEW_INCIDENT),
        (f"{BASE}/incidents/{entry_id}", {"version": "1", "cause": "x"}),
        (f"{BASE}/incidents/{entry_id}/suppression", {"version": "1", "confirmation": "oui"}),
    ):
        refused = client.post(url, data={**data, "csrftoken": token}, follow_redirects=False)
        assert refused.status_code == 401, (url, refused.text)
    assert data_checksums(registers) == before


def test_an_elu_is_refused_the_pages_and_the_writes(
    client: TestClient, registers: Connection
) -> None:
    token = _sign_in(client, registers, "maire", "elu", commune="46102")
    entry_id = _incident_id(registers, "INC-2023-001")
    before = data_checksums(registers)
    page = client.get(f"{BASE}/incidents", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "Accès réservé" in page.text
    refused = client.post(
        f"{BASE}/incidents/{entry_id}/suppression",
        data={"csrftoken": token, "version": "1", "confirmation": "oui"},
    )
    assert refused.status_code == 403
    created = client.post(f"{BASE}/incidents/nouveau", data={**NEW_INCIDENT, "csrftoken": token})
    assert created.status_code == 403
    assert data_checksums(registers) == before


def _delays(client: TestClient, au: str) -> dict[str, int]:
    answer = client.get(
        "/api/v1/exploitation/incidents/delais", params={"annee": 2023, "au": au}
    ).json()
    return {k: answer["lignes"][0][k] for k in ("incidents", "retablis", "en_cours")}


def test_an_incident_added_then_restored_moves_the_as_of_answers(
    technicien: TestClient, registers: Connection
) -> None:
    before_add = _delays(technicien, "2023-03-02")
    before_february = _delays(technicien, "2023-02-28")
    added = _post(
        technicien, f"{BASE}/incidents/nouveau", f"{BASE}/incidents/nouveau", NEW_INCIDENT
    )
    assert added.status_code == 303, added.text
    entry_id = _incident_id(registers, "INC-2023-100")
    assert added.headers["location"] == f"{BASE}/incidents/{entry_id}?enregistre=1"
    stored = registers.execute(
        text("SELECT insee, ouverture, import_id FROM incident WHERE id = :i"), {"i": entry_id}
    ).one()
    pm_commune = registers.execute(
        text(
            "SELECT c.insee FROM pm p JOIN commune c ON ST_Contains(c.geom, p.geom)"
            " WHERE p.reference = 'TST01'"
        )
    ).scalar_one()
    assert stored.insee == pm_commune  # the commune of its PM, as the importer does
    assert stored.ouverture == datetime(2023, 3, 1, 10, 0, tzinfo=PARIS)
    assert stored.import_id is None
    open_now = _delays(technicien, "2023-03-02")
    assert open_now == {
        "incidents": before_add["incidents"] + 1,
        "retablis": before_add["retablis"],
        "en_cours": before_add["en_cours"] + 1,
    }
    page_url = f"{BASE}/incidents/{entry_id}"
    page = technicien.get(page_url)
    assert "Modification enregistrée" not in page.text
    corrected = _post(
        technicien,
        page_url,
        page_url,
        {
            **{k: v for k, v in NEW_INCIDENT.items() if k not in ("perimetre", "reference")},
            "retablissement": "2023-03-01T15:30",
            "version": _version(page.text),
        },
    )
    assert corrected.status_code == 303, corrected.text
    assert _delays(technicien, "2023-03-02") == {
        "incidents": open_now["incidents"],
        "retablis": open_now["retablis"] + 1,
        "en_cours": open_now["en_cours"] - 1,
    }
    # as of the day before its opening, the incident is not counted
    assert _delays(technicien, "2023-02-28") == before_february
    history = registers.execute(
        text(
            "SELECT changed_by, import_id, before, after FROM asset_change"
            " WHERE table_name = 'incident' AND object_key = '46/46/INC-2023-100' ORDER BY id"
        )
    ).all()
    assert [h.changed_by for h in history] == ["agent", "agent"]
    assert [h.import_id for h in history] == [None, None]
    assert history[0].before is None and history[1].before == {"retablissement": None}
    assert "2023-03-01 15:30:00+01:00" in history[1].after["retablissement"]
    audit = registers.execute(
        text(
            "SELECT action, source, user_name FROM audit_log WHERE object_type = 'incident'"
            " AND object_key = '46/46/INC-2023-100' ORDER BY id"
        )
    ).all()
    assert [tuple(a) for a in audit] == [
        ("creation", "console", "agent"),
        ("modification", "console", "agent"),
    ]
    shown = technicien.get(page_url + "?enregistre=1").text
    assert "Modification enregistrée" in shown and "agent" in shown and "retablissement" in shown


BAD_INPUTS = [
    ("incidents", {"ouverture": "2023-03-01"}, "ouverture", "heure manquante"),
    ("incidents", {"retablissement": "2023-02-28T09:00"}, "retablissement", "antérieur"),
    ("incidents", {"pm": "INCONNU"}, "pm", "PM inconnu du territoire"),
    ("incidents", {"pm": "", "code_insee": ""}, "pm", "PM ou code INSEE obligatoire"),
    ("incidents", {"categorie": "météo"}, "categorie", "catégorie inconnu"),
    ("incidents", {"cause": "a\x00b"}, "cause", "caractère nul interdit"),
    ("incidents", {"reference": "INC-2023-001"}, "reference", "existe déjà"),
    ("incidents", {"ouverture": "2999-01-01T10:00"}, "ouverture", "hors de la plage"),
]


@pytest.mark.parametrize(("kind", "change", "field", "reason"), BAD_INPUTS)
def test_a_bad_new_entry_is_a_french_422_and_writes_nothing(
    technicien: TestClient,
    registers: Connection,
    kind: str,
    change: dict[str, str],
    field: str,
    reason: str,
) -> None:
    before = data_checksums(registers)
    url = f"{BASE}/{kind}/nouveau"
    refused = _post(technicien, url, url, {**NEW_INCIDENT, **change})
    assert refused.status_code == 422, refused.text
    assert f'id="erreur-{field}"' in refused.text and reason in unescape(refused.text)
    assert "La saisie a été refusée" in refused.text
    assert data_checksums(registers) == before


def test_other_registers_refuse_their_own_bad_rows(
    technicien: TestClient, registers: Connection
) -> None:
    before = data_checksums(registers)
    cases = [
        (
            "controles-pm",
            {"perimetre": "46", "campagne": "2023", "pm": "TST01", "date_controle": "2021-05-01"},
            "date_controle",
            "hors de la campagne 2023",
        ),
        (
            "abonnes",
            {"perimetre": "46", "date": "2023-06-30", "code_insee": "46102", "pm": "TST01"},
            "pm",
            "un seul des deux",
        ),
        (
            "abonnes",
            {"perimetre": "46", "date": "2023-06-30", "abonnes": "12", "raccordables": "5"},
            "abonnes",
            "plus d'abonnés que de raccordables",
        ),
        (
            "echanges-frontaliers",
            {
                "secteur": "Nouveau secteur",
                "identifiant_immeuble": "IMB/1",
                "voisin": "Corrèze",
                "sens": "SERVI_PAR_VOISIN",
                "code_insee": "19001",
            },
            "code_insee",
            "commune du territoire obligatoire",
        ),
        (
            "echanges-frontaliers",
            {
                "secteur": "Montcabrier - Lacaze Basse",
                "identifiant_immeuble": "IMB/46197/X/0009",
                "voisin": "Lot-et-Garonne",
                "sens": "SERVI_PAR_VOISIN",
                "code_insee": "46197",
                "lien": "PB27650-PB27668",
                "longueur_m": "900",
                "mode": "AERIEN",
                "statut": "A CREER",
            },
            "lien",
            "déjà décrit autrement",
        ),
    ]
    for kind, data, field, reason in cases:
        url = f"{BASE}/{kind}/nouveau"
        refused = _post(technicien, url, url, data)
        assert refused.status_code == 422, (kind, refused.text)
        shown = re.findall(r"Erreur : [^<]*", unescape(refused.text))
        assert f'id="erreur-{field}"' in refused.text, (kind, shown)
        assert any(reason in line for line in shown), (kind, shown)
    assert data_checksums(registers) == before


def test_a_stale_or_key_changing_correction_writes_nothing(
    technicien: TestClient, registers: Connection
) -> None:
    entry_id = _incident_id(registers, "INC-2023-002")
    url = f"{BASE}/incidents/{entry_id}"
    page = technicien.get(url)
    fields = {
        "pm": "",
        "code_insee": "46102",
        "categorie": "raccordement",
        "ouverture": "2023-01-12T09:15",
        "retablissement": "2023-01-14T10:15",
        "source": "SIGNALEMENT",
    }
    before = data_checksums(registers)
    stale = _post(
        technicien,
        url,
        url,
        {**fields, "cause": "autre", "version": str(int(_version(page.text)) + 1)},
    )
    assert stale.status_code == 409 and "Modifié entre-temps" in stale.text
    after_refusal = data_checksums(registers)
    assert after_refusal == before
    refused_audit = registers.execute(
        text("SELECT count(*) FROM audit_log WHERE object_type = 'incident' AND outcome = 'refuse'")
    ).scalar_one()
    assert refused_audit == 1
    bad = _post(
        technicien,
        url,
        url,
        {**fields, "retablissement": "2023-01-11T10:00", "version": _version(page.text)},
    )
    assert bad.status_code == 422 and "rétablissement antérieur" in bad.text
    assert data_checksums(registers) == before


def test_a_link_corrected_on_one_building_is_corrected_on_the_others(
    technicien: TestClient, registers: Connection
) -> None:
    rows = registers.execute(
        text(
            "SELECT id, identifiant_immeuble FROM echange_frontalier"
            " WHERE lien = 'PB27650-PB27668' ORDER BY id"
        )
    ).all()
    assert len(rows) >= 2
    url = f"{BASE}/echanges-frontaliers/{rows[0].id}"
    page = technicien.get(url)
    form = dict(
        re.findall(
            r'<input id="champ-([a-z_]+)" name="[a-z_]+" type="[a-z-]+" value="([^"]*)"', page.text
        )
    )
    done = _post(
        technicien,
        url,
        url,
        {
            **form,
            "sens": "SERVI_PAR_VOISIN",
            "mode": "SOUTERRAIN",
            "statut": "EN TRAVAUX",
            "longueur_m": "1150",
            "version": _version(page.text),
        },
    )
    assert done.status_code == 303, done.text
    links = registers.execute(
        text(
            "SELECT DISTINCT longueur_m, mode, statut_lien FROM echange_frontalier"
            " WHERE lien = 'PB27650-PB27668'"
        )
    ).all()
    assert [tuple(x) for x in links] == [(1150.0, "SOUTERRAIN", "EN TRAVAUX")]
    logged = registers.execute(
        text(
            "SELECT count(*) FROM asset_change WHERE table_name = 'echange_frontalier'"
            " AND changed_by = 'agent'"
        )
    ).scalar_one()
    assert logged == len(rows)


def test_an_entry_is_deleted_only_when_confirmed_and_keeps_its_history(
    technicien: TestClient, registers: Connection
) -> None:
    control_id = int(
        registers.execute(
            text("SELECT id FROM controle_pm WHERE pm_reference = 'TST02' AND perimetre = '46'")
        ).scalar_one()
    )
    url = f"{BASE}/controles-pm/{control_id}"
    progress = {"campagne": 2023, "au": "2023-12-31"}
    before = technicien.get("/api/v1/exploitation/controles/avancement", params=progress).json()
    checksums = data_checksums(registers)
    page = technicien.get(url)
    unconfirmed = _post(technicien, url, url + "/suppression", {"version": _version(page.text)})
    assert unconfirmed.status_code == 422 and "cochez la case" in unconfirmed.text
    assert data_checksums(registers) == checksums
    deleted = _post(
        technicien,
        url,
        url + "/suppression",
        {"version": _version(page.text), "confirmation": "oui"},
    )
    assert (
        deleted.status_code == 303
        and deleted.headers["location"] == f"{BASE}/controles-pm?supprime=1"
    )
    assert technicien.get(url).status_code == 404
    after = technicien.get("/api/v1/exploitation/controles/avancement", params=progress).json()
    assert (after["controles"], after["non_conformes"]) == (
        before["controles"] - 1,
        before["non_conformes"] - 1,
    )
    trail = registers.execute(
        text(
            "SELECT import_id, before, after FROM asset_change WHERE table_name = 'controle_pm'"
            " AND object_key = '46/46/2023/TST02' ORDER BY id"
        )
    ).all()
    assert trail[0].import_id is not None and trail[-1].after == {}
    assert trail[-1].before["resultat"] == "NON CONFORME"
