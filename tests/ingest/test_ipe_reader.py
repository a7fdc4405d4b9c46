"""The IPE reader, without a database: every variant of the same file gives the same rows, and
each malformed file is refused or reported with the right line, column and French reason.

Fixtures: tests/fixtures/ipe/ (README.md lists them; make_fixtures.py wrote them).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo_service.errors import ImportRejectedError
from geo_service.ingest.ipe_reader import OUTPUT_COLUMNS, IpeFile, read_ipe, snapshot_date

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ipe"
VALID = FIXTURES / "valides"
INVALID = FIXTURES / "invalides"
BASE = VALID / "IPE_ALLF_46_20211231.csv"
LOT_INSEE = {"46029", "46042", "46102", "46127", "46128", "46231", "46240", "46251", "46309"}
LOT_BOUNDS = (535_000.0, 6_340_000.0, 640_000.0, 6_445_000.0)  # xmin, ymin, xmax, ymax


def read(path: Path) -> IpeFile:
    return read_ipe(path, known_insee=LOT_INSEE, territory_bounds_2154=LOT_BOUNDS)


def base_lines() -> list[str]:
    return BASE.read_text(encoding="utf-8").splitlines()


def write(tmp_path: Path, lines: list[str], name: str = "IPE.csv", eol: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(eol.join(lines).encode("utf-8") + eol.encode())
    return path


def rejection(path: Path) -> dict[str, object]:
    with pytest.raises(ImportRejectedError) as caught:
        read(path)
    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert str(problem["reason"]) in caught.value.message
    return problem


# --- the valid file and its variants -------------------------------------------------------


def test_base_file_matches_an_independent_reading() -> None:
    ipe = read(BASE)
    with BASE.open(encoding="utf-8", newline="") as f:
        source = list(csv.DictReader(f, delimiter=";"))

    assert ipe.problems == []
    assert (ipe.line_count, len(ipe.rows)) == (10, 10)
    assert list(ipe.rows.columns) == OUTPUT_COLUMNS
    assert (ipe.encoding, ipe.crs, ipe.snapshot_date) == (
        "utf-8",
        "EPSG:2154",
        dt.date(2021, 12, 31),
    )
    assert ipe.sha256 == hashlib.sha256(BASE.read_bytes()).hexdigest()
    rows = ipe.rows
    assert rows["line"].tolist() == list(range(2, 12))
    assert rows["identifiant_immeuble"].tolist() == [r["IdentifiantImmeuble"] for r in source]
    assert rows["insee"].tolist() == [r["CodeInseeImmeuble"] for r in source]
    assert rows["commune"].tolist() == [r["CommuneImmeuble"] for r in source]
    assert rows["etat"].tolist() == [r["EtatImmeuble"] for r in source]
    assert rows["logements"].tolist() == [int(r["NombreLogementsAdresseIPE"]) for r in source]
    assert rows["locaux_pro"].tolist() == [int(r["NombreLocauxProfessionnels"]) for r in source]
    for axis, name in (("x", "CoordonneeImmeubleX"), ("y", "CoordonneeImmeubleY")):
        expected = [float(r[name].replace(",", ".")) for r in source]
        np.testing.assert_allclose(rows[axis].to_numpy(), expected, rtol=0, atol=1e-6)
    assert rows["x"].dtype == np.float64 and rows["logements"].dtype == np.int64
    assert rows["line"].dtype == np.int64 and rows["etat"].dtype == object


def test_values_are_typed_and_empty_text_is_none() -> None:
    rows = read(BASE).rows.set_index("line")
    # one date format per line: JJ/MM/AAAA, AAAAMMJJ, ISO date-time, AAAA-MM-JJ
    assert rows.loc[3, "date_signature"] == dt.date(2021, 3, 4)
    assert rows.loc[3, "date_installation_pm"] == dt.date(2021, 1, 15)
    assert rows.loc[5, "date_signature"] == dt.date(2020, 9, 15)
    assert rows.loc[6, "date_signature"] == dt.date(2021, 3, 4)
    assert rows.loc[2, "date_mes_commerciale"] == dt.date(2019, 6, 20)
    assert rows.loc[3, "date_mes_commerciale"] is None
    cible = rows.loc[4]  # a CIBLE building: no PM yet
    assert (cible["etat"], cible["reference_pm"], cible["etat_pm"]) == ("CIBLE", None, None)
    assert cible["date_signature"] is None and cible["type_pbo"] is None
    assert rows.loc[2, "complement"] is None and rows.loc[3, "complement"] == "BIS"
    assert rows.loc[5, "etat_pm"] == "PLANIFIE" and rows.loc[5, "batiment"] == "A"
    assert rows.loc[6, "commune"] == "Saint-Céré" and rows.loc[6, "raccordement_long"] == "OUI"


VARIANTS = [  # file, encoding, source projection
    ("IPE_ALLF_46_20211231_bom_crlf.csv", "utf-8-sig", "EPSG:2154"),
    ("IPE_ALLF_46_20211231_latin1.csv", "latin-1", "EPSG:2154"),
    ("IPE_ALLF_46_20211231_wgs84.csv", "utf-8", "EPSG:4326"),
    ("IPE_ALLF_46_20211231_projections_mixtes.csv", "utf-8", "EPSG:2154"),
    ("IPE_ALLF_46_20211231_sans_projection.csv", "utf-8", "EPSG:2154"),
    ("IPE_ALLF_46_20211231.csv.gz", "utf-8", "EPSG:2154"),
    ("IPE_ALLF_46_2021-12-31.zip", "utf-8", "EPSG:2154"),
]


@pytest.mark.parametrize(("name", "encoding", "crs"), VARIANTS)
def test_variants_give_the_same_rows(name: str, encoding: str, crs: str) -> None:
    base = read(BASE).rows
    ipe = read(VALID / name)

    assert ipe.problems == []
    assert (ipe.encoding, ipe.crs, ipe.snapshot_date) == (encoding, crs, dt.date(2021, 12, 31))
    pd.testing.assert_frame_equal(ipe.rows.drop(columns=["x", "y"]), base.drop(columns=["x", "y"]))
    for axis in ("x", "y"):
        assert np.abs(ipe.rows[axis] - base[axis]).max() < 0.01  # 1 cm


def test_zip_member_is_named_in_problems() -> None:
    ipe = read(VALID / "IPE_ALLF_46_2021-12-31.zip")
    assert (
        ipe.sha256
        == hashlib.sha256((VALID / "IPE_ALLF_46_2021-12-31.zip").read_bytes()).hexdigest()
    )
    commune_inconnue = read_ipe(VALID / "IPE_ALLF_46_2021-12-31.zip", known_insee={"46042"})
    assert {p.file for p in commune_inconnue.problems} == {
        "IPE_ALLF_46_2021-12-31.zip/IPE_ALLF_46.csv"
    }
    assert len(commune_inconnue.rows) == 2  # the two Cahors premises


# --- malformed files: one bad line each -----------------------------------------------------

ETATS = (
    "CIBLE, SIGNE, EN COURS DE DEPLOIEMENT, DEPLOYE, ABANDONNE, RACCORDABLE DEMANDE, "
    "RAD EN COURS DE DEPLOIEMENT"
)
XY = "CoordonneeImmeubleX, CoordonneeImmeubleY"
ROW_PROBLEMS = [  # file, line, column, value, reason
    ("etat_immeuble_inconnu.csv", 3, "EtatImmeuble", "RACCORDE",
     f"état d'immeuble inconnu (valeurs admises : {ETATS})"),
    ("etat_pm_inconnu.csv", 4, "EtatPM", "INSTALLE",
     "état du PM inconnu (valeurs admises : PLANIFIE, EN COURS DE DEPLOIEMENT, DEPLOYE, "
     "ABANDONNE)"),
    ("logements_non_entier.csv", 2, "NombreLogementsAdresseIPE", "2,5",
     "nombre de logements non entier"),
    ("logements_negatif.csv", 3, "NombreLogementsAdresseIPE", "-3", "nombre de logements négatif"),
    ("logements_invraisemblable.csv", 5, "NombreLogementsAdresseIPE", "25000",
     "nombre de logements invraisemblable (plus de 10 000)"),
    ("coordonnee_illisible.csv", 4, "CoordonneeImmeubleY", "6371x300", "coordonnée illisible"),
    ("hors_emprise_lambert93.csv", 2, XY, "1575916.44 ; 6373201.10",
     "coordonnées hors de l'emprise Lambert-93 de la France métropolitaine"),
    ("hors_territoire.csv", 4, XY, "652000 ; 6862000", "hors du territoire"),
    ("commune_inconnue.csv", 5, "CodeInseeImmeuble", "75056", "commune inconnue du territoire"),
    ("code_insee_invalide.csv", 2, "CodeInseeImmeuble", "4642",
     "code INSEE invalide (5 caractères attendus)"),
    ("identifiant_double.csv", 6, "IdentifiantImmeuble", "IMB/46042/X/0001",
     "identifiant d'immeuble en double (déjà ligne 2)"),
    ("identifiant_vide.csv", 3, "IdentifiantImmeuble", "", "identifiant d'immeuble vide"),
    ("reference_pm_manquante.csv", 2, "ReferencePM", "",
     "référence PM vide alors que l'immeuble n'est pas CIBLE"),
    ("date_illisible.csv", 5, "DateSignatureConvention", "mars 2020",
     "date illisible (formats admis : AAAA-MM-JJ, JJ/MM/AAAA, AAAAMMJJ)"),
    ("date_inexistante.csv", 2, "DateInstallationPM", "2018-02-30", "date inexistante"),
    ("projection_inconnue.csv", 4, "TypeProjectionGeographique", "LAMBERT2E",
     "projection inconnue (admises : L93, LAMB93, LAMBERT93, RGF93, 2154, EPSG:2154, WGS84, "
     "4326, EPSG:4326)"),
    ("nombre_de_champs_incorrect.csv", 4, None, None,
     "nombre de champs incorrect : 27 au lieu de 26"),
    ("ligne_tronquee.csv", 5, None, None, "ligne tronquée : 12 champs au lieu de 26"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "line", "column", "value", "reason"), ROW_PROBLEMS, ids=[c[0] for c in ROW_PROBLEMS]
)
def test_malformed_line_is_reported_and_left_out(
    name: str, line: int, column: str | None, value: str | None, reason: str
) -> None:
    ipe = read(INVALID / name)

    assert len(ipe.problems) == 1
    problem = ipe.problems[0]
    assert (problem.file, problem.line, problem.column, problem.reason) == (
        name,
        line,
        column,
        reason,
    )
    if value is not None:
        assert problem.value == value
    assert line not in ipe.rows["line"].tolist()
    assert len(ipe.rows) == ipe.line_count - 1
    assert problem.as_dict() == {
        "file": name,
        "line": line,
        "column": column,
        "value": problem.value,
        "reason": reason,
    }


def test_truncated_line_shows_what_was_read() -> None:
    problem = read(INVALID / "ligne_tronquee.csv").problems[0]
    assert problem.value is not None and problem.value.startswith("IMB/46309/X/0004;46309_0200")
    assert problem.value.count(";") == 11


# --- malformed files: refused as a whole ----------------------------------------------------

REQUIRED = (
    "IdentifiantImmeuble, CodeInseeImmeuble, CoordonneeImmeubleX, CoordonneeImmeubleY, "
    "NombreLogementsAdresseIPE, EtatImmeuble, ReferencePM, EtatPM"
)
FILE_PROBLEMS = [  # file, line, column, reason
    ("vide.csv", 0, None, "fichier vide"),
    ("entete_seule.csv", 0, None, "aucune ligne de données (le fichier n'a que l'en-tête)"),
    ("binaire.csv", 0, None, "contenu binaire : ce n'est pas un fichier texte CSV"),
    ("separateur_virgule.csv", 1, None, "séparateur attendu « ; », trouvé « , »"),
    ("separateur_tabulation.csv", 1, None, "séparateur attendu « ; », trouvé « tabulation »"),
    ("colonne_manquante.csv", 1, "EtatPM", "colonnes obligatoires absentes : EtatPM"),
    ("colonne_en_double.csv", 1, "EtatImmeuble",
     "colonne en double : EtatImmeuble (colonnes 16 et 27)"),
    ("projection_indeterminee.csv", 0, None,
     "projection indéterminée : TypeProjectionGeographique vide et coordonnées ni en Lambert-93 "
     "ni en WGS84 (ligne 2 : X=530916.44, Y=1973201.10)"),
    ("projection_ambigue.csv", 0, None,
     "projection indéterminée : TypeProjectionGeographique vide et coordonnées tantôt en "
     "Lambert-93 (ligne 2) tantôt en WGS84 (ligne 4)"),
    ("utf8_bom_invalide.csv", 4, None,
     "fichier marqué UTF-8 (BOM) mais contenant des octets invalides en UTF-8"),
    ("gzip_tronque.csv.gz", 0, None, "fichier compressé tronqué ou corrompu"),
    ("zip_deux_csv.zip", 0, None,
     "l'archive zip contient 2 fichiers .csv (IPE_ALLF_46_20211231.csv, "
     "IPE_ALLF_46_20220115.csv) : un seul attendu"),
    ("zip_sans_csv.zip", 0, None, "l'archive zip ne contient aucun fichier .csv"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "line", "column", "reason"), FILE_PROBLEMS, ids=[c[0] for c in FILE_PROBLEMS]
)
def test_malformed_file_is_refused(name: str, line: int, column: str | None, reason: str) -> None:
    assert rejection(INVALID / name) == {
        "file": name,
        "line": line,
        "column": column,
        "value": None,
        "reason": reason,
    }


def test_ten_megabyte_line_is_refused_without_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, [base_lines()[0], "x" * 10_485_760])
    problem = rejection(path)
    assert (problem["line"], problem["reason"]) == (2, "ligne trop longue (10 485 760 caractères)")


def test_header_without_any_column_lists_them_all(tmp_path: Path) -> None:
    problem = rejection(write(tmp_path, ["identifiant", "IMB/46042/X/0001"]))
    assert problem["reason"] == f"colonnes obligatoires absentes : {REQUIRED}"


def test_blank_header_and_utf16_are_refused(tmp_path: Path) -> None:
    assert rejection(write(tmp_path, ["", *base_lines()]))["reason"] == (
        "la première ligne (en-tête des colonnes) est vide"
    )
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("\n".join(base_lines()).encode("utf-16"))
    assert "UTF-16" in str(rejection(utf16)["reason"])


# --- tolerated variations --------------------------------------------------------------------


def test_quoted_fields_blank_lines_and_trailing_separators(tmp_path: Path) -> None:
    lines = base_lines()
    lines[2] = lines[2].replace("CHAMPOLLION", '"CHAMP;OL\nLION"')  # spans lines 3-4
    lines[3] = lines[3].replace("AV;GAMBETTA", 'AV;" GAMBETTA "') + ";"
    lines[5:5] = ["", ";;;;;;;;;;", "   "]
    ipe = read(write(tmp_path, lines, eol="\r\n"))

    assert ipe.problems == [] and ipe.line_count == 10
    assert ipe.rows["line"].tolist() == [2, 3, 5, 6, 10, 11, 12, 13, 14, 15]
    assert ipe.rows["nom_voie"].tolist()[1:3] == ["CHAMP;OL\nLION", "GAMBETTA"]


def test_both_parsers_agree_on_quoted_line_breaks(tmp_path: Path) -> None:
    lines = base_lines()
    lines[2] = lines[2].replace("CHAMPOLLION", '"CHAMP\nOL\nLION"')  # lines 3-5
    by_pandas = read(write(tmp_path, lines, name="a.csv"))
    lines.append(lines[1].replace("0001", "0099") + ";x" * 40)  # set aside: csv module for all
    by_csv = read(write(tmp_path, lines, name="b.csv"))

    assert by_pandas.problems == []
    assert [(p.line, p.reason) for p in by_csv.problems] == [
        (14, "nombre de champs incorrect : 66 au lieu de 26")
    ]
    pd.testing.assert_frame_equal(by_pandas.rows, by_csv.rows)
    assert by_pandas.rows["line"].tolist() == [2, 3, 6, 7, 8, 9, 10, 11, 12, 13]


def test_old_mac_line_ends(tmp_path: Path) -> None:
    ipe = read(write(tmp_path, base_lines(), eol="\r"))
    pd.testing.assert_frame_equal(ipe.rows, read(BASE).rows)


def test_column_names_order_case_and_extras(tmp_path: Path) -> None:
    rows = [line.split(";") for line in base_lines()]
    header = [f" {name.upper()} " for name in rows[0]]
    keep = [
        i for i, name in enumerate(rows[0]) if name not in ("TypePBO", "NombreLocauxProfessionnels")
    ]
    order = list(reversed(keep))
    lines = [";".join([*(header[i] for i in order), "Commentaire"])]
    lines += [";".join([*(r[i] for i in order), "à vérifier"]) for r in rows[1:]]
    ipe = read(write(tmp_path, lines))

    assert ipe.problems == []
    base = read(BASE).rows
    assert ipe.rows["type_pbo"].isna().all() and (ipe.rows["locaux_pro"] == 0).all()
    same = [c for c in OUTPUT_COLUMNS if c not in ("type_pbo", "locaux_pro")]
    pd.testing.assert_frame_equal(ipe.rows[same], base[same])


def test_state_spellings_and_padding(tmp_path: Path) -> None:
    lines = base_lines()
    lines[1] = (
        lines[1].replace(";DEPLOYE;2019", "; Déployé ;2019").replace("Cahors", " Cahors\u00a0")
    )
    lines[2] = lines[2].replace("EN COURS DE DEPLOIEMENT", "en_cours_de_déploiement")
    lines[6] = lines[6].replace("RACCORDABLE DEMANDE", "Raccordable à la demande")
    ipe = read(write(tmp_path, lines))

    assert ipe.problems == []
    assert ipe.rows["etat"].tolist()[:2] == ["DEPLOYE", "EN COURS DE DEPLOIEMENT"]
    assert ipe.rows["etat"].tolist()[5] == "RACCORDABLE DEMANDE"
    assert ipe.rows["commune"].tolist()[0] == "Cahors"


def test_one_stray_coordinate_does_not_sink_an_undeclared_file(tmp_path: Path) -> None:
    lines = [line.replace(";L93;", ";;") for line in base_lines()]
    lines.append(lines[1].replace("0001", "0011").replace("575916.44;6373201.10", "0;0"))
    ipe = read(write(tmp_path, lines))

    assert ipe.crs == "EPSG:2154" and len(ipe.rows) == 10
    assert [(p.line, p.column, p.reason) for p in ipe.problems] == [
        (12, XY, "coordonnées hors de l'emprise Lambert-93 de la France métropolitaine")
    ]


def test_undeclared_rows_among_declared_ones(tmp_path: Path) -> None:
    lines = base_lines()
    for i in (3, 4):  # Lambert-93 values: the projection is deduced
        lines[i] = lines[i].replace(";L93;", ";;")
    ipe = read(write(tmp_path, lines))
    assert ipe.problems == []
    pd.testing.assert_frame_equal(ipe.rows, read(BASE).rows)

    lines[5] = lines[5].replace(";L93;", ";;").replace("612518.45;6418372.11", "530000;1980000")
    ipe = read(write(tmp_path, lines))  # Lambert II étendu among them: nothing can be deduced
    assert [(p.line, p.column, p.reason) for p in ipe.problems] == [
        (line, "TypeProjectionGeographique", "TypeProjectionGeographique vide et projection "
         "non déductible")
        for line in (4, 5, 6)
    ]  # fmt: skip


def test_pm_state_required_once_a_pm_is_named(tmp_path: Path) -> None:
    lines = base_lines()
    lines[1] = lines[1].replace(";DLW01;DEPLOYE;", ";DLW01;;")
    problems = read(write(tmp_path, lines)).problems
    assert [(p.line, p.column, p.reason) for p in problems] == [(2, "EtatPM", "état du PM vide")]


def test_several_problems_on_one_line_are_all_reported(tmp_path: Path) -> None:
    lines = base_lines()
    lines[1] = lines[1].replace(";8;1;DEPLOYE;2019-03-12", ";huit;1;FINI;2019-13-12")
    ipe = read(write(tmp_path, lines))

    assert [(p.line, p.column) for p in ipe.problems] == [
        (2, "NombreLogementsAdresseIPE"),
        (2, "EtatImmeuble"),
        (2, "DateSignatureConvention"),
    ]
    assert len(ipe.rows) == 9


def test_too_many_fields_and_unclosed_quote(tmp_path: Path) -> None:
    lines = base_lines()
    lines[3] += ";x" * 40
    lines[4] = lines[4].replace("DE LA HALLE", '"DE LA HALLE')  # swallows the lines after it
    ipe = read(write(tmp_path, lines))

    assert [(p.line, p.reason) for p in ipe.problems] == [
        (4, "nombre de champs incorrect : 66 au lieu de 26"),
        (5, "nombre de champs incorrect : 9 au lieu de 26 (guillemet non refermé ? "
            "l'enregistrement court jusqu'à la ligne 11)"),
    ]  # fmt: skip
    assert ipe.rows["line"].tolist() == [2, 3]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IPE_ALLF_46_20211231.csv.gz", dt.date(2021, 12, 31)),
        ("ipe_2022-03-17_lot.csv", dt.date(2022, 3, 17)),
        ("IPE_46_v2_20221301_20230105.csv", dt.date(2023, 1, 5)),  # 2022-13-01 is no date
        ("IPE_46_123456.csv", None),
        ("IPE.csv", None),
    ],
)
def test_snapshot_date_from_file_name(name: str, expected: dt.date | None) -> None:
    assert snapshot_date(name) == expected
