"""The programmes' API on the demo Lot: GeoJSON lists with their filters as of a date, one object
with its history (who changed it for signed-in users only), the indicators of a unit beside the
département's, and French 4xx answers for bad parameters. Expected figures come from SQL
written here, not from the analysis code."""

from __future__ import annotations

from datetime import date
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from tests.api.test_cache_shared import empty_shared_cache  # noqa: F401  (fixture)

AS_OF = date(2023, 6, 30)


def _sql_count(conn: Connection, sql: str, **params: object) -> int:
    return int(conn.execute(text(sql), {"as_of": AS_OF, **params}).scalar_one())


def test_mobile_sites_as_of_a_date_and_the_late_ones(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    existing = _sql_count(
        demo_conn,
        "SELECT count(*) FROM mobile_site s JOIN commune c ON c.insee = s.insee"
        " WHERE c.territory_code = '46' AND LEAST(s.date_signalement, s.date_carence,"
        " s.date_retenue, s.date_arrete, s.date_construction, s.date_mise_en_service,"
        " s.date_abandon) <= :as_of",
    )
    late = _sql_count(
        demo_conn,
        "SELECT count(*) FROM mobile_site s JOIN commune c ON c.insee = s.insee"
        " WHERE c.territory_code = '46' AND s.date_arrete + interval '24 months' < :as_of"
        " AND (s.date_mise_en_service IS NULL OR s.date_mise_en_service > :as_of)"
        " AND (s.date_abandon IS NULL OR s.date_abandon > :as_of)",
    )
    every = demo_client.get("/api/v1/sites-mobiles", params={"as_of": AS_OF.isoformat()})
    assert every.status_code == 200
    body = every.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == existing > 0
    lon, lat = body["features"][0]["geometry"]["coordinates"]
    assert 0.9 < lon < 2.3 and 44.1 < lat < 45.1  # WGS84, inside the Lot
    behind = demo_client.get(
        "/api/v1/sites-mobiles", params={"as_of": AS_OF.isoformat(), "en_retard": "true"}
    ).json()["features"]
    assert len(behind) == late > 0
    for feature in behind:
        props = feature["properties"]
        assert props["etat"] != "EN_SERVICE"
        assert date.fromisoformat(props["echeance"]) < AS_OF and props["mois_retard"] >= 0


def test_filters_keep_only_what_was_asked(demo_client: TestClient, demo_conn: Connection) -> None:
    insee = demo_conn.execute(
        text("SELECT insee FROM wifi_borne GROUP BY insee ORDER BY count(*) DESC, insee LIMIT 1")
    ).scalar_one()
    bornes = demo_client.get("/api/v1/bornes-wifi", params={"commune": insee}).json()["features"]
    assert bornes and {f["properties"]["insee"] for f in bornes} == {insee}
    in_service = demo_client.get(
        "/api/v1/sites-mobiles", params={"programme": "new_deal", "etat": "EN_SERVICE"}
    ).json()["features"]
    assert in_service
    assert {(f["properties"]["programme"], f["properties"]["etat"]) for f in in_service} == {
        ("NEW_DEAL", "EN_SERVICE")
    }
    opened = demo_client.get("/api/v1/med", params={"as_of": "2018-12-31"}).json()["features"]
    expected_open = _sql_count(
        demo_conn,
        "SELECT count(*) FROM med_site m JOIN commune c ON c.insee = m.insee"
        " WHERE c.territory_code = '46' AND m.date_ouverture <= :as_of",
        as_of=date(2018, 12, 31),
    )
    assert sum(1 for f in opened if f["properties"]["etat"] == "OUVERT") == expected_open


def test_one_object_with_its_history_private_fields_for_staff_only(
    demo_client: TestClient, demo_conn: Connection, demo_tech_headers: dict[str, str]
) -> None:
    code = demo_conn.execute(
        text(
            "SELECT s.code FROM mobile_site s WHERE s.opposition IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM asset_change a WHERE a.table_name = 'mobile_site'"
            " AND a.object_key = s.code) ORDER BY s.code LIMIT 1"
        )
    ).scalar_one()
    public = demo_client.get(f"/api/v1/sites-mobiles/{code}")
    assert public.status_code == 200
    props = public.json()["properties"]
    assert props["code"] == code and props["historique"]
    assert "opposition" not in props
    assert all("changed_by" not in h for h in props["historique"])
    staff = demo_client.get(f"/api/v1/sites-mobiles/{code}", headers=demo_tech_headers).json()
    assert staff["properties"]["opposition"]
    assert all(h["changed_by"] for h in staff["properties"]["historique"])
    for path in ("/api/v1/sites-mobiles/", "/api/v1/bornes-wifi/", "/api/v1/med/"):
        missing = demo_client.get(path + "INCONNU-0")
        assert missing.status_code == 404 and "inconnu" in missing.json()["detail"]


def test_indicators_of_a_commune_beside_the_departement(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    insee = demo_conn.execute(
        text("SELECT insee FROM med_site GROUP BY insee ORDER BY count(*) DESC, insee LIMIT 1")
    ).scalar_one()
    answer = demo_client.get(
        "/api/v1/stats/programmes",
        params={"level": "commune", "code": insee, "as_of": AS_OF.isoformat()},
    )
    assert answer.status_code == 200
    figures = answer.json()
    med_here = _sql_count(demo_conn, "SELECT count(*) FROM med_site WHERE insee = :i", i=insee)
    med_all = _sql_count(
        demo_conn,
        "SELECT count(*) FROM med_site m JOIN commune c ON c.insee = m.insee"
        " WHERE c.territory_code = '46'",
    )
    assert figures["resume"]["sites_med"] == med_here > 0
    assert figures["departement"]["sites_med"] == med_all > med_here
    listed = demo_client.get(
        "/api/v1/bornes-wifi",
        params={"commune": insee, "as_of": AS_OF.isoformat(), "etat": "EN_SERVICE"},
    ).json()["features"]
    assert figures["resume"]["bornes_wifi_en_service"] == len(listed)


def test_bad_parameters_get_a_french_4xx(demo_client: TestClient) -> None:
    cases = [
        ("/api/v1/sites-mobiles", {"etat": "PARTI"}),
        ("/api/v1/sites-mobiles", {"programme": "X" * 20}),
        ("/api/v1/sites-mobiles", {"as_of": "1800-01-01"}),
        ("/api/v1/bornes-wifi", {"commune": "ABCDE"}),
        ("/api/v1/med", {"as_of": "pas-une-date"}),
        ("/api/v1/stats/programmes", {"level": "region"}),
        ("/api/v1/stats/programmes", {"level": "commune", "code": "99999"}),
        ("/api/v1/stats/programmes", {"level": "epci"}),
    ]
    for path, params in cases:
        answer = demo_client.get(path, params=params)
        assert 400 <= answer.status_code < 500, (path, params, answer.status_code)
        assert answer.json()["detail"], (path, params)


def test_elu_page_has_the_programmes_section_with_the_late_sites(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    today = date.today()
    late = demo_conn.execute(
        text(
            "SELECT s.insee, s.nom FROM mobile_site s"
            " WHERE s.date_arrete + interval '24 months' < :d"
            " AND (s.date_mise_en_service IS NULL OR s.date_mise_en_service > :d)"
            " AND (s.date_abandon IS NULL OR s.date_abandon > :d) ORDER BY s.code LIMIT 1"
        ),
        {"d": today},
    ).one()
    page = demo_client.get(f"/communes/{late.insee}")
    assert page.status_code == 200
    html = unescape(page.text)
    assert "Mobile, WiFi, montée en débit et cuivre" in html
    section = html[html.index('id="titre-programmes"') :]
    assert "Sites en retard sur l'échéance légale" in section
    late_table = section[: section.index("</table>", section.index("Sites en retard"))]
    assert late.nom in late_table and " mois</td>" in late_table
    assert "Département</th>" in section


def test_public_map_marks_late_sites_and_the_park(demo_client: TestClient) -> None:
    html = demo_client.get("/").text
    assert "Sites mobiles en retard" in html
    assert "Parc naturel r" in html  # the layer's name (accents may be escaped in the script)
    assert "en retard de" in html  # the tooltip says by how many months


def test_quand_gives_the_nearby_programmes_of_the_territory(
    demo_client: TestClient, demo_conn: Connection
) -> None:
    borne = demo_conn.execute(
        text(
            "SELECT b.nom, b.rayon_m, ST_Y(ST_Transform(b.geom, 4326)) AS lat,"
            " ST_X(ST_Transform(b.geom, 4326)) AS lon FROM wifi_borne b"
            " WHERE b.date_mise_en_service <= current_date"
            " AND (b.date_retrait IS NULL OR b.date_retrait > current_date)"
            " ORDER BY b.code LIMIT 1"
        )
    ).one()
    answer = demo_client.get("/api/v1/quand", params={"lat": borne.lat, "lon": borne.lon})
    assert answer.status_code == 200
    near = answer.json()["a_proximite"]
    # a borne in service at this very point (another one may share the mairie's position)
    assert near["wifi"]["distance_m"] <= 1 and near["wifi"]["couvert"] is True
    assert near["mobile"]["etat"] and "echeance" in near["mobile"] and "en_retard" in near["mobile"]


def test_elu_page_shows_the_copper_switch_off_calendar(
    empty_shared_cache: Engine,  # noqa: F811 — the page is rendered from this test's data, not an earlier one
    demo_client: TestClient,
    demo_conn: Connection,
) -> None:
    insee = demo_conn.execute(
        text(
            "SELECT c.insee FROM commune c WHERE c.territory_code = '46' AND NOT c.amii"
            " ORDER BY c.insee DESC LIMIT 1"
        )
    ).scalar_one()
    demo_conn.execute(
        text(
            "INSERT INTO fermeture_cuivre (territory_code, immeuble_id, num_lot_fz,"
            " fermeture_technique, fermeture_com_zone, code_insee) VALUES"
            " ('46', 'IMB/TEST/CUIVRE/1', 'LOT-46-07', '2029-11-30', '2028-01-31', :i)"
        ),
        {"i": insee},
    )
    html = unescape(demo_client.get(f"/communes/{insee}").text)
    section = html[html.index("Fermeture du réseau cuivre") :]
    assert "LOT-46-07" in section and "31/01/2028" in section and "30/11/2029" in section
