"""Issue 8, exports and input: no formulas out, no invisible characters in, short error lists."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from checkin.cli import cli
from checkin.core.cells import spreadsheet_cell
from checkin.participants.csvfile import import_file
from tests.conftest import csrf_token

NASTY = {"organisation": "-2+3+cmd|' /C calc'!A0", "city": "-@SUM(1)"}


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(1)", "\tx", "\rx"])
def test_the_one_cell_function_neutralises_every_formula_start(value):
    assert spreadsheet_cell(value) == "'" + value
    assert spreadsheet_cell("Groningen") == "Groningen" and spreadsheet_cell(None) == ""
    assert spreadsheet_cell(3) == 3


def _nasty_person(db) -> None:
    data = ("first_name,last_name,organisation,city\r\n"
            f"Eve,Formula,\"{NASTY['organisation']}\",{NASTY['city']}\r\n").encode()
    result = import_file(db, data)
    assert not result["problems"], result["problems"]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_participants_export_neutralises_formulas(db, db_path, organiser, tmp_path):
    _nasty_person(db)
    out = tmp_path / "people.csv"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "export", "participants", "-o",
                                      str(out)])
    assert result.exit_code == 0, result.output
    for text in (out.read_text(encoding="utf-8-sig"),
                 organiser.get("/participants/export.csv").data.decode("utf-8-sig")):
        cells = _cells(text)
        for value in NASTY.values():
            assert value not in cells and "'" + value in cells


def test_attendance_exports_neutralise_formulas(db, organiser):
    _nasty_person(db)
    db.execute("UPDATE participants SET first_name = '=HYPERLINK(1)' WHERE last_name = 'Formula'")
    db.conn.commit()
    path = "/reports/attendance.csv"
    response = organiser.get(path)
    assert response.status_code == 200
    cells = _cells(response.data.decode("utf-8-sig"))
    assert "'=HYPERLINK(1)" in cells and "=HYPERLINK(1)" not in cells
    xlsx = organiser.get(path.replace(".csv", ".xlsx"))
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "'" + NASTY["city"] in values and NASTY["city"] not in values


@pytest.mark.parametrize("bad", ["\u202eGroningen", "Gro\u200bningen", "\u2066Bremen\u2069",
                                 "Olden\ufeffburg", "Bre\u00admen"])
def test_import_refuses_bidi_controls_and_invisible_characters(db, bad):
    data = f"first_name,last_name,city\r\nAnna,Bakker,Groningen\r\nJan,Visser,{bad}\r\n"
    result = import_file(db, data.encode())
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("line 3:")
    assert "U+" in result["problems"][0]
    assert not db.execute("SELECT 1 FROM participants WHERE last_name = 'Visser'").fetchone()


def _bad_file(rows: int) -> bytes:
    lines = ["first_name,last_name,email"] + [f"A{n},B{n},no-address-{n}" for n in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_cli_lists_200_problems_and_counts_the_rest(db_path, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(_bad_file(1_000))
    result = CliRunner().invoke(cli, ["--db", str(db_path), "import", str(path)])
    assert result.exit_code == 1
    listed = [line for line in result.output.splitlines() if ": line " in line]
    assert len(listed) == 200
    assert "800 more problem" in result.output


@pytest.mark.slow
def test_upload_page_lists_200_problems_and_counts_the_rest(organiser):
    token = csrf_token(organiser, "/participants/upload")
    response = organiser.post("/participants/upload", data={
        "csrf_token": token, "file": (io.BytesIO(_bad_file(20_000)), "bad.csv")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    problems = html[html.index('<table class="problems">'):]
    problems = problems[:problems.index("</table>")]
    assert len(re.findall(r'<td class="line">', problems)) == 200
    assert "19800 more problems" in html
    assert len(html) < 200_000


def test_device_names_refuse_invisible_characters(db):
    from checkin.devices import DeviceError, add_device

    with pytest.raises(DeviceError):
        add_device(db, "Door\u202e1", "scanner")
