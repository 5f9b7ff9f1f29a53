"""Organisers' own files: .xlsx workbooks, German and Dutch headers and values, one Name column."""

from __future__ import annotations

import io
import os

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from checkin.cli import cli
from checkin.participants.columns import (
    COLUMN_NAMES,
    build_mapping,
    key,
    parse_overrides,
    split_name,
)
from checkin.participants.csvfile import CSVFileError, import_file, read_file

GERMAN_HEADER = ["Vorname", "Nachname", "Organisation", "Organisationstyp", "Stadt", "E-Mail",
                 "Sprache", "Arbeitsgruppe", "Exkursion", "Rolle", "Funktion", "Dienststelle"]
GERMAN_ROWS = [
    ["Jürgen", "Groß-Bölting", "Universität Bremen", "Universität", "Bremen",
     "j.gross@example.de", "Deutsch", "Wasserstoff und Mobilität", "Bike Tour Groningen",
     "Referent", "Professor", "FB 4"],
    ["Renée", "Ter Haar-Weiß", "swb AG", "Unternehmen", "Bremen", "renee@example.de",
     "Englisch", "abfall", "", "Teilnehmerin", "", ""],
    ["Hans-Peter", "von Hammerstein", "Stadt Oldenburg", "Verwaltung", "Oldenburg",
     "hp@example.de", "Niederländisch", "ONLINE-DIENSTE", "groninger forum", "", "",
     "Amt 10"],
]


def xlsx(rows, title="Teilnehmer", extra=None):
    """Write rows into a new workbook with openpyxl and return its bytes."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    if extra:
        extra(book, sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def people(db, where="id > 60"):
    return list(db.query(f"SELECT * FROM participants WHERE {where} ORDER BY id"))  # noqa: S608


def test_german_workbook_imports_without_renaming_a_column(db):
    data = xlsx([GERMAN_HEADER, *GERMAN_ROWS])
    result = import_file(db, data, overrides={"Funktion": "ignore"})
    assert result["problems"] == [], result["problems"]
    assert result["created"] == 3
    # "Dienststelle" was neither recognised nor assigned: shown, not imported, not guessed.
    assert any("'Dienststelle'" in w for w in result["warnings"])
    got = people(db)
    assert [(p["first_name"], p["last_name"]) for p in got] == [
        ("Jürgen", "Groß-Bölting"), ("Renée", "Ter Haar-Weiß"), ("Hans-Peter", "von Hammerstein")]
    assert [(p["language"], p["organisation_type"], p["role"]) for p in got] == [
        ("de", "university", "speaker"), ("en", "company", "participant"),
        ("nl", "administration", "participant")]
    assert [(p["working_group"], p["excursion"]) for p in got] == [
        ("wasserstoff", "bike-tour"), ("abfall", None), ("online-dienste", "forum")]
    assert all(p["organisation"] not in ("FB 4", "Amt 10") for p in got)


def test_assigning_a_column_imports_it(db):
    rows = [["Vorname", "Nachname", "Dienststelle"], ["Anna", "Meyer", "Amt für Statistik"]]
    result = import_file(db, xlsx(rows), overrides={"Dienststelle": "organisation"})
    assert result["problems"] == [] and result["warnings"] == []
    assert people(db)[0]["organisation"] == "Amt für Statistik"


def test_dutch_csv_from_excel_semicolons_windows_1252(db):
    text = ("Voornaam;Achternaam;Organisatie;Type organisatie;Plaats;E-mailadres;Taal;"
            "Werkgroep;Excursie;Rol\r\n"
            "IJsbrand;van der Meer;Gemeente Groningen;Overheid;Groningen;ij@example.nl;"
            "Nederlands;bibliotheken;Avebe Centre Groningen;Organisator\r\n"
            "Siebe;Ter Horst;Hanzehogeschool;Hogeschool;Groningen;;Duits;;;Gids\r\n"
            "Zoë;'t Hart;Forum;Instelling;Groningen;zoe@example.nl;engels;;;deelnemer\r\n")
    result = import_file(db, text.encode("cp1252"))
    assert result["problems"] == [], result["problems"]
    got = people(db)
    assert [(p["first_name"], p["last_name"]) for p in got] == [
        ("IJsbrand", "van der Meer"), ("Siebe", "Ter Horst"), ("Zoë", "'t Hart")]
    assert [(p["language"], p["organisation_type"], p["role"]) for p in got] == [
        ("nl", "administration", "organiser"), ("de", "university", "guide"),
        ("en", "institution", "participant")]
    assert got[0]["excursion"] == "avebe"


def test_missing_optional_columns_get_stated_defaults(db):
    result = import_file(db, b"Voornaam;Achternaam\r\nAnouk;Bijl\r\n")
    assert result["defaults"] == {"language": "de", "organisation_type": "other",
                                  "role": "participant"}
    person = people(db)[0]
    assert (person["language"], person["organisation_type"], person["role"]) == (
        "de", "other", "participant")


NAMES = [
    ("Dr. Jürgen Kröger", ("Dr.", "Jürgen", "Kröger")),
    ("Kröger, Jürgen", ("", "Jürgen", "Kröger")),
    ("van der Veen, Marijke", ("", "Marijke", "van der Veen")),
    ("Marijke van der Veen", ("", "Marijke", "van der Veen")),
    ("Prof. Dr. Anna-Lena Groß", ("Prof. Dr.", "Anna-Lena", "Groß")),
    ("Dr. rer. nat. Hans Peter Müller", ("Dr. rer. nat.", "Hans Peter", "Müller")),
    ("Ir. Jan de Vries", ("Ir.", "Jan", "de Vries")),
    ("Müller-Lüdenscheidt, Dr. Eva", ("Dr.", "Eva", "Müller-Lüdenscheidt")),
    ("Anne ter Haar", ("", "Anne", "ter Haar")),
    ("Ma Lin", ("", "Ma", "Lin")),  # "Ma" counts as a title only as "M.A."
    ("Veen, Marijke van der", ("", "Marijke", "van der Veen")),
    ("Hammerstein, Dr. Hans von", ("Dr.", "Hans", "von Hammerstein")),
    ("Hof, M. van 't", ("", "M.", "van 't Hof")),
    ("Mr. drs. Jan de Vries", ("Mr. drs.", "Jan", "de Vries")),
]


@pytest.mark.parametrize("name, parts", NAMES)
def test_split_name(name, parts):
    assert split_name(name) == parts


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "200")), deadline=None)
@given(st.lists(st.sampled_from(["Dr.", "Prof.", "van", "der", "de", "Jürgen", "Anne",
                                 "Kröger", "IJsbrand", "Groß-Bölting", "'t", "Ir.", "O'Brien"]),
                min_size=1, max_size=6))
def test_split_name_loses_nothing(words):
    title, first, last = split_name(" ".join(words))
    assert " ".join(p for p in (title, first, last) if p).split() == words
    assert last  # something is always the last name


def test_one_name_column_file_keeps_every_name_and_its_title(db):
    rows = [["Name", "E-Mail", "Stadt"],
            ["Dr. Jürgen Kröger", "jk@example.de", "Bremen"],
            ["van der Veen, Marijke", "mv@example.nl", "Groningen"],
            ["Prof. Dr. Anna-Lena Groß", "alg@example.de", "Oldenburg"]]
    reading = read_file(db, xlsx(rows))
    # The preview shows the split before anything is imported.
    assert [(r["title"], r["first_name"], r["last_name"]) for r in reading.preview] == [
        ("Dr.", "Jürgen", "Kröger"), ("", "Marijke", "van der Veen"),
        ("Prof. Dr.", "Anna-Lena", "Groß")]
    result = import_file(db, xlsx(rows))
    assert result["problems"] == [] and result["created"] == 3
    assert [(p["title"], p["first_name"], p["last_name"]) for p in people(db)] == [
        ("Dr.", "Jürgen", "Kröger"), ("", "Marijke", "van der Veen"),
        ("Prof. Dr.", "Anna-Lena", "Groß")]


def test_formula_merged_cell_and_empty_row_get_clear_messages(db):
    def shape(book, sheet):
        sheet["C3"] = "=UPPER(A3)"
        sheet.merge_cells("D4:D5")

    rows = [["Vorname", "Nachname", "Organisation", "Stadt"],
            ["Anna", "Meyer", "Stadt Bremen", "Bremen"],
            ["Bert", "Jansen", None, "Groningen"],
            ["Carla", "Smit", "RUG", "Groningen"],
            ["Dirk", "Bos", "RUG", None],
            [None, None, None, None],
            ["Eva", "Lange", "Uni Oldenburg", "Oldenburg"]]
    before = len(people(db, "1"))
    result = import_file(db, xlsx(rows, extra=shape))
    text = "\n".join(result["problems"])
    assert "line 3: cell C3 holds a formula (=UPPER(A3))" in text
    assert "line 4: cells D4:D5 are merged" in text
    assert any("empty row(s) 6 were skipped" in w for w in result["warnings"])
    assert result["created"] == 0 and len(people(db, "1")) == before


def test_header_below_a_title_row_and_other_sheets(db):
    def more(book, sheet):
        sheet.merge_cells("A1:C1")  # a banner above the header is no problem
        other = book.create_sheet("Bremen")
        other.append(["Vorname", "Nachname"])
        other.append(["Jörg", "Wübbena"])

    rows = [["Teilnehmerliste 2019", None, None], [None, None, None],
            ["Vorname", "Nachname", "Stadt"], ["Anna", "Meyer", "Bremen"]]
    data = xlsx(rows, extra=more)
    result = import_file(db, data, dry_run=True)
    assert result["problems"] == [] and result["rows"] == 1
    assert any("above the header were skipped" in w for w in result["warnings"])
    assert any("'Bremen'" in w for w in result["warnings"])
    assert import_file(db, data, sheet="Bremen")["created"] == 1
    assert people(db)[0]["last_name"] == "Wübbena"
    with pytest.raises(CSVFileError, match="no sheet 'Köln'"):
        import_file(db, data, sheet="Köln")


@pytest.mark.parametrize("data, message", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel file"),
    (b"PK\x03\x04broken zip", "cannot be read as an Excel workbook"),
])
def test_unreadable_workbooks_are_clear_errors(db, data, message):
    with pytest.raises(CSVFileError, match=message):
        import_file(db, data)


def test_column_names_ignore_case_accents_spaces_and_punctuation():
    header = ["VORNAME", " nach-name ", "e_mail", "Type Organisatie", "Organisationstyp"]
    mapping = build_mapping(header)
    assert mapping.fields[:4] == ["first_name", "last_name", "email", "organisation_type"]
    assert mapping.problems  # two columns give organisation_type: said, not guessed
    assert key("Straße") == key("Strasse") == "strasse"


def test_bad_map_options_are_refused():
    with pytest.raises(ValueError, match="COLUMN=FIELD"):
        parse_overrides(["Funktion"])
    with pytest.raises(ValueError, match="is not a field"):
        parse_overrides(["Funktion=job"])


def test_cli_dry_run_prints_the_mapping_and_changes_nothing(db_path, tmp_path, db):
    path = tmp_path / "Teilnehmer.xlsx"
    path.write_bytes(xlsx([GERMAN_HEADER, *GERMAN_ROWS]))
    before = len(people(db, "1"))
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db_path), "import", str(path), "--dry-run",
                                 "--map", "Funktion=ignore",
                                 "--map", "Dienststelle=organisation"])
    assert result.exit_code == 1, result.output  # Organisation and Dienststelle both
    assert "all give Organisation" in result.output
    result = runner.invoke(cli, ["--db", str(db_path), "import", str(path), "--dry-run",
                                 "--map", "Funktion=ignore"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Vorname" in out and "-> first_name" in out and "Funktion" in out
    assert 'not recognised, not imported (--map "Dienststelle=FIELD"' in out
    assert "3 would be new" in out and "line 2: first_name='Jürgen'" in out
    assert len(people(db, "1")) == before
    result = runner.invoke(cli, ["--db", str(db_path), "import", str(path),
                                 "--map", "Funktion=ignore", "--map", "Dienststelle=ignore"])
    assert result.exit_code == 0 and "3 new" in result.output
    # The defaults the file left to us are said on a real import too.
    assert "Defaults for missing columns: " not in result.output  # it has all three
    path.write_bytes(xlsx([["Vorname", "Nachname"], ["Ada", "Lovelace"]]))
    result = runner.invoke(cli, ["--db", str(db_path), "import", str(path)])
    assert ("Defaults for missing columns: language = de, organisation_type = other, "
            "role = participant") in result.output


def test_groups_and_excursions_by_their_title_in_any_of_the_events_languages(db, tmp_path):
    from checkin import badges
    from checkin.core.event import apply_event, parse_event
    from checkin.demo import EVENT_TOML

    toml = EVENT_TOML.replace(
        'title = "Wasserstoff und Mobilität"',
        'title = "Wasserstoff und Mobilität"\n'
        'titles = { nl = "Waterstof en mobiliteit", en = "Hydrogen and mobility" }')
    apply_event(db, parse_event(toml))
    text = ("Voornaam;Achternaam;Taal;Werkgroep\r\n"
            "Anouk;Bijl;Nederlands;Waterstof en Mobiliteit\r\n"
            "Tom;Smith;English;hydrogen and mobility\r\n").encode("cp1252")
    result = import_file(db, text)
    assert result["problems"] == [], result["problems"]
    assert [p["working_group"] for p in people(db)] == ["wasserstoff", "wasserstoff"]
    # And on the badge the wearer reads the title in their own language.
    out = io.BytesIO()
    badges.render_pdf(db, out, [p["id"] for p in people(db)], size="a6")
    (tmp_path / "b.pdf").write_bytes(out.getvalue())
    import subprocess

    text = subprocess.run(["pdftotext", str(tmp_path / "b.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Waterstof en mobiliteit" in text and "Hydrogen and mobility" in text


def test_bad_titles_table_is_refused():
    from checkin.core.event import EventFileError, parse_event
    from checkin.demo import EVENT_TOML

    toml = EVENT_TOML.replace('title = "Groninger Forum"',
                              'title = "Groninger Forum"\ntitles = { fr = "Forum" }')
    with pytest.raises(EventFileError, match="excursion forum: titles must be a table"):
        parse_event(toml)


def test_a_workbook_that_unpacks_into_too_much_is_refused(db):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (201 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(CSVFileError, match="unpacks to more than 200 MB"):
        import_file(db, out.getvalue())


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "200")), deadline=None)
@given(st.sampled_from(sorted((n, f) for f, names in COLUMN_NAMES.items() for n in names)),
       st.lists(st.sampled_from([" ", "-", "_", ".", ":", "*"]), max_size=3), st.randoms())
def test_any_spelling_of_a_known_column_name_is_recognised(name_field, noise, rnd):
    name, target = name_field
    # Shuffle the case and put punctuation or spaces in: still the same column.
    spelled = "".join(ch.upper() if rnd.random() < 0.5 else ch.lower() for ch in name)
    for mark in noise:
        at = rnd.randrange(len(spelled) + 1)
        spelled = spelled[:at] + mark + spelled[at:]
    assert build_mapping([spelled]).fields == [target]
