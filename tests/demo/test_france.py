"""Synthetic France (issue #12): deterministic, every commune with premises proportional to its
population inside its polygon, a subset equal to its part of a bigger run, the IPE files imported
by the project's importers without a rejection, and French errors for bad input."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geo_service.cli import app
from geo_service.db.session import make_engine
from geo_service.demo.france import generate_france, gracethd_path, snapshot_paths
from geo_service.ingest import ipe
from geo_service.ingest.gracethd import import_gracethd
from geo_service.ingest.ipe import import_ipe
from geo_service.reference import sources
from geo_service.reference.load import load_reference
from tests.conftest import create_scratch_database, drop_database

DEPARTEMENTS = ["48", "90"]
FRACTION = 0.02


def _read(path: Path) -> pd.DataFrame:
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    return pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("france") / "fr"
    generate_france(DEPARTEMENTS, FRACTION, out, seed=12)
    return out


@pytest.fixture(scope="module")
def lines(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    first, second = snapshot_paths(folder)
    return _read(first), _read(second)


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    """The reference geography, read independently of the generator (Lambert-93)."""
    return sources.read_communes(DEPARTEMENTS).to_crs(2154)


def test_two_runs_write_identical_files(folder: Path, tmp_path: Path) -> None:
    generate_france(DEPARTEMENTS, FRACTION, tmp_path / "again", seed=12)
    assert _digests(tmp_path / "again") == _digests(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        k: v for k, v in _digests(folder).items() if k != "manifest.json"
    }
    assert manifest["departements"] == DEPARTEMENTS
    assert manifest["fraction"] == FRACTION


def test_another_seed_draws_another_network(folder: Path, tmp_path: Path) -> None:
    generate_france(["90"], FRACTION, tmp_path / "other", seed=13)
    other = _read(snapshot_paths(tmp_path / "other")[0])
    mine = _read(snapshot_paths(folder)[0])
    mine = mine[mine["CodeInseeImmeuble"].str.startswith("90")]
    assert other["CoordonneeImmeubleX"].tolist() != mine["CoordonneeImmeubleX"].tolist()


def test_every_commune_has_premises_proportional_to_population(
    lines: tuple[pd.DataFrame, pd.DataFrame], communes: pd.DataFrame
) -> None:
    both = pd.concat(lines).drop_duplicates("IdentifiantImmeuble")
    locaux = both["NombreLogementsAdresseIPE"].astype(int) + both[
        "NombreLocauxProfessionnels"
    ].astype(int)
    per_commune = locaux.groupby(both["CodeInseeImmeuble"]).sum()
    assert set(per_commune.index) == set(communes["insee"])
    expected = {
        insee: max(1, round(pop * 44 / 66 * FRACTION))
        for insee, pop in zip(communes["insee"], communes["population"], strict=True)
    }
    assert per_commune.to_dict() == expected
    big = communes[communes["population"] >= 2000]
    ratio = per_commune[big["insee"]].to_numpy() / big["population"].to_numpy()
    assert np.allclose(ratio, 44 / 66 * FRACTION, rtol=0.05)


def test_every_point_lies_inside_its_commune(
    lines: tuple[pd.DataFrame, pd.DataFrame], communes: pd.DataFrame
) -> None:
    both = pd.concat(lines).drop_duplicates("IdentifiantImmeuble")
    polygons = communes.set_index("insee").geometry
    geoms = polygons.loc[both["CodeInseeImmeuble"]].to_numpy()
    x = both["CoordonneeImmeubleX"].astype(float).to_numpy()
    y = both["CoordonneeImmeubleY"].astype(float).to_numpy()
    assert shapely.contains_xy(geoms, x, y).all()
    assert both["IdentifiantImmeuble"].is_unique


def test_subset_equals_its_part_of_the_bigger_run(
    folder: Path, lines: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    generate_france(["90"], FRACTION, tmp_path / "90", seed=12)
    for whole, path in zip(lines, snapshot_paths(tmp_path / "90"), strict=True):
        part = whole[whole["CodeInseeImmeuble"].str.startswith("90")].reset_index(drop=True)
        pd.testing.assert_frame_equal(_read(path), part)


def test_states_and_dates_are_consistent(
    lines: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    first, second = lines
    for frame, day in ((first, "2025-06-02"), (second, "2025-06-16")):
        share = frame["EtatImmeuble"].value_counts(normalize=True)
        assert share["DEPLOYE"] > 0.7
        deployed = frame[frame["EtatImmeuble"] == "DEPLOYE"]
        assert (deployed["EtatPM"] == "DEPLOYE").all()
        mes = deployed["DateMiseEnServiceCommercialeImmeuble"]
        assert (mes <= day).all() and (mes >= deployed["DateInstallationPM"]).all()
        assert (
            frame.loc[frame["EtatImmeuble"] != "DEPLOYE", "DateMiseEnServiceCommercialeImmeuble"]
            == ""
        ).all()
    merged = first.merge(second, on="IdentifiantImmeuble", suffixes=("_1", "_2"))
    changed = (merged["EtatImmeuble_1"] != merged["EtatImmeuble_2"]).mean()
    assert 0.005 < changed < 0.1
    assert 0 < len(second) - len(merged) and 0 < len(first) - len(merged)


def test_files_import_without_rejection(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    url = create_scratch_database("france", territories=())
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            summary = load_reference(conn, "fr", territory_dir=folder)
        assert summary.departements == tuple(DEPARTEMENTS)
        delivery = import_gracethd(
            engine, gracethd_path(folder), territory="fr", snapshot_date=date(2025, 6, 2)
        )
        assert delivery.status == "OK" and delivery.counts["pm"] == manifest["counts"]["pm"]
        monkeypatch.setattr(ipe, "BULK_MIN_ROWS", 1)  # the first file counts as a bulk load
        settled: list[tuple[list[str], int]] = []

        def settle(engine: Engine, tables: list[str]) -> None:
            with engine.connect() as conn:  # what another session sees: the committed load
                seen = conn.execute(text("SELECT count(*) FROM premise")).scalar_one()
            settled.append((tables, seen))
            real_settle(engine, tables)

        real_settle = ipe.settle
        monkeypatch.setattr(ipe, "settle", settle)
        first_path, second_path = snapshot_paths(folder)
        first = import_ipe(engine, first_path, territory="fr")
        # vacuumed once committed, not by the first reader of each row
        assert settled == [(["premise", "premise_history"], manifest["counts"]["lignes_1"])]
        second = import_ipe(engine, second_path, territory="fr")
        assert len(settled) == 1  # a fortnight's few new premises: nothing to settle
        counts = manifest["counts"]
        assert (first.status, first.problems, first.counts["valides"]) == (
            "OK",
            [],
            counts["lignes_1"],
        )
        assert (second.status, second.problems) == ("OK", [])
        assert second.counts["immeubles_nouveaux"] == counts["nouvelles"]
        assert second.counts["retires"] == counts["retirees"]
        assert second.counts["changements_etat"] == counts["etats_changes"] + counts["nouvelles"]
        assert second.counts["immeubles_modifies"] >= counts["etats_changes"]
    finally:
        engine.dispose()
        drop_database(url)


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--departements", "48,972"], "outre-mer"),
        (["--departements", "48,99"], "Département inconnu : « 99 »"),
        (["--departements", " , "], "Liste de départements vide"),
        (["--departements", "48,48"], "cité deux fois"),
        (["--departements", "48", "--fraction", "0"], "Fraction invalide"),
        (["--departements", "48", "--fraction", "1.5"], "Fraction invalide"),
    ],
)
def test_cli_refuses_bad_input(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "generate", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "x").exists()


def test_cli_generates_the_departements(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["demo", "generate", "--departements", "90", "--fraction", "0.01", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "France synthétique (1 département, 1 %)" in " ".join(result.output.split())
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["departements"], manifest["fraction"]) == (["90"], 0.01)
