"""Élu pages (commune, EPCI, index), the technical map and the CSV / GeoJSON exports, on the
demo Lot. Figures are checked against the analysis functions and against plain SQL."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from geo_service.analysis import oublies
from geo_service.analysis.onereuses import equity, onereuses
from geo_service.analysis.progress import armoires, band
from geo_service.analysis.raccordables import raccordables
from geo_service.analysis.unit_report import quarter_ends
from geo_service.maps.assets import remote_assets
from geo_service.maps.styles import BAND_COLORS
from geo_service.maps.timeslider import timestamp
from tests.conftest import make_user

FIGEAC, GRAND_FIGEAC = "46102", "200067361"


def figures(html: str) -> dict[str, tuple[float, float]]:
    """{indicateur: (unit value, département value)} from the figures table's data-valeur."""
    out = {}
    for key, row in re.findall(r'<tr data-indicateur="(\w+)">(.*?)</tr>', html):
        values = [float(v) for v in re.findall(r'data-valeur="([^"]+)"', row)]
        out[key] = (values[0], values[1])
    return out


def js_object(html: str, prefix: str) -> Any:
    """The JSON literal that follows `prefix` in the page's script."""
    start = html.index(prefix) + len(prefix)
    return json.JSONDecoder().raw_decode(html, start)[0]


def geojson_layers(html: str) -> list[dict[str, Any]]:
    """Every FeatureCollection folium embedded with geo_json_…_add({...})."""
    decoder = json.JSONDecoder()
    return [
        decoder.raw_decode(html, m.end())[0]
        for m in re.finditer(r"geo_json_[0-9a-f]+_add\(", html)
        if html[m.end()] == "{"
    ]


def sql_count(conn: Connection, sql: str, **params: Any) -> int:
    return int(conn.execute(text(sql), params).scalar_one())


def check_page_shell(html: str, title_part: str) -> None:
    assert '<html lang="fr">' in html
    title = re.search(r"<title>(.*?)</title>", html)
    assert title and title_part in title.group(1)
    assert "@page { size: A4 landscape" in html and "@media print" in html
    assert remote_assets(html) == []


def test_commune_page_figures_chart_and_time_slider(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    demo_conn.execute(
        text(
            "INSERT INTO contract_target (territory_code, level, code, target_date, raccordables,"
            " source) VALUES ('46', 'commune', :c, '2020-12-31', 5000, 'test'),"
            " ('46', 'commune', :c, '2022-12-31', 8400, 'test')"
        ),
        {"c": FIGEAC},
    )
    response = demo_client.get(f"/communes/{FIGEAC}")
    assert response.status_code == 200, response.text
    html = response.text
    check_page_shell(html, "Figeac")

    shown = figures(html)
    rows = raccordables(demo_conn, territory="46", levels=("commune", "departement"))
    commune = next(r for r in rows if r["level"] == "commune" and r["code"] == FIGEAC)
    dept = next(r for r in rows if r["level"] == "departement")
    for key in ("logements", "raccordables", "taux"):
        assert shown[key] == (commune[key], dept[key]), key
    # Independently: the current premises of the commune (RIP), straight from the table.
    assert shown["logements"][0] == sql_count(
        demo_conn,
        "SELECT sum(logements) FROM premise WHERE insee = :i AND removed_on IS NULL AND NOT amii",
        i=FIGEAC,
    )
    assert shown["raccordables_demande"] == (
        commune["raccordables_demande"],
        dept["raccordables_demande"],
    )
    # today's objects: every MED cabinet, the bornes in service, the mobile sites that exist
    today = {
        "med": "SELECT count(*) FROM med_site",
        "wifi": "SELECT count(*) FROM wifi_borne WHERE date_mise_en_service <= current_date"
        " AND (date_retrait IS NULL OR date_retrait > current_date)",
        "mobile": "SELECT count(*) FROM mobile_site WHERE LEAST(date_signalement, date_carence,"
        " date_retenue, date_arrete, date_construction, date_mise_en_service) <= current_date"
        " AND (date_abandon IS NULL OR date_abandon > current_date)",
    }
    for key, sql in today.items():
        where = " AND " if " WHERE " in sql else " WHERE "
        mine = sql_count(demo_conn, sql + where + "insee = :i", i=FIGEAC)
        assert shown[key] == (mine, sql_count(demo_conn, sql)), key
    finished = oublies.in_finished_zones(demo_conn, territory="46")
    missing = oublies.missing_from_operator(demo_conn, territory="46")
    assert shown["oublies"] == (
        sum(1 for r in finished + missing if r["insee"] == FIGEAC),
        len(finished) + len(missing),
    )

    # Progress chart: one point per quarter end since 2018 (and today), real targets named.
    svg = re.search(r'<svg [^>]*class="graphique-progression".*?</svg>', html, re.S)
    assert svg is not None
    lines = re.findall(r'<polyline class="serie" data-serie="([^"]+)" points="([^"]+)"', svg[0])
    assert len(lines) == 2
    assert len(lines[0][1].split()) == len(quarter_ends())
    assert lines[1][0] == "Objectif contractuel" and len(lines[1][1].split()) == 2
    assert "<path" not in svg[0]  # the time slider restyles every <path> of the page

    # Time slider: every PM zone serving Figeac, one style per quarter, the last one matching
    # today's completion band of the zone.
    refs = {
        r.pm_reference
        for r in demo_conn.execute(
            text(
                "SELECT DISTINCT pm_reference FROM premise WHERE insee = :i "
                "AND removed_on IS NULL AND pm_reference IS NOT NULL"
            ),
            {"i": FIGEAC},
        )
    }
    styledict = js_object(html, "let styledict = ")
    stamps = js_object(html, "let timestamps = ")
    assert set(styledict) == refs
    assert stamps == [timestamp(d) for d in quarter_ends()]
    today = {r["reference"]: r for r in armoires(demo_conn, territory="46", include_amii=True)}
    for ref in refs:
        assert styledict[ref][stamps[-1]]["color"] == BAND_COLORS[band(today[ref]["taux"])]
    early = {styledict[ref][stamps[0]]["color"] for ref in refs}
    assert early != {BAND_COLORS["100 %"]}  # 2018 was not finished

    # Map: premises drawn (a commune), PM zones with popups.
    layers = geojson_layers(html)
    premises = [
        f
        for layer in layers
        for f in layer["features"]
        if "identifiant_immeuble" in f["properties"]
    ]
    assert len(premises) == sql_count(
        demo_conn, "SELECT count(*) FROM premise WHERE insee = :i AND removed_on IS NULL", i=FIGEAC
    )
    zones = [f for layer in layers for f in layer["features"] if "bande_texte" in f["properties"]]
    assert {f["properties"]["reference"] for f in zones} == refs


def test_epci_page_sums_its_communes(demo_client: TestClient, demo_conn: Connection) -> None:
    response = demo_client.get(f"/epci/{GRAND_FIGEAC}")
    assert response.status_code == 200, response.text
    html = response.text
    check_page_shell(html, "Grand-Figeac")
    shown = figures(html)
    rows = raccordables(demo_conn, territory="46", levels=("epci",))
    epci = next(r for r in rows if r["code"] == GRAND_FIGEAC)
    for key in ("logements", "raccordables", "taux"):
        assert shown[key][0] == epci[key], key
    members = {
        r.insee
        for r in demo_conn.execute(
            text("SELECT insee FROM commune WHERE epci_siren = :s AND territory_code = '46'"),
            {"s": GRAND_FIGEAC},
        )
    }
    per_commune = equity(demo_conn, territory="46")
    assert shown["onereuses"] == (
        sum(r["logements_onereux"] for r in per_commune if r["insee"] in members),
        sum(r["logements_onereux"] for r in per_commune),
    )
    assert shown["onereuses"][0] > 0
    # More than 5 000 premises: zones only, and the page says so.
    assert "la carte montre les zones arrière des PM" in html
    layers = geojson_layers(html)
    assert not any(
        "identifiant_immeuble" in f["properties"] for lay in layers for f in lay["features"]
    )
    assert "Objectif contractuel" not in html  # no contractual target for this EPCI
    assert "let styledict = " in html


def test_index_lists_every_commune_and_epci(demo_client: TestClient, demo_conn: Connection) -> None:
    response = demo_client.get("/communes")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fr">' in html and "<title>" in html
    communes = set(re.findall(r'<tr class="commune"[^>]*>.*?href="/communes/(\d{5})"', html))
    epcis = set(re.findall(r'<tr class="epci"[^>]*>.*?href="/epci/(\d{9})"', html))
    assert len(communes) == 312 and len(epcis) == 10
    expected = {
        r.insee
        for r in demo_conn.execute(text("SELECT insee FROM commune WHERE territory_code='46'"))
    }
    assert communes == expected
    assert re.search(r'<label for="recherche">', html) and 'id="recherche"' in html


def test_unknown_units_are_404_in_french(demo_client: TestClient) -> None:
    for url in ("/communes/99999", "/communes/66136", "/epci/000000000"):
        response = demo_client.get(url)
        assert response.status_code == 404, url
        assert "inconnu" in response.json()["detail"]


def test_technical_map_has_every_zone_with_popups(
    demo_client: TestClient, demo_conn: Connection, demo_tech_headers: dict[str, str]
) -> None:
    assert demo_client.get("/technique").status_code == 401
    response = demo_client.get("/technique", headers=demo_tech_headers)
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fr">' in html and remote_assets(html) == []
    zones = next(
        lay
        for lay in geojson_layers(html)
        if lay["features"] and "bande_texte" in lay["features"][0]["properties"]
    )
    expected = {
        r.reference
        for r in demo_conn.execute(
            text("SELECT reference FROM pm WHERE territory_code='46' AND NOT amii")
        )
    }
    assert len(zones["features"]) == 412
    assert {f["properties"]["reference"] for f in zones["features"]} == expected
    for key in ("nro_code", "logements", "raccordables", "taux_texte", "doe_texte", "date_prevue"):
        assert key in zones["features"][0]["properties"]
    assert 'let aliases = ["Armoire (PM)", "NRO", "Logements", "Raccordables", "Taux"' in html
    for url in ("zones.geojson", "zones.csv", "onereuses.csv", "oublies.csv"):
        assert f"/api/v1/export/{url}" in html


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_exports(
    demo_client: TestClient, demo_conn: Connection, demo_tech_headers: dict[str, str]
) -> None:
    pm_rows = {r["code"]: r for r in raccordables(demo_conn, territory="46", levels=("pm",))}
    zones = read_csv(demo_client.get("/api/v1/export/zones.csv"))
    assert len(zones) == 412
    for row in zones[:20]:
        assert int(row["logements"]) == pm_rows[row["reference"]]["logements"]
        assert float(row["taux"].replace(",", ".")) == pm_rows[row["reference"]]["taux"]

    response = demo_client.get("/api/v1/export/zones.geojson")
    assert response.headers["content-disposition"].startswith("attachment;")
    collection = response.json()
    assert len(collection["features"]) == 412
    assert {f["geometry"]["type"] for f in collection["features"]} <= {"Polygon", "MultiPolygon"}
    assert date.fromisoformat(collection["features"][0]["properties"]["date_prevue"])

    assert demo_client.get("/api/v1/export/onereuses.csv").status_code == 401
    assert demo_client.get("/api/v1/export/oublies.csv").status_code == 401
    expensive = read_csv(demo_client.get("/api/v1/export/onereuses.csv", headers=demo_tech_headers))
    per_commune = equity(demo_conn, territory="46")
    assert sum(int(r["logements"]) for r in expensive) == sum(
        r["logements_onereux"] for r in per_commune
    )
    assert {"identifiant_immeuble", "cout_par_logement", "explication"} <= set(expensive[0])

    forgotten = read_csv(demo_client.get("/api/v1/export/oublies.csv", headers=demo_tech_headers))
    finished = oublies.in_finished_zones(demo_conn, territory="46")
    missing = oublies.missing_from_operator(demo_conn, territory="46")
    assert len(forgotten) == len(finished) + len(missing)
    assert {r["motif"] for r in forgotten} == {"zone_terminee", "absente_du_fichier_operateur"}


def test_non_public_lists_only_for_the_area_s_elu_and_staff(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    """The public page gives counts; the élu of the commune (or of its EPCI) and staff also get
    the addresses of onéreuses, RAD and oubliés and the reports; another commune's élu does not."""
    expensive = onereuses(demo_conn, territory="46")
    insee = Counter(r["insee"] for r in expensive).most_common(1)[0][0]
    address = next(r["adresse"] for r in expensive if r["insee"] == insee)
    epci, other = demo_conn.execute(
        text(
            "SELECT epci_siren, (SELECT min(insee) FROM commune WHERE territory_code = '46' "
            "AND insee <> :c) FROM commune WHERE insee = :c"
        ),
        {"c": insee},
    ).one()
    demo_conn.execute(
        text(
            "INSERT INTO signalement (adresse, insee, territory_code, contact, statut) "
            "VALUES ('9 impasse Témoin', :c, '46', 'temoin@example.org', 'NOUVEAU')"
        ),
        {"c": insee},
    )
    explanation = next(r["explication"] for r in expensive if r["insee"] == insee)
    public = demo_client.get(f"/communes/{insee}").text
    # the building is on the public map as a premise, but nothing says it is expensive
    assert explanation not in public and "impasse Témoin" not in public
    assert "Listes non publiques" not in public and 'href="/connexion"' in public
    viewers = {
        "maire": make_user(demo_conn, "maire", "elu", commune=insee),
        "epci": make_user(demo_conn, "president", "elu", epci=epci),
        "tech": make_user(demo_conn, "agent", "technicien"),
    }
    for who, headers in viewers.items():
        page = demo_client.get(f"/communes/{insee}", headers=headers).text
        assert "Listes non publiques" in page, who
        assert address in page and explanation in page and "impasse Témoin" in page, who
        assert "temoin@example.org" not in page, who
    outsider = make_user(demo_conn, "maire-ailleurs", "elu", commune=other)
    page = demo_client.get(f"/communes/{insee}", headers=outsider).text
    assert explanation not in page and "impasse Témoin" not in page
