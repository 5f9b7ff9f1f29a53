"""Participant CSV import and export: Excel's encodings and separators, all-or-nothing."""

import io

import pytest
from click.testing import CliRunner

from checkin.cli import cli
from checkin.participants.csvfile import CSVFileError, export_participants, import_file

HEADER = ["first_name", "last_name", "organisation", "organisation_type", "city", "email",
          "language", "working_group", "excursion", "role"]
PEOPLE = [
    ["Jürgen", "Groß-Bölting", "Universität Bremen", "university", "Bremen",
     "j.gross@example.de", "de", "abfall", "bike-tour", "speaker"],
    ["IJsbrand", "van der Meer", "Gemeente Groningen", "administration", "Groningen",
     "ij.meer@example.nl", "nl", "bibliotheken", "", ""],
    ["Siobhán", "O'Brien", "Stadtbibliothek Oldenburg", "institution", "Oldenburg",
     "", "EN", "", "forum", "guide"],
    ["Renée", "Ter Haar-Weiß", "swb AG", "company", "Bremen", "renee@example.de", "", "", "", ""],
]


def csv_bytes(rows, sep=",", encoding="utf-8", header=HEADER, newline="\r\n"):
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    return (newline.join(lines) + newline).encode(encoding)


def count(db):
    return db.execute("SELECT count(*) FROM participants").fetchone()[0]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_excel_encodings_and_separators(db, sep, encoding):
    result = import_file(db, csv_bytes(PEOPLE, sep=sep, encoding=encoding))
    assert result["problems"] == [] and result["created"] == 4
    names = {(r["first_name"], r["last_name"]) for r in db.query(
        "SELECT * FROM participants WHERE city != '' AND id > 60")}
    # Every name exactly as written.
    assert names == {("Jürgen", "Groß-Bölting"), ("IJsbrand", "van der Meer"),
                     ("Siobhán", "O'Brien"), ("Renée", "Ter Haar-Weiß")}


def test_defaults_and_normalised_values(db):
    import_file(db, csv_bytes(PEOPLE))
    obrien = next(db.query("SELECT * FROM participants WHERE first_name = 'Siobhán'"))
    assert obrien["language"] == "en" and obrien["role"] == "guide"
    assert obrien["email"] is None and obrien["working_group"] is None
    renee = next(db.query("SELECT * FROM participants WHERE email = 'renee@example.de'"))
    # An empty language cell gets the event's first language (the demo event lists de first).
    assert renee["language"] == "de" and renee["role"] == "participant"


def test_columns_in_any_order_and_quoted_cells(db):
    data = (b'email;last_name;first_name;organisation\r\n'
            b'a@example.de;"Meyer; Jr.";"Hans ""Hansi""";"Stadt Oldenburg"\r\n')
    assert import_file(db, data)["created"] == 1
    person = next(db.query("SELECT * FROM participants WHERE email = 'a@example.de'"))
    assert person["last_name"] == "Meyer; Jr." and person["first_name"] == 'Hans "Hansi"'


def test_every_row_problem_is_reported_with_its_line_and_nothing_changes(db):
    before = count(db)
    rows = [
        PEOPLE[0],
        ["", "Nobody", "X", "company", "Bremen", "", "de", "", "", ""],                  # line 3
        ["Ann", "A", "X", "company", "Bremen", "not-an-email", "de", "", "", ""],       # line 4
        ["Bob", "B", "X", "company", "Bremen", "", "fr", "nowhere", "moon", "king"],     # line 5
        ["<script>alert(1)</script>", "C", "X", "company", "Bremen", "", "", "", "", ""],  # 6
        ["Dan", "D", "X", "startup", "Bremen", "", "", "", "", ""],                      # line 7
        ["=cmd|' /C calc'!A0", "E", "X", "company", "Bremen", "", "", "", "", ""],        # line 8
        PEOPLE[0],                                                                       # line 9
    ]
    result = import_file(db, csv_bytes(rows))
    text = "\n".join(result["problems"])
    # Fields are named as the pages label them, not by their column names.
    for needle in ("line 3: First name is missing", "line 4: E-mail 'not-an-email'",
                   "line 5: Language 'fr'", "line 5: Working group 'nowhere'",
                   "line 5: Excursion 'moon'", "line 5: Role 'king'",
                   "line 6: First name contains <",
                   "line 7: Organisation type 'startup'", "line 8: First name starts with '='",
                   "line 9: the same person as on line 2"):
        assert needle in text, needle
    assert result["created"] == 0 and count(db) == before


def test_dry_run_changes_nothing(db):
    before = count(db)
    result = import_file(db, csv_bytes(PEOPLE), dry_run=True)
    assert result["problems"] == [] and result["rows"] == 4
    assert count(db) == before


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"\x00\x01PK\x03\x04binary", "binary"),
    (b"first_name last_name\r\nA B\r\n", "separator"),
    (b'first_name,last_name\r\n"Ann,B\r\nC,D\r\n', "broken CSV"),
    (b"\x81\x8d\x8f\x90\x9d", "neither UTF-8 nor Windows-1252"),
])
def test_broken_files_are_clear_errors(db, data, message):
    before = count(db)
    with pytest.raises(CSVFileError, match=message):
        import_file(db, data)
    assert count(db) == before


@pytest.mark.parametrize("data, message", [
    (b"Anrede,email\r\nA,b@example.de\r\n", "line 1: the header has no First name column"),
    (b"first_name,last_name,first_name\r\nA,B,C\r\n",
     "line 1: columns 'first_name', 'first_name' all give First name"),
])
def test_header_problems_are_problems_of_line_1(db, data, message):
    # Not a refusal of the file: the Upload page offers to assign the columns instead.
    before = count(db)
    result = import_file(db, data)
    assert result["problems"][0].startswith(message) and count(db) == before


def test_too_many_cells_is_a_row_problem(db):
    result = import_file(db, b"first_name,last_name\r\nA,B,C\r\n")
    assert result["problems"] == ["line 2: more cells than the header has columns"]


def test_unknown_columns_are_ignored_with_a_warning(db):
    result = import_file(db, b"first_name,last_name,notes\r\nA,B,vegetarian\r\n")
    assert result["created"] == 1 and "notes" in result["warnings"][0]


def test_reimport_updates_people_and_keeps_their_codes(db):
    import_file(db, csv_bytes(PEOPLE))
    codes = dict(db.execute("SELECT last_name, code FROM participants WHERE id > 60"))
    changed = [r[:] for r in PEOPLE]
    changed[0][2] = "Hochschule Bremen"          # matched by e-mail
    changed[2][5] = ""                            # O'Brien: matched by name and organisation
    changed[2][9] = "speaker"
    result = import_file(db, csv_bytes(changed))
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 2, 2)
    assert dict(db.execute("SELECT last_name, code FROM participants WHERE id > 60")) == codes
    assert count(db) == 64


def test_export_reimports_cleanly(db):
    out = io.StringIO()
    assert export_participants(db, out) == 60
    data = out.getvalue().encode("utf-8-sig")
    assert data.decode("utf-8-sig").splitlines()[0] == ",".join(HEADER + ["title", "phone", "code"])
    result = import_file(db, data)
    assert result["problems"] == [] and result["unchanged"] == 60 and result["created"] == 0


def test_cli_import_reports_problems_and_exits_nonzero(db_path, tmp_path, db):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["", "X", "", "", "", "", "", "", "", ""]]))
    result = CliRunner().invoke(cli, ["--db", str(db_path), "import", str(bad)])
    assert result.exit_code == 1
    assert "line 2: First name is missing" in result.output
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(PEOPLE, sep=";", encoding="cp1252"))
    result = CliRunner().invoke(cli, ["--db", str(db_path), "import", str(good), "--dry-run"])
    assert result.exit_code == 0 and count(db) == 60
    result = CliRunner().invoke(cli, ["--db", str(db_path), "import", str(good)])
    assert result.exit_code == 0 and "4 new" in result.output and count(db) == 64


def test_cli_export(db_path, tmp_path):
    target = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "export", "participants",
                                      "-o", str(target)])
    assert result.exit_code == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbffirst_name,")
