"""The demo generator's files, checked by reading them back independently (pandas / geopandas)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_service.demo.generate import generate_demo
from geo_service.reference.sources import read_communes

DEP = "46"
IPE_COLUMNS = (
    "IdentifiantImmeuble;CodeAdresseImmeuble;CodeInseeImmeuble;CodePostalImmeuble;CommuneImmeuble;"
    "NumeroVoieImmeuble;ComplementNumeroVoieImmeuble;TypeVoieImmeuble;NomVoieImmeuble;"
    "BatimentImmeuble;CoordonneeImmeubleX;CoordonneeImmeubleY;TypeProjectionGeographique;"
    "NombreLogementsAdresseIPE;NombreLocauxProfessionnels;EtatImmeuble;DateSignatureConvention;"
    "AccordGestionnaireImmeuble;ReferencePM;EtatPM;DateInstallationPM;TypePBO;TypeRaccoPBPTO;"
    "RaccordementLong;CodeOI;DateMiseEnServiceCommercialeImmeuble"
).split(";")
ETATS = {
    "CIBLE",
    "SIGNE",
    "EN COURS DE DEPLOIEMENT",
    "DEPLOYE",
    "ABANDONNE",
    "RACCORDABLE DEMANDE",
    "RAD EN COURS DE DEPLOIEMENT",
}
RAD_STATES = {"RACCORDABLE DEMANDE", "RAD EN COURS DE DEPLOIEMENT"}
NOT_YET = {"CIBLE", "SIGNE", "EN COURS DE DEPLOIEMENT"}
GRAND_CAHORS, CAHORS = "200023737", "46042"
AMII_LIST = Path(__file__).resolve().parents[2] / "data" / "territories" / DEP / "amii_communes.csv"


def _quarter_ends() -> list[str]:
    dates = [f"{y}-{md}" for y in range(2018, 2026) for md in ("03-31", "06-30", "09-30", "12-31")]
    return sorted(dates + ["2018-07-31", "2022-03-17"])


@pytest.fixture(scope="module")
def demo(demo_folder: Path) -> tuple[Path, dict]:
    """The suite's demo Lot, seed 46 (written once per generator version: tests/conftest.py's
    demo_files), and its manifest."""
    return demo_folder, json.loads((demo_folder / "manifest.json").read_text(encoding="utf-8"))


def _read(path: Path, **kwargs) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8", **kwargs)


@pytest.fixture(scope="module")
def snapshots(demo) -> dict[str, pd.DataFrame]:
    out, _ = demo
    columns = [
        "IdentifiantImmeuble",
        "CodeAdresseImmeuble",
        "CodeInseeImmeuble",
        "NombreLogementsAdresseIPE",
        "EtatImmeuble",
        "ReferencePM",
        "DateInstallationPM",
    ]
    frames = {}
    for d in _quarter_ends():
        frame = _read(out / "ipe" / f"IPE_ALLF_{DEP}_{d.replace('-', '')}.csv.gz", usecols=columns)
        frame["logements"] = frame["NombreLogementsAdresseIPE"].astype(int)
        frames[d] = frame
    return frames


@pytest.fixture(scope="module")
def communes() -> gpd.GeoDataFrame:
    return read_communes(DEP).drop(columns=["mairie"]).to_crs(2154)


@pytest.fixture(scope="module")
def gpkg(demo) -> dict[str, gpd.GeoDataFrame]:
    path = demo[0] / "gracethd" / f"gracethd_{DEP}.gpkg"
    return {layer: gpd.read_file(path, layer=layer) for layer in ("t_znro", "t_zsro", "t_sitetech")}


@pytest.fixture(scope="module")
def last(demo) -> pd.DataFrame:
    return _read(demo[0] / "ipe" / f"IPE_ALLF_{DEP}_20251231.csv.gz")


@pytest.fixture(scope="module")
def expensive(demo) -> pd.DataFrame:
    return _read(demo[0] / "onereuses" / "prises_cheres_ALLF_20220215.csv")


def _deployed(frame: pd.DataFrame) -> pd.Series:
    return frame["EtatImmeuble"] == "DEPLOYE"


def test_manifest_lists_every_file_with_its_checksum(demo) -> None:
    out, manifest = demo
    assert manifest["snapshot_dates"] == _quarter_ends()
    paths = {f["path"] for f in manifest["files"]}
    expected = {f"ipe/IPE_ALLF_{DEP}_{d.replace('-', '')}.csv.gz" for d in _quarter_ends()} | {
        f"ipe_amii/IPE_OORA_{DEP}_20191231.csv.gz",
        f"gracethd/gracethd_{DEP}.gpkg",
        "registres/sites_mobiles.csv",
        "registres/bornes_wifi.csv",
        "registres/sites_med.csv",
        "anfr/20251231-export-etalab-data.zip",
        "arcep/2025_T4_dcc_Metropole_sites.csv",
        "arcep/2025_T4_sites_Metropole.csv",
        "couches/pnr.geojson",
        "wifi/stats_wifi_20251231.csv",
        "onereuses/prises_cheres_ALLF_20220215.csv",
        f"reference/adresses_{DEP}.csv",
        f"exploitation/abonnes_{DEP}.csv",
        f"exploitation/controles_pm_{DEP}_2023.csv",
        "exploitation/controles_pm_dsp_2023.csv",
        f"exploitation/echanges_frontaliers_{DEP}.csv",
        f"exploitation/incidents_{DEP}_2023.csv",
        "exploitation/incidents_dsp_2023.csv",
    }
    assert paths == expected
    for f in manifest["files"]:
        assert hashlib.sha256((out / f["path"]).read_bytes()).hexdigest() == f["sha256"]
    assert json.loads((out / "manifest.json").read_text("utf-8")) == manifest


def test_ipe_format(demo, last, gpkg) -> None:
    raw = gzip.decompress((demo[0] / "ipe" / f"IPE_ALLF_{DEP}_20251231.csv.gz").read_bytes())
    text = raw.decode("utf-8")
    assert "\r" not in text and text.endswith("\n")
    assert text.split("\n", 1)[0].split(";") == IPE_COLUMNS
    assert list(last.columns) == IPE_COLUMNS
    ids = last["IdentifiantImmeuble"]
    assert ids.is_unique and ids.tolist() == sorted(ids)
    assert ids.str.fullmatch(r"IMB/46\d{3}/[A-Z]/[0-9A-Z]{4}").all()
    assert (ids.str[4:9] == last["CodeInseeImmeuble"]).all()
    codes = last["CodeAdresseImmeuble"]
    assert codes.is_unique and codes.str.fullmatch(r"46\d{3}_\d{4}_\d{5}(_(bis|ter))?").all()
    assert (codes.str[:5] == last["CodeInseeImmeuble"]).all()
    assert last["CodePostalImmeuble"].str.fullmatch(r"46\d{3}").all()
    assert last["CoordonneeImmeubleX"].str.fullmatch(r"\d{6}\.\d{2}").all()
    assert (last["TypeProjectionGeographique"] == "L93").all()
    assert (last["CodeOI"] == "ALLF").all()
    assert set(last["EtatImmeuble"]) <= ETATS
    assert set(last["EtatPM"]) <= {"PLANIFIE", "EN COURS DE DEPLOIEMENT", "DEPLOYE", "ABANDONNE"}
    assert set(last["TypePBO"]) <= {"APPUI", "CHAMBRE", "FACADE", "IMMEUBLE", ""}
    assert set(last["TypeRaccoPBPTO"]) <= {"AERIEN", "SOUTERRAIN", "FACADE", ""}
    assert set(last["RaccordementLong"]) <= {"O", "N", ""}
    assert set(last["AccordGestionnaireImmeuble"]) <= {"O", "N", ""}
    for column in (
        "DateSignatureConvention",
        "DateInstallationPM",
        "DateMiseEnServiceCommercialeImmeuble",
    ):
        assert last[column].str.fullmatch(r"(\d{4}-\d{2}-\d{2})?").all()
    deployed = _deployed(last)
    assert (last.loc[deployed, "DateMiseEnServiceCommercialeImmeuble"] != "").all()
    assert (last.loc[~deployed, "DateMiseEnServiceCommercialeImmeuble"] == "").all()
    rip_refs = set(gpkg["t_zsro"].query("zs_amii == 'N'")["zs_refpm"])
    assert set(last["ReferencePM"]) == rip_refs


def test_every_snapshot_lists_the_same_buildings(snapshots) -> None:
    first = snapshots["2018-03-31"]["IdentifiantImmeuble"]
    for frame in snapshots.values():
        assert frame["IdentifiantImmeuble"].equals(first)


def test_counts_match_the_lot(last, demo) -> None:
    logements = last["NombreLogementsAdresseIPE"].astype(int).sum()
    pro = last["NombreLocauxProfessionnels"].astype(int).sum()
    assert 90_000 <= len(last) <= 110_000
    assert abs(logements - 116_000) / 116_000 < 0.02
    assert abs(logements + pro - 130_000) / 130_000 < 0.03
    amii = _read(demo[0] / "ipe_amii" / f"IPE_OORA_{DEP}_20191231.csv.gz")
    assert (amii["EtatImmeuble"] == "DEPLOYE").all() and (amii["CodeOI"] == "OORA").all()
    assert amii["ReferencePM"].str.fullmatch(rf"{DEP}ORC\d{{2}}").all()
    assert not set(amii["CodeInseeImmeuble"]) & set(last["CodeInseeImmeuble"])
    assert (amii["DateInstallationPM"] >= "2016-01-01").all()
    assert (amii["DateInstallationPM"] <= "2019-12-31").all()


def test_amii_list_is_cahors_and_its_29_nearest_neighbours(communes, last, demo) -> None:
    with AMII_LIST.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    listed = {r["insee"] for r in rows}
    reference = read_communes(DEP)
    grand_cahors = reference[reference["epci_siren"] == GRAND_CAHORS]
    mairies = gpd.GeoSeries(grand_cahors["mairie"].values, crs=4326).to_crs(2154)
    cahors = mairies[(grand_cahors["insee"] == CAHORS).to_numpy()].iloc[0]
    nearest = grand_cahors.assign(d=mairies.distance(cahors).to_numpy()).nsmallest(30, "d")
    assert listed == set(nearest["insee"]) and CAHORS in listed and len(rows) == 30
    amii = _read(demo[0] / "ipe_amii" / f"IPE_OORA_{DEP}_20191231.csv.gz")
    assert set(amii["CodeInseeImmeuble"]) == listed
    assert not listed & set(last["CodeInseeImmeuble"])


def test_lot_facts_timeline(snapshots, expensive) -> None:
    def installed(d: str) -> int:
        f = snapshots[d]
        return f.loc[
            (f["DateInstallationPM"] != "") & (f["DateInstallationPM"] <= d), "ReferencePM"
        ].nunique()

    def logements_deployed(d: str) -> int:
        f = snapshots[d]
        return int(f.loc[_deployed(f), "logements"].sum())

    def rate(d: str) -> float:
        return logements_deployed(d) / snapshots[d]["logements"].sum()

    july = snapshots["2018-07-31"]
    assert abs(installed("2018-07-31") - 40) <= 5
    assert abs(july.loc[_deployed(july), "ReferencePM"].nunique() - 20) <= 5
    assert abs(installed("2018-12-31") - 73) <= 7
    assert abs(int(_deployed(snapshots["2018-12-31"]).sum()) - 5000) <= 500
    assert abs(logements_deployed("2019-12-31") - 35_000) <= 3_500
    assert abs(logements_deployed("2021-12-31") - 82_700) <= 0.01 * 82_700
    march = snapshots["2022-03-17"]
    assert abs(rate("2022-03-17") - 0.75) <= 0.03
    per_pm = (
        march.assign(done=march["logements"] * _deployed(march))
        .groupby("ReferencePM")[["done", "logements"]]
        .sum()
    )
    assert len(per_pm) == 412
    assert abs(int((per_pm["done"] > 0.95 * per_pm["logements"]).sum()) - 208) <= 3
    assert installed("2023-12-31") == 412
    assert abs(rate("2024-12-31") - 0.99) <= 0.02
    listed = set(expensive["IdentifiantImmeuble"])
    end_2024 = snapshots["2024-12-31"]
    pending = end_2024[end_2024["IdentifiantImmeuble"].isin(listed) & ~_deployed(end_2024)]
    assert abs(pending["logements"].sum() - 1050) <= 0.05 * 1050
    end = snapshots["2025-12-31"]
    assert abs(end.loc[end["EtatImmeuble"].isin(NOT_YET), "logements"].sum() - 200) <= 10
    assert abs(end.loc[end["EtatImmeuble"].isin(RAD_STATES), "logements"].sum() - 870) <= 43
    assert 0 < (end["EtatImmeuble"] == "ABANDONNE").sum() < 50


def test_expensive_list(expensive, snapshots) -> None:
    assert list(expensive.columns) == [
        "IdentifiantImmeuble",
        "CodeInseeImmeuble",
        "NombreLogements",
        "Motif",
        "CoutEstimeEuros",
    ]
    assert abs(expensive["NombreLogements"].astype(int).sum() - 4600) <= 230
    assert set(expensive["Motif"]) <= {
        "Distance au réseau",
        "Génie civil à créer",
        "Habitat isolé",
        "Traversée de voie",
    }
    assert (expensive["CoutEstimeEuros"].astype(int) > 0).all()
    march = snapshots["2022-03-17"]
    listed = march[march["IdentifiantImmeuble"].isin(expensive["IdentifiantImmeuble"])]
    assert len(listed) == len(expensive) and not _deployed(listed).any()
    # concentrated in the plaques deployed last
    pm_dates = snapshots["2025-12-31"].groupby("ReferencePM")["DateInstallationPM"].first()
    listed_dates = pd.to_datetime(pm_dates[listed["ReferencePM"]])
    assert listed_dates.median() > pd.to_datetime(pm_dates).quantile(0.75)


def test_pm_zones_partition_the_rip(gpkg, communes) -> None:
    zsro, znro, sites = gpkg["t_zsro"], gpkg["t_znro"], gpkg["t_sitetech"]
    assert zsro.crs.to_epsg() == 2154
    rip = zsro[zsro["zs_amii"] == "N"]
    assert len(rip) == 412 and rip["zs_refpm"].is_unique
    assert rip["zs_refpm"].str.fullmatch(rf"{DEP}[A-Z]{{3}}\d{{2}}").all()
    assert shapely.is_valid(rip.geometry.values).all()
    amii_codes = set(_read(AMII_LIST)["insee"])
    rip_area = shapely.union_all(communes[~communes["insee"].isin(amii_codes)].geometry.values)
    union = shapely.union_all(rip.geometry.values)
    assert abs(rip.geometry.area.sum() - union.area) / union.area < 1e-6  # no overlaps
    assert shapely.symmetric_difference(union, rip_area).area / rip_area.area < 0.01
    assert (shapely.get_num_geometries(rip.geometry.values) == 1).mean() > 0.95  # contiguous
    assert rip["zs_nblogmt"].between(200, 400).mean() > 0.97
    assert set(zsro["zs_zn_code"]) <= set(znro["zn_code"])
    for zn_code, members in zsro.groupby("zs_zn_code"):
        nro_zone = znro.loc[znro["zn_code"] == zn_code].geometry.iloc[0]
        merged = shapely.union_all(members.geometry.values)
        assert shapely.symmetric_difference(merged, nro_zone).area < 1e-6 * nro_zone.area + 1
    amii = zsro[zsro["zs_amii"] == "O"]
    assert 15 <= len(amii) <= 25 and amii["zs_refpm"].str.fullmatch(rf"{DEP}ORC\d{{2}}").all()
    assert set(amii["zs_etatpm"]) == {"DEPLOYE"}
    assert (amii["zs_dateins"] <= "2019-12-31").all() and (amii["zs_dateins"] >= "2016-01-01").all()
    armoires = sites[sites["st_typelog"] == "SRO"].set_index("st_ref")
    assert set(armoires.index) == set(zsro["zs_refpm"])
    zones = zsro.set_index("zs_refpm").geometry
    assert shapely.contains(zones[armoires.index].values, armoires.geometry.values).all()
    nros = sites[sites["st_typelog"] == "NRO"]
    assert len(nros) == len(znro) and (nros["st_dateins"] <= "2021-12-31").all()
    assert 20 <= (znro["zn_nroref"].isin(nros["st_ref"])).sum() <= 40


def test_buildings_inside_their_commune_and_zone(last, communes, gpkg) -> None:
    x = last["CoordonneeImmeubleX"].astype(float).to_numpy()
    y = last["CoordonneeImmeubleY"].astype(float).to_numpy()
    by_insee = communes.set_index("insee").geometry
    polygons = by_insee[last["CodeInseeImmeuble"]].values
    shapely.prepare(polygons)
    assert shapely.contains_xy(polygons, x, y).all()
    zones = gpkg["t_zsro"].set_index("zs_refpm").geometry
    assert shapely.contains_xy(zones[last["ReferencePM"]].values, x, y).all()


def test_missing_addresses(demo, snapshots, gpkg) -> None:
    out, manifest = demo
    missing = manifest["truth"]["missing_addresses"]
    assert len(missing) == 40 == len(set(missing))
    reference = _read(out / "reference" / f"adresses_{DEP}.csv")
    assert list(reference.columns) == [
        "id",
        "numero",
        "rep",
        "nom_voie",
        "code_postal",
        "code_insee",
        "nom_commune",
        "lon",
        "lat",
    ]
    assert reference["id"].is_unique and set(missing) <= set(reference["id"])
    assert set(snapshots["2025-12-31"]["CodeAdresseImmeuble"]) <= set(reference["id"])
    amii = _read(out / "ipe_amii" / f"IPE_OORA_{DEP}_20191231.csv.gz")
    for frame in [*snapshots.values(), amii]:
        assert not set(missing) & set(frame["CodeAdresseImmeuble"])
    rows = reference[reference["id"].isin(missing)]
    points = gpd.GeoSeries(
        gpd.points_from_xy(rows["lon"].astype(float), rows["lat"].astype(float)), crs=4326
    ).to_crs(2154)
    zsro = gpkg["t_zsro"]
    zone_of = shapely.STRtree(zsro.geometry.values).query(points.values, predicate="within")
    refs = zsro["zs_refpm"].to_numpy()[zone_of[1]]
    assert len(refs) == 40
    march = snapshots["2022-03-17"]
    done = (
        march.assign(d=march["logements"] * _deployed(march))
        .groupby("ReferencePM")[["d", "logements"]]
        .sum()
    )
    assert (done.loc[refs, "d"] > 0.95 * done.loc[refs, "logements"]).all()


def test_registers(demo, communes) -> None:
    out = demo[0]
    mobile = _read(out / "registres" / "sites_mobiles.csv")
    # the New Deal figures are checked on the public files in test_demo_programmes.py
    by_programme = mobile["programme"].value_counts()
    assert by_programme["CENTRE_BOURG"] == 17 and by_programme["TDF_IRU"] == 10
    tdf_names = set(
        communes.set_index("insee").loc[
            mobile.loc[mobile["programme"] == "TDF_IRU", "code_insee"], "nom"
        ]
    )
    assert {"Luzech", "Concorès", "Terrou", "Latronquière"} <= tdf_names
    wifi = _read(out / "registres" / "bornes_wifi.csv")
    assert len(wifi) == 103 and wifi["code_insee"].nunique() == 81
    assert wifi["rayon_m"].astype(int).between(50, 150).all()
    assert set(wifi["emplacement"]) <= {"INTERIEUR", "EXTERIEUR"}
    assert (wifi["date_installation"] <= "2018-12-31").sum() == 10
    assert wifi["date_installation"].str.startswith("2021").sum() == 15
    assert (wifi["code_insee"] == CAHORS).sum() == 3
    med = _read(out / "registres" / "sites_med.csv")
    assert len(med) == 90 and med["foyers"].astype(int).sum() == 12_400
    assert (med["date_pose_armoire"] <= "2018-12-31").sum() == 83
    assert (med["date_reception_orange"] <= "2018-12-31").sum() == 65
    # an empty opening is réception Orange + 12 weeks
    computed = pd.to_datetime(med["date_reception_orange"]) + pd.Timedelta(weeks=12)
    med["date_ouverture"] = med["date_ouverture"].where(
        med["date_ouverture"] != "", computed.dt.strftime("%Y-%m-%d")
    )
    assert (med["date_ouverture"] <= "2018-12-31").sum() == 45
    assert (med["date_ouverture"] <= "2019-06-30").all()
    milestones = [
        "date_alimentation",
        "date_enedis",
        "date_reception_dalle",
        "date_pose_armoire",
        "date_recette",
        "date_reception_orange",
        "date_ouverture",
    ]
    assert (
        np.diff(med[milestones].apply(pd.to_datetime).to_numpy(), axis=1) > np.timedelta64(0, "D")
    ).all()
    names = set(communes.set_index("insee").loc[med["code_insee"], "nom"])
    assert {"Lauresses", "Uzech", "Aynac", "Albas", "Saint-Paul-Flaugnac"} <= names
    assert med["nom"].str.contains("Lebreil").any() and med["nom"].str.contains("Vaillac").any()
    by_insee = communes.set_index("insee").geometry
    for frame in (mobile, wifi, med):
        pts = gpd.GeoSeries(
            gpd.points_from_xy(frame["longitude"].astype(float), frame["latitude"].astype(float)),
            crs=4326,
        )
        inside = shapely.contains(by_insee[frame["code_insee"]].values, pts.to_crs(2154).values)
        assert inside.mean() > (0.9 if frame is wifi else 0.999)


def test_same_seed_gives_identical_files(demo, tmp_path: Path) -> None:
    _, manifest = demo
    again = generate_demo(DEP, tmp_path, seed=46)
    assert again["files"] == manifest["files"]
    assert (tmp_path / "manifest.json").read_bytes() == (demo[0] / "manifest.json").read_bytes()
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["files"][0]["sha256"])
