"""Delegations from the event file: the spellings that mean each, an unknown city under
"other" with a warning by line, and the import succeeding (command line and upload page)."""

from __future__ import annotations

import io

from click.testing import CliRunner

from checkin.cli import cli
from checkin.core.delegations import city_map
from checkin.core.event import EventFileError, parse_event
from tests.conftest import csrf_token
from tests.test_participants_pages import pending_token

DELEGATIONS = """
[[delegations]]
id = "groningen"
name = "Groningen"
spellings = ["Gemeente Groningen", "Stad Groningen"]

[[delegations]]
id = "bremen"
name = "Bremen"
spellings = ["Freie Hansestadt Bremen"]

[[delegations]]
id = "oldenburg"
name = "Oldenburg"

[[delegations]]
id = "other"
name = "Other"
"""
HEADER = "first_name,last_name,organisation,organisation_type,city,email,language"
ROWS = [
    "Anke,Delegata,Gemeente Groningen,administration,gemeente  groningen,,nl",  # line 2
    "Bernd,Delegato,Senat,administration,Freie Hansestadt Bremen,,de",           # line 3
    "Cora,Delegatis,Uni,university,OLDENBURG,,de",                                # line 4
    "Dirk,Delegatus,Gemeente,administration,Emden,,de",                           # line 5
    "Eva,Delegatum,Verein,institution,,,de",                                      # line 6
]


def _people_file(tmp_path):
    path = tmp_path / "delegates.csv"
    path.write_text("\r\n".join([HEADER, *ROWS]) + "\r\n", encoding="utf-8")
    return path


def _with_delegations(db_path, tmp_path) -> None:
    """`checkin init` with the demo event file and its delegations, as an organiser runs it."""
    event = tmp_path / "event.toml"
    event.write_text((tmp_path / "demo-event.toml").read_text(encoding="utf-8") + DELEGATIONS,
                     encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(db_path), "init", str(event)])
    assert result.exit_code == 0, result.output


def _cities(db) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute(
        "SELECT last_name, city FROM participants WHERE last_name LIKE 'Delegat%'")}


EXPECTED = {"Delegata": "Groningen", "Delegato": "Bremen", "Delegatis": "Oldenburg",
            "Delegatus": "Other", "Delegatum": ""}


def test_cli_import_maps_spellings_and_warns_of_an_unknown_city_by_line(db_path, tmp_path,
                                                                        db):
    _with_delegations(db_path, tmp_path)
    result = CliRunner().invoke(cli, ["--db", str(db_path), "import",
                                      str(_people_file(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "5 new" in result.output
    warnings = [line for line in result.output.splitlines() if "warning" in line]
    assert warnings == [f"{tmp_path / 'delegates.csv'}: warning: line 5: City (delegation) "
                        "'Emden' is none of the event's delegations: counted under Other"]
    assert _cities(db) == EXPECTED
    # The delegations' view counts them where they belong.
    cities = {r[0] for r in db.execute("SELECT DISTINCT city FROM participants")}
    assert cities == {"Groningen", "Bremen", "Oldenburg", "Other", ""}


def test_the_upload_page_warns_by_line_and_imports(db_path, tmp_path, organiser, db):
    _with_delegations(db_path, tmp_path)
    data = _people_file(tmp_path).read_bytes()
    token = csrf_token(organiser, "/participants/upload")
    page = organiser.post("/participants/upload?lang=de", content_type="multipart/form-data",
                          data={"csrf_token": token, "file": (io.BytesIO(data), "d.csv")})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Zeile 5: Stadt (Delegation) &#39;Emden&#39; ist keine der Delegationen" in text
    assert _cities(db) == {}  # nothing stored before "Import now"
    done = organiser.post("/participants/upload/confirm", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": pending_token(text)})
    assert done.status_code == 302
    assert _cities(db) == EXPECTED


def test_without_delegations_a_city_stays_as_typed(db_path, tmp_path, db):
    assert city_map(db) is None
    result = CliRunner().invoke(cli, ["--db", str(db_path), "import",
                                      str(_people_file(tmp_path))])
    assert result.exit_code == 0 and "warning" not in result.output
    assert _cities(db)["Delegatus"] == "Emden"
    assert _cities(db)["Delegata"] == "gemeente  groningen"


def test_the_event_file_is_checked():
    base = "[event]\nname = 'X'\nvenue = 'Y'\nhost_city = 'Z'\ndate = 2019-11-12\n"
    for section, problem in [
        ('[[delegations]]\nid = "a"\nname = "A"\n', 'needs one with id = "other"'),
        ('[[delegations]]\nid = "a"\nname = "A"\nspellings = ["B"]\n'
         '[[delegations]]\nid = "other"\nname = "b"\n', "'b' already means delegation a"),
        ('[[delegations]]\nid = "other"\n', "delegation other: name is missing"),
        ('[[delegations]]\nid = "other"\nname = "O"\nspellings = "x"\n', "must be a list"),
    ]:
        try:
            parse_event(base + section)
        except EventFileError as exc:
            assert any(problem in p for p in exc.problems), exc.problems
        else:
            raise AssertionError(f"accepted: {section}")
