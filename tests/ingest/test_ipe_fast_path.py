"""The fast way of the IPE import (PostgreSQL parses and checks, unchanged lines skipped by their
fingerprint, indexes built after a first load) stores exactly what the thorough reader stores."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from geo_service.errors import ImportRejectedError
from geo_service.ingest import ipe, ipe_stage
from geo_service.ingest.ipe import import_ipe_conn

HEADER = (
    "IdentifiantImmeuble;CodeAdresseImmeuble;CodeInseeImmeuble;CodePostalImmeuble;"
    "CommuneImmeuble;NumeroVoieImmeuble;ComplementNumeroVoieImmeuble;TypeVoieImmeuble;"
    "NomVoieImmeuble;BatimentImmeuble;CoordonneeImmeubleX;CoordonneeImmeubleY;"
    "TypeProjectionGeographique;NombreLogementsAdresseIPE;NombreLocauxProfessionnels;"
    "EtatImmeuble;DateSignatureConvention;AccordGestionnaireImmeuble;ReferencePM;EtatPM;"
    "DateInstallationPM;TypePBO;TypeRaccoPBPTO;RaccordementLong;CodeOI;"
    "DateMiseEnServiceCommercialeImmeuble"
)
ROWS = [
    "IMB/46042/X/0001;46042_0350_00012;46042;46000;Cahors;12;;BD;GAMBETTA;;575916.44;6373201.1;L93;8;1;DEPLOYE;2019-03-12;OUI;DLW01;DEPLOYE;2018-11-05;FACADE;AERIEN;NON;AXIO;2019-06-20",
    "IMB/46102/X/0002;46102_0120_00003;46102;46100;Figeac;3;BIS;PL;CHAMPOLLION;;623399.11;6390546.88;L93;1;0;EN COURS DE DEPLOIEMENT;2021-03-04;OUI;DLW02;DEPLOYE;2021-01-15;CHAMBRE;SOUTERRAIN;NON;AXIO;",
    "IMB/46102/X/0003;;46102;46100;Figeac;;;;Lieu-dit Le Pech;;624010;6391002.5;;2;;CIBLE;;;;;;;;;AXIO;",
    "IMB/46268/X/0004;46268_0001_00001;46268;46400;Saint-Céré;1;;RUE;DE LA RÉPUBLIQUE;A;615300.5;6420100.25;L93;12;3;RACCORDABLE DEMANDE;2020-01-02;NON;DLW03;DEPLOYE;2020-02-03;CHAMBRE;SOUTERRAIN;O;AXIO;2022-05-06",
    "IMB/46268/X/0005;46268_0001_00003;46268;46400;Saint-Céré;3;;RUE;DE LA RÉPUBLIQUE;;615320.75;6420110.5;L93;1;0;DEPLOYE;;;DLW03;DEPLOYE;2020-02-03;FACADE;AERIEN;N;AXIO;2022-05-06",
]


def _write(path: Path, rows: list[str], *, header: str = HEADER, encoding: str = "utf-8",
           newline: str = "\n") -> Path:  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join([header, *rows, ""]).encode(encoding))
    return path


@pytest.fixture()
def pms(connection: Connection) -> Connection:
    connection.execute(
        text(
            "INSERT INTO pm (reference, territory_code, etat) "
            "SELECT 'DLW0' || i, '46', 'PLANIFIE' FROM generate_series(1, 3) i"
        )
    )
    return connection


def _contents(conn: Connection) -> list[tuple]:
    """Every stored value of the premises and their history (exact geometry), no surrogate key."""
    return [
        tuple(r)
        for r in conn.execute(
            text(
                "SELECT p.identifiant_immeuble, p.code_oi, p.code_adresse, p.insee, p.code_postal, "
                "p.commune_nom, p.numero, p.complement, p.type_voie, p.nom_voie, p.batiment, "
                "p.logements, p.locaux_pro, p.etat, p.pm_reference, p.etat_pm, "
                "p.date_installation_pm, p.date_signature, p.date_mes_commerciale, p.type_pbo, "
                "p.type_racco, p.raccordement_long, p.amii, p.removed_on, ST_AsEWKB(p.geom), "
                "h.etat, h.logements, h.locaux_pro, h.pm_reference, h.removed, h.valid_from, "
                "h.valid_to, pm.etat, pm.date_installation "
                "FROM premise p JOIN premise_history h ON h.premise_id = p.id "
                "LEFT JOIN pm ON pm.reference = p.pm_reference "
                "ORDER BY p.identifiant_immeuble, h.valid_from"
            )
        )
    ]


def quoted(line: str, *, every: bool = True) -> str:
    """The line as spreadsheet exports write it: every non-empty cell (or only those not
    starting with a digit) between quotes."""
    return ";".join(f'"{c}"' if c and (every or not c[0].isdigit()) else c for c in line.split(";"))


def _fingerprinted(conn: Connection) -> int:
    return conn.execute(text("SELECT count(source_hash) FROM premise")).scalar_one()


def _import(conn: Connection, path: Path, *, reader: bool = False) -> ipe.journal.ImportResult:
    conn.execute(text("SAVEPOINT one_import"))
    original = ipe.stage_fast
    if reader:
        ipe.stage_fast = lambda *_a, **_k: None  # type: ignore[assignment]
    try:
        return import_ipe_conn(conn, path, territory="46", user="t")
    finally:
        ipe.stage_fast = original  # type: ignore[assignment]


def test_clean_files_take_the_fast_way_and_store_what_the_reader_stores(
    pms: Connection, tmp_path: Path
) -> None:
    plain = _write(tmp_path / "IPE_AXIO_46_20211231.csv", ROWS)
    gz = tmp_path / "IPE_AXIO_46_20211231.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    archive = tmp_path / "IPE_AXIO_46_2021-12-31.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(plain, "IPE_AXIO_46_20211231.csv")

    variants = [
        plain,
        gz,
        archive,
        _write(tmp_path / "crlf" / "IPE_AXIO_46_20211231.csv", ROWS, newline="\r\n"),
        _write(tmp_path / "IPE_AXIO_46_20211231_latin1.csv", ROWS, encoding="latin-1"),
        _write(
            tmp_path / "all_quoted" / "IPE_AXIO_46_20211231.csv",
            [quoted(r, every=True) for r in ROWS],
            header=quoted(HEADER, every=True),
        ),
        _write(
            tmp_path / "text_quoted" / "IPE_AXIO_46_20211231.csv",
            [quoted(r, every=False) for r in ROWS],
        ),
    ]
    _import(pms, plain, reader=True)
    expected = _contents(pms)
    pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))
    assert len(expected) == len(ROWS)
    assert ("IMB/46102/X/0003", None) == (expected[2][0], expected[2][14])  # CIBLE, no PM
    for path in variants:
        outcome = _import(pms, path)
        assert outcome.status == "OK", (path.name, outcome.problems)
        assert _fingerprinted(pms) == len(ROWS), path.name  # the fast way was taken
        assert _contents(pms) == expected, path.name
        pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))


def test_tolerated_variants_go_through_the_reader_with_the_same_result(
    pms: Connection, tmp_path: Path
) -> None:
    clean = _write(tmp_path / "IPE_AXIO_46_20211231.csv", ROWS)
    _import(pms, clean)
    expected = _contents(pms)
    pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))
    quirks = {  # each one alone sends the file to the reader
        "decimal_comma": ("575916.44", "575916,44"),
        "french_date": ("2019-03-12", "12/03/2019"),
        "quoted_padded_cell": (";GAMBETTA;", ';" GAMBETTA";'),
        "quote_inside_a_cell": (";GAMBETTA;", ';"GAMB"ETTA;'),
        "padded_cell": (";GAMBETTA;", "; GAMBETTA ;"),
        "lower_case_state": (";DEPLOYE;2019", ";Déployé;2019"),
        "plus_sign": (";8;1;", ";+8;1;"),
    }
    for name, (old, new) in quirks.items():
        rows = [ROWS[0].replace(old, new, 1), *ROWS[1:]]
        assert rows[0] != ROWS[0], name
        path = _write(tmp_path / name / "IPE_AXIO_46_20211231.csv", rows)
        outcome = _import(pms, path)
        assert outcome.status == "OK", (name, outcome.problems)
        assert _fingerprinted(pms) == 0, name  # read by the thorough reader
        assert _contents(pms) == expected, name
        pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))


def _premise_updates(conn: Connection) -> tuple[int, int]:
    """Rows of `premise` this transaction updated, and how many of them in place (HOT)."""
    row = conn.execute(
        text(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables"
            " WHERE relid = 'premise'::regclass"
        )
    ).one()
    return row.n_tup_upd, row.n_tup_hot_upd


def test_a_fortnight_updates_changed_premises_in_place(pms: Connection, tmp_path: Path) -> None:
    """Changed states, dates, counts and removals touch no indexed column: PostgreSQL rewrites the
    row without a new entry in each of the table's indexes (the fortnight's main write cost)."""
    _import(pms, _write(tmp_path / "IPE_AXIO_46_20211231.csv", ROWS))
    before = _premise_updates(pms)
    later = [
        ROWS[0].replace(";8;1;DEPLOYE;", ";9;1;DEPLOYE;"),  # more logements
        ROWS[1].replace("EN COURS DE DEPLOIEMENT", "DEPLOYE"),
        ROWS[2].replace(";2;;CIBLE;", ";3;;CIBLE;"),
        ROWS[3],  # line 5 gone: removed
    ]
    second = _import(pms, _write(tmp_path / "IPE_AXIO_46_20220331.csv", later))
    assert second.counts["changements_etat"] == 3  # periods opened: a state, two counts
    updated, in_place = (a - b for a, b in zip(_premise_updates(pms), before, strict=True))
    assert updated == 4  # three changed lines, one removal
    assert in_place == updated
    assert (
        pms.execute(
            text("SELECT count(*) FROM premise WHERE last_import_id = :j"), {"j": second.journal_id}
        ).scalar_one()
        == 4
    )


def test_only_changed_lines_are_read_again(pms: Connection, tmp_path: Path) -> None:
    first = _import(pms, _write(tmp_path / "IPE_AXIO_46_20211231.csv", ROWS))
    later = [
        ROWS[0],
        ROWS[1].replace("EN COURS DE DEPLOIEMENT", "DEPLOYE"),  # a change of state
        ROWS[2],
        ROWS[3].replace(";2020-01-02;NON;", ";2020-01-02;OUI;"),  # a column we do not store
        ROWS[4],
    ]
    second = _import(pms, _write(tmp_path / "IPE_AXIO_46_20220331.csv", later))
    assert second.counts["changements_etat"] == 1
    assert second.counts["immeubles_modifies"] == 2  # the state, and the new fingerprint
    touched = dict(
        pms.execute(text("SELECT identifiant_immeuble, last_import_id FROM premise")).all()
    )
    assert touched == {
        "IMB/46042/X/0001": first.journal_id,
        "IMB/46102/X/0002": second.journal_id,
        "IMB/46102/X/0003": first.journal_id,
        "IMB/46268/X/0004": second.journal_id,
        "IMB/46268/X/0005": first.journal_id,
    }
    state = pms.execute(
        text("SELECT etat FROM premise WHERE identifiant_immeuble = 'IMB/46102/X/0002'")
    ).scalar_one()
    assert state == "DEPLOYE"
    # a later file without line 5 and with a new one: removal and arrival seen as before
    third = _import(
        pms,
        _write(
            tmp_path / "IPE_AXIO_46_20220630.csv",
            [*later[:4], ROWS[4].replace("X/0005", "X/0006")],
        ),
    )
    assert (third.counts["retires"], third.counts["immeubles_nouveaux"]) == (1, 1)


def test_a_new_column_order_is_read_again_not_skipped(pms: Connection, tmp_path: Path) -> None:
    _import(pms, _write(tmp_path / "IPE_AXIO_46_20211231.csv", ROWS))
    before = _contents(pms)

    # swap two columns in the header and in every line: same content, different lines
    def swap(line: str) -> str:
        cells = line.split(";")
        cells[5], cells[8] = cells[8], cells[5]
        return ";".join(cells)

    outcome = _import(
        pms,
        _write(tmp_path / "IPE_AXIO_46_20220331.csv", [swap(r) for r in ROWS], header=swap(HEADER)),
    )
    assert outcome.counts["changements_etat"] == 0
    assert outcome.counts["immeubles_modifies"] == len(ROWS)  # new fingerprints, same values
    assert _contents(pms) == before


def _definitions(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT indexdef FROM pg_indexes WHERE tablename IN ('premise', 'premise_history') "
                "UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid IN ('premise'::regclass, 'premise_history'::regclass) ORDER BY 1"
            )
        ).scalars()
    )


def test_a_first_load_builds_the_same_indexes_and_constraints_afterwards(
    pms: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _definitions(pms)
    monkeypatch.setattr(ipe, "BULK_MIN_ROWS", 1)  # the small file counts as a first load
    outcome = _import(pms, _write(tmp_path / "IPE_AXIO_46_20211231.csv", ROWS))
    assert outcome.counts["immeubles_nouveaux"] == len(ROWS)
    assert _definitions(pms) == before
    pms.execute(text("SAVEPOINT orphan"))
    with pytest.raises(IntegrityError):  # the foreign keys are enforced again
        pms.execute(
            text(
                "INSERT INTO premise_history (premise_id, etat, logements, valid_from, changed_by) "
                "VALUES (-1, 'CIBLE', 1, '2022-01-01', 't')"
            )
        )
    pms.execute(text("ROLLBACK TO SAVEPOINT orphan"))


@pytest.mark.parametrize(
    "old, new",
    [
        (";Figeac;", ";Figeac ;"),  # trailing space
        (";Figeac;", ";\u00a0Figeac;"),  # no-break space
        (";Figeac;", ";Figeac\t;"),  # tab
        (";Figeac;", ";\u3000Figeac;"),  # ideographic space
        (";CHAMPOLLION;", ';"CHAMPOLLION ";'),  # blank inside quotes
        (";CHAMPOLLION;", ';"CHAMP"OLLION;'),  # quote inside a cell
    ],
)
def test_a_changed_line_with_blanks_or_quotes_is_read_by_the_reader(
    pms: Connection, tmp_path: Path, old: str, new: str
) -> None:
    _import(pms, _write(tmp_path / "IPE_AXIO_46_20211231.csv", ROWS))
    changed = ROWS[1].replace("EN COURS DE DEPLOIEMENT", "DEPLOYE").replace(old, new, 1)
    assert new in changed
    later = [ROWS[0], changed, *ROWS[2:]]
    outcome = _import(pms, _write(tmp_path / "IPE_AXIO_46_20220331.csv", later))
    assert outcome.status == "OK", outcome.problems
    row = pms.execute(
        text(
            "SELECT etat, commune_nom, nom_voie, source_hash FROM premise "
            "WHERE identifiant_immeuble = 'IMB/46102/X/0002'"
        )
    ).one()
    # the reader stripped the blanks or read the quotes; it leaves no fingerprint
    assert tuple(row) == ("DEPLOYE", "Figeac", "CHAMPOLLION", None)


def test_the_insert_of_new_premises_never_reads_the_table_it_fills(
    pms: Connection, tmp_path: Path
) -> None:
    """Statistics of an empty premise table (autovacuum analysed it after a purge) once made the
    planner look each new premise up by scanning premise while filling it: minutes instead of
    seconds for a first load. The new premises are known before any write instead."""
    pms.execute(text("ANALYZE premise"))
    outcome = _import(pms, _write(tmp_path / "IPE_AXIO_46_20211231.csv", ROWS))
    assert outcome.counts["immeubles_nouveaux"] == len(ROWS)
    insert = ipe.statements("ipe_merge")["insert_new_premises"]
    plan = pms.execute(text("EXPLAIN " + insert), {"j": outcome.journal_id}).scalars().all()
    scans = [line for line in plan if " on " in line and "Insert on" not in line]
    assert scans and not any(" on premise " in f"{line} " for line in scans), plan


def test_backslashes_are_kept_as_written(pms: Connection, tmp_path: Path) -> None:
    """COPY's text format reads \\t or \\N as escapes: a line holding a backslash is never
    read that way."""
    written = "Bât. A\\tB\\N\\\\"
    rows = [ROWS[0].replace(";GAMBETTA;", f";{written};", 1), *ROWS[1:]]
    outcome = _import(pms, _write(tmp_path / "IPE_AXIO_46_20211231.csv", rows))
    assert outcome.status == "OK", outcome.problems
    stored = pms.execute(
        text("SELECT nom_voie FROM premise WHERE identifiant_immeuble = 'IMB/46042/X/0001'")
    ).scalar_one()
    assert stored == written


def test_quoted_files_skip_their_unchanged_lines_too(pms: Connection, tmp_path: Path) -> None:
    rows = [quoted(r) for r in ROWS]
    first = _import(pms, _write(tmp_path / "IPE_AXIO_46_20211231.csv", rows, header=quoted(HEADER)))
    assert first.status == "OK" and _fingerprinted(pms) == len(ROWS)
    rows[1] = rows[1].replace("EN COURS DE DEPLOIEMENT", "DEPLOYE")
    second = _import(pms, _write(tmp_path / "IPE_AXIO_46_20220331.csv", rows))
    assert (second.counts["immeubles_modifies"], second.counts["changements_etat"]) == (1, 1)
    assert second.counts["retires"] == 0
    # the operator stops quoting (header included): same content, nothing read again
    third = _import(
        pms,
        _write(
            tmp_path / "IPE_AXIO_46_20220630.csv",
            [r.replace('"', "") for r in rows],
            header=HEADER,
        ),
    )
    assert third.status == "OK" and third.counts["immeubles_modifies"] == 0


@pytest.mark.parametrize(
    "old, new",
    [
        (";GAMBETTA;", ';"GAMBETTA";'),  # wholly quoted: the fast way
        (";12;;BD;", ';12;"";BD;'),  # an empty quoted cell
        (";GAMBETTA;", ';GAMB"ETTA;'),  # a quote inside a plain cell
        (";GAMBETTA;", ';"GAMB"ETTA";'),  # a quote inside a quoted cell
        (";GAMBETTA;", ';"GAMB""ETTA";'),  # a doubled quote
        (";BD;GAMBETTA;", ';BD";"GAMBETTA;'),  # a closing then an opening quote
        (";GAMBETTA;", ';"GAMB;ETTA";'),  # a separator between quotes
    ],
)
def test_quotes_are_read_as_the_reader_reads_them(
    pms: Connection, tmp_path: Path, old: str, new: str
) -> None:
    """Whatever the quoting, the import stores what the thorough reader stores (or refuses the
    file as it does)."""
    rows = [ROWS[0].replace(old, new, 1), *ROWS[1:]]
    assert rows[0] != ROWS[0]
    path = _write(tmp_path / "IPE_AXIO_46_20211231.csv", rows)

    def outcome(reader: bool) -> object:
        try:
            _import(pms, path, reader=reader)
        except ipe.ImportRejectedError as exc:
            pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))
            return ("refusé", str(exc))
        stored = [row[:-9] for row in _contents(pms)]  # without the premise history
        pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))
        return stored

    assert outcome(reader=False) == outcome(reader=True)


NEW = ROWS[4].replace("X/0005", "X/0007").replace("46268_0001_00003", "46268_0001_00007")


@pytest.mark.parametrize(
    ("extra", "twice"),
    [
        ([ROWS[0]], "IMB/46042/X/0001"),  # an unchanged line written twice
        ([ROWS[1].replace(";2;0;EN COURS", ";3;0;EN COURS")], "IMB/46102/X/0002"),  # kept, changed
        ([NEW, NEW.replace(";L93;1;0;", ";L93;2;0;")], "IMB/46268/X/0007"),  # two new lines
        ([NEW, NEW], "IMB/46268/X/0007"),  # the same new line twice
    ],
)
def test_a_second_line_for_one_premise_is_reported_by_the_reader(
    pms: Connection, tmp_path: Path, extra: list[str], twice: str
) -> None:
    """The fast way counts unchanged lines instead of keeping each: a duplicate identifier,
    whichever lines carry it, still sends the file to the reader, which names the line."""
    _import(pms, _write(tmp_path / "IPE_AXIO_46_20211231.csv", ROWS))
    before = _contents(pms)
    with pytest.raises(ImportRejectedError) as refused:
        _import(pms, _write(tmp_path / "IPE_AXIO_46_20220331.csv", [*ROWS, *extra]))
    pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))
    assert [(p["line"], p["value"]) for p in refused.value.problems] == [
        (len(ROWS) + len(extra) + 1, twice)  # the header is line 1
    ]
    assert "en double" in str(refused.value.problems[0]["reason"])
    assert _contents(pms) == before


def _many_rows(n: int) -> list[str]:
    """n distinct premises (the first row's content under other identifiers)."""
    return [ROWS[0].replace("IMB/46042/X/0001", f"IMB/46042/X/{1000 + i}", 1) for i in range(n)]


def test_a_gzip_file_is_sent_piece_by_piece_with_the_checks_of_a_whole_file(
    pms: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gzip file is inflated while COPY sends it: a CR, a NUL byte, a backslash or a corrupt
    end met further on give what the whole file gives."""
    monkeypatch.setattr(ipe_stage, "_PIECE_BYTES", 4096)  # the cases below: past the first pieces
    rows = _many_rows(600)  # ~140 kB: beyond the 64 kB read before sending
    plain = _write(tmp_path / "IPE_AXIO_46_20211231.csv", rows)
    _import(pms, plain, reader=True)
    expected = _contents(pms)
    pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))

    def gz(name: str, content: bytes) -> Path:
        path = tmp_path / name / "IPE_AXIO_46_20211231.csv.gz"
        path.parent.mkdir()
        path.write_bytes(gzip.compress(content))
        return path

    unpacked: list[str] = []  # the whole content inflated at once (the decoded way)
    unpack = ipe_stage.source.unpack
    monkeypatch.setattr(
        ipe_stage.source,
        "unpack",
        lambda path, raw: unpacked.append(path.name) or unpack(path, raw),
    )
    content = plain.read_bytes()
    crlf_at_the_end = content[:-1] + b"\r\n"
    for path, whole in ((gz("lf", content), 0), (gz("crlf", crlf_at_the_end), 1)):
        unpacked.clear()
        outcome = _import(pms, path)
        assert len(unpacked) == whole, path  # the CR met while sending: sent again decoded
        assert outcome.status == "OK", (path, outcome.problems)
        assert _fingerprinted(pms) == len(rows), path  # the fast way
        assert _contents(pms) == expected, path
        pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))

    backslash = (
        content[: -len(rows[-1]) - 1] + rows[-1].replace("GAMBETTA", "GAMB\\ETTA").encode() + b"\n"
    )
    outcome = _import(pms, gz("backslash", backslash))
    assert outcome.status == "OK" and _fingerprinted(pms) == 0  # the reader's way
    pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))

    for name, bad, reason in (
        ("nul", content[:-20] + b"\x00" + content[-19:], "contenu binaire"),
        ("corrupt", None, "tronqué ou corrompu"),
    ):
        path = gz(name, bad or content)
        if bad is None:
            path.write_bytes(path.read_bytes()[:-12])  # its end cut off
        with pytest.raises(ImportRejectedError) as refused:
            _import(pms, path)
        assert reason in str(refused.value), name
        pms.execute(text("ROLLBACK TO SAVEPOINT one_import"))
