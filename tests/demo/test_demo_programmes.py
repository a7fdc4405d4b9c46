"""The demo's programme files (ANFR, ARCEP DCC and sites, park layer, WiFi statistics,
registers) are in their published layouts: each is read back here by an independent reader
(cp1252 and CRLF by hand, DMS converted here and projected with pyproj, `NA`, operator flags)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo_service.analysis.lifecycle import check
from geo_service.analysis.med import check_med
from geo_service.analysis.mobile import mobile_lifecycle
from geo_service.analysis.wifi import check_borne
from geo_service.demo.programme_files import write_programmes
from geo_service.demo.territory import load_territory
from geo_service.reference.sources import read_communes

TODAY = date(2025, 12, 31)  # the demo's "today"
TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
ANFR_HEADERS = {
    "SUP_SUPPORT": "SUP_ID;STA_NM_ANFR;NAT_ID;COR_NB_DG_LAT;COR_NB_MN_LAT;COR_NB_SC_LAT;"
    "COR_CD_NS_LAT;COR_NB_DG_LON;COR_NB_MN_LON;COR_NB_SC_LON;COR_CD_EW_LON;SUP_NM_HAUT;TPO_ID;"
    "ADR_LB_LIEU;ADR_LB_ADD1;ADR_LB_ADD2;ADR_LB_ADD3;ADR_NM_CP;COM_CD_INSEE",
    "SUP_STATION": "STA_NM_ANFR;ADM_ID;DEM_NM_COMSIS;DTE_IMPLANTATION;DTE_MODIF;DTE_EN_SERVICE",
    "SUP_EMETTEUR": "EMR_ID;EMR_LB_SYSTEME;STA_NM_ANFR;AER_ID;EMR_DT_SERVICE",
    "SUP_ANTENNE": "STA_NM_ANFR;AER_ID;TAE_ID;AER_NB_DIMENSION;AER_FG_RAYON;AER_NB_AZIMUT;"
    "AER_NB_ALT_BAS;SUP_ID",
    "SUP_BANDE": "STA_NM_ANFR;BAN_ID;EMR_ID;BAN_NB_F_DEB;BAN_NB_F_FIN;BAN_FG_UNITE",
    "SUP_EXPLOITANT": "ADM_ID;ADM_LB_NOM",
    "SUP_PROPRIETAIRE": "TPO_ID;TPO_LB",
    "SUP_NATURE": "NAT_ID;NAT_LB_NOM",
}
DCC_HEADER = (
    "num_arrete;date_publication_arrete;numero_site;nom_site_operateurs;site_physique;"
    "numero_site_physique;nom_site_arrete;id_dossier;nom_de_la_zone;region;departement;insee_dep;"
    "x_lambert_93;y_lambert_93;20801;20810;20815;20820;op_leader;sites_demandes;sites_mes;"
    "sites_6_mois;sites_6_24_mois;sites_attente_deploiement;origine_zone;num_zone_arrete"
)
SITES_HEADER = (
    "code_op;nom_op;num_site;id_site_partage;id_station_anfr;x;y;latitude;longitude;nom_reg;"
    "nom_dep;insee_dep;nom_com;insee_com;site_2g;site_3g;site_4g;site_5g;mes_4g_trim;site_ZB;"
    "site_DCC;site_strategique;site_capa_240mbps"
)
REGISTER_HEADERS = {
    "sites_mobiles": "code;nom;code_insee;programme;etat;operateurs;date_signalement;"
    "date_carence;date_retenue;date_arrete;num_arrete;date_construction;date_mise_en_service;"
    "date_abandon;anfr;proprietaire;date_fin_iru;renouvellement_iru;date_dernier_controle;"
    "opposition;longitude;latitude",
    "bornes_wifi": "code;nom;code_insee;adresse;emplacement;rayon_m;operateur;contrat;"
    "date_deliberation;date_programmation;date_installation;date_mise_en_service;"
    "date_fin_contrat;date_retrait;longitude;latitude",
    "sites_med": "code;nom;code_insee;nra;foyers;date_alimentation;date_enedis;"
    "date_reception_dalle;date_pose_armoire;date_recette;date_reception_orange;date_ouverture;"
    "cause_blocage;longitude;latitude",
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("programmes46")
    _, truth = write_programmes(load_territory("46"), out, 46)
    return out, truth


@pytest.fixture(scope="module")
def lot() -> shapely.Geometry:
    communes = read_communes("46").to_crs(2154)
    return shapely.union_all(communes.geometry.values)


@pytest.fixture(scope="module")
def anfr(written) -> dict[str, list[dict[str, str]]]:
    """The ANFR tables decoded by hand: cp1252, CRLF, ';'."""
    (path,) = (written[0] / "anfr").glob("*.zip")
    tables = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            raw = archive.read(name)
            assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
            lines = raw.decode("cp1252").split("\r\n")[:-1]
            header = lines[0].split(";")
            tables[name.removesuffix(".txt")] = [
                dict(zip(header, line.split(";"), strict=True)) for line in lines[1:]
            ]
    return tables


def _rows(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding)), delimiter=";"))


def _degrees(dg: str, mn: str, sc: str, hemisphere: str) -> float:
    value = int(dg) + int(mn) / 60 + int(sc) / 3600
    return -value if hemisphere in ("S", "W") else value


def test_anfr_extract_is_the_monthly_export_layout(written, anfr) -> None:
    (path,) = (written[0] / "anfr").glob("*.zip")
    assert re.fullmatch(r"\d{8}-export-etalab-data\.zip", path.name)
    with zipfile.ZipFile(path) as archive:
        raw = {n: archive.read(n) for n in archive.namelist()}
    for table, header in ANFR_HEADERS.items():
        assert raw[f"{table}.txt"].split(b"\r\n", 1)[0].decode("cp1252") == header
    # cp1252 bytes (ô of "Pylône" is 0xF4), not UTF-8
    assert b"Pyl\xf4ne" in raw["SUP_NATURE.txt"]
    assert all(re.fullmatch(r"\d+,\d|\d+", r["SUP_NM_HAUT"]) for r in anfr["SUP_SUPPORT"])
    assert any("," in r["SUP_NM_HAUT"] for r in anfr["SUP_SUPPORT"])
    jjmmaaaa = re.compile(r"\d{2}/\d{2}/\d{4}")
    assert all(jjmmaaaa.fullmatch(r["DTE_IMPLANTATION"]) for r in anfr["SUP_STATION"])
    served = [r["EMR_DT_SERVICE"] for r in anfr["SUP_EMETTEUR"]]
    assert all(d == "" or jjmmaaaa.fullmatch(d) for d in served) and "" in served
    # every code cited has its label in the reference tables
    for table, column, ref, key in (
        ("SUP_SUPPORT", "NAT_ID", "SUP_NATURE", "NAT_ID"),
        ("SUP_SUPPORT", "TPO_ID", "SUP_PROPRIETAIRE", "TPO_ID"),
        ("SUP_STATION", "ADM_ID", "SUP_EXPLOITANT", "ADM_ID"),
    ):
        assert {r[column] for r in anfr[table]} <= {r[key] for r in anfr[ref]}
    labels = {r["ADM_LB_NOM"] for r in anfr["SUP_EXPLOITANT"]}
    assert {"ORANGE", "SFR", "FREE MOBILE", "BOUYGUES TELECOM"} <= labels
    stations = {r["STA_NM_ANFR"] for r in anfr["SUP_STATION"]}
    assert 250 <= len(stations) <= 600
    assert {r["STA_NM_ANFR"] for r in anfr["SUP_EMETTEUR"]} <= stations


def test_anfr_positions_in_dms_and_the_stations_outside(written, anfr, lot) -> None:
    intended = written[1]["anfr"]["supports"]
    outside, outside_filed_46 = set(), set()
    for r in anfr["SUP_SUPPORT"]:
        assert r["COR_CD_NS_LAT"] in "NS" and r["COR_CD_EW_LON"] in "EW"
        lat = _degrees(
            r["COR_NB_DG_LAT"], r["COR_NB_MN_LAT"], r["COR_NB_SC_LAT"], r["COR_CD_NS_LAT"]
        )
        lon = _degrees(
            r["COR_NB_DG_LON"], r["COR_NB_MN_LON"], r["COR_NB_SC_LON"], r["COR_CD_EW_LON"]
        )
        x, y = TO_L93.transform(lon, lat)
        ix, iy = intended[r["STA_NM_ANFR"]]
        assert ((x - ix) ** 2 + (y - iy) ** 2) ** 0.5 < 32  # one arc-second of rounding
        if not lot.contains(shapely.Point(x, y)):
            outside.add(r["STA_NM_ANFR"])
            if r["COM_CD_INSEE"].startswith("46"):
                outside_filed_46.add(r["STA_NM_ANFR"])
    assert 3 <= len(outside) <= 8 and len(outside_filed_46) == 1
    assert outside == set(written[1]["anfr"]["stations_hors_territoire"])


def test_dcc_file_as_arcep_publishes_it(written, anfr, lot) -> None:
    path = written[0] / "arcep" / "2025_T4_dcc_Metropole_sites.csv"
    raw = path.read_bytes()
    assert raw.split(b"\n", 1)[0].decode() == DCC_HEADER and b"\r" not in raw
    rows = _rows(path)
    assert any(v == "NA" for r in rows for v in r.values())
    for r in rows:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["date_publication_arrete"])
        flags = [r[c] for c in ("20801", "20810", "20815", "20820")]
        assert set(flags) <= {"0", "1"} and r[r["op_leader"]] == "1"
        status = [
            r[c]
            for c in ("sites_mes", "sites_6_mois", "sites_6_24_mois", "sites_attente_deploiement")
        ]
        assert sorted(status) == ["0", "0", "0", "1"]
    inside = [
        lot.contains(shapely.Point(float(r["x_lambert_93"]), float(r["y_lambert_93"])))
        for r in rows
    ]
    deps = [set(re.split(r"[,\s]+", r["insee_dep"])) for r in rows]
    assert all(ok == ("46" in d) for ok, d in zip(inside, deps, strict=True))
    assert sum("46" not in d for d in deps) == 3  # the neighbour's rows, left out by the import
    assert sum(len(d) == 2 and "46" in d for d in deps) == 1  # one site under two départements
    per_year: dict[str, int] = {}
    for r, ok in zip(rows, inside, strict=True):
        per_year[r["date_publication_arrete"][:4]] = (
            per_year.get(r["date_publication_arrete"][:4], 0) + ok
        )
    assert all(9 <= per_year[str(y)] <= 13 for y in range(2018, 2023))


def test_sites_file_links_part_of_the_new_deal_sites(written, anfr) -> None:
    path = written[0] / "arcep" / "2025_T4_sites_Metropole.csv"
    assert path.read_bytes().split(b"\n", 1)[0].decode() == SITES_HEADER
    rows = _rows(path)
    stations = {r["STA_NM_ANFR"]: r["ADM_ID"] for r in anfr["SUP_STATION"]}
    assert {r["id_station_anfr"] for r in rows} <= set(stations)
    dcc = _rows(written[0] / "arcep" / "2025_T4_dcc_Metropole_sites.csv")
    served = {r["nom_site_operateurs"] for r in dcc if r["sites_mes"] == "1"}
    shared = {r["id_site_partage"] for r in rows if r["site_DCC"] == "1"}
    assert shared < served and len(shared) >= len(served) // 3  # a part, the rest by proximity
    for r in rows:
        x, y = TO_L93.transform(float(r["longitude"]), float(r["latitude"]))
        assert abs(x - float(r["x"])) < 2 and abs(y - float(r["y"])) < 2


def test_park_layer_as_inpn_publishes_it(written, lot) -> None:
    data = json.loads((written[0] / "couches" / "pnr.geojson").read_text("utf-8"))
    (feature,) = data["features"]
    assert (
        feature["properties"]["id_mnhn"]
        and feature["properties"]["nom_site"] == "Causses du Quercy"
    )
    park = shapely.geometry.shape(feature["geometry"])
    minx, miny, maxx, maxy = park.bounds
    assert 1.0 < minx < maxx < 2.3 and 44.2 < miny < maxy < 45.1  # degrees, not metres
    in_l93 = shapely.transform(
        park, lambda xy: np.column_stack(TO_L93.transform(xy[:, 0], xy[:, 1]))
    )
    assert 1000e6 < in_l93.area < 2500e6 and in_l93.difference(lot).area < 1e6
    centre = in_l93.centroid  # north-centre / east of the Lot
    lot_centre = lot.centroid
    assert centre.x > lot_centre.x and abs(centre.y - lot_centre.y) < 30_000


def test_wifi_statistics_layout(written) -> None:
    path = next((written[0] / "wifi").glob("*.csv"))
    assert path.read_text("utf-8").split("\n", 1)[0] == "borne;mois;sessions;utilisateurs"
    rows = _rows(path)
    bornes = {r["code"]: r for r in _rows(written[0] / "registres" / "bornes_wifi.csv")}
    for r in rows:
        assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", r["mois"])
        borne = bornes[r["borne"]]
        assert borne["date_mise_en_service"][:7] < r["mois"] <= "2025-12"
        assert borne["date_retrait"] == "" or r["mois"] <= borne["date_retrait"][:7]
        assert int(r["sessions"]) >= int(r["utilisateurs"]) > 0
    assert len({r["borne"] for r in rows}) == len(bornes)


def _dates(row: dict[str, str]) -> dict[str, object]:
    return {
        k: (date.fromisoformat(v) if k.startswith("date_") and v else v or None)
        for k, v in row.items()
    }


def test_registers_columns_and_lifecycles(written) -> None:
    out = written[0] / "registres"
    for name, header in REGISTER_HEADERS.items():
        assert (out / f"{name}.csv").read_text("utf-8").split("\n", 1)[0] == header
    dcc = {
        r["numero_site"]: date.fromisoformat(r["date_publication_arrete"])
        for r in _rows(written[0] / "arcep" / "2025_T4_dcc_Metropole_sites.csv")
    }
    sites = _rows(out / "sites_mobiles.csv")
    listed = [r for r in sites if r["code"] in dcc]
    # what the public files hold (arrêté, operators, service date) is left to them
    assert len(listed) == len(dcc) - 3
    assert not any(r["date_arrete"] or r["date_mise_en_service"] or r["operateurs"] for r in listed)
    for row in sites:
        values = _dates(row)
        values["date_arrete"] = values["date_arrete"] or (dcc.get(row["code"]))
        problems = check(mobile_lifecycle(row["programme"]), values, TODAY)
        assert problems == [], (row["code"], problems)
    for row in _rows(out / "bornes_wifi.csv"):
        assert check_borne(_dates(row), TODAY) == [], row["code"]
    for row in _rows(out / "sites_med.csv"):
        assert check_med(_dates(row), TODAY) == [], row["code"]


def test_same_seed_same_bytes(written, tmp_path: Path) -> None:
    territory = load_territory("46")
    files, truth = write_programmes(territory, tmp_path, 46)
    assert truth == written[1]
    for path in files:
        assert path.read_bytes() == (written[0] / path.relative_to(tmp_path)).read_bytes()
