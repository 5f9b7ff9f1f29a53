"""The Upload page shows the columns it found and the first rows, and takes the organiser's
assignments before importing: a German workbook goes in without renaming a column."""

from __future__ import annotations

import html
import re

from tests.conftest import csrf_token
from tests.test_import_columns import xlsx

HEADER = ["Name", "E-Mail", "Stadt", "Dienststelle", "Funktion", "Sprache"]
ROWS = [["Dr. Jürgen Kröger", "jk@example.de", "Bremen", "Senator für Finanzen", "Referent",
         "Deutsch"],
        ["van der Veen, Marijke", "mv@example.nl", "Groningen", "Gemeente Groningen",
         "Beleidsadviseur", "Nederlands"]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def post_file(client, data: bytes, name: str = "Teilnehmer.xlsx"):
    import io

    token = csrf_token(client, "/participants/upload")
    return client.post("/participants/upload", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(data), name, XLSX)})


def mapping(page: str) -> dict[str, str]:
    """Column -> the selected field, as the mapping table shows it."""
    out = {}
    for row in re.findall(r"<tr class=\"mapping-\w+\">(.*?)</tr>", page, re.S):
        column = html.unescape(re.search(r'name="column" value="([^"]*)"', row).group(1))
        chosen = re.search(r'<option value="([^"]*)" selected>', row).group(1)
        out[column] = chosen
    return out


def preview(page: str) -> list[list[str]]:
    body = re.search(r'<table class="preview-rows">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def test_a_german_workbook_from_upload_to_import(organiser, db, app):
    response = post_file(organiser, xlsx([HEADER, *ROWS]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert mapping(page) == {"Name": "name", "E-Mail": "email", "Stadt": "city",
                             "Dienststelle": "", "Funktion": "", "Sprache": "language"}
    assert "not recognised: not imported" in page
    # The split names, as they will be imported, before anything is.
    rows = preview(page)
    assert rows[0][:4] == ["2", "Dr.", "Jürgen", "Kröger"]
    assert rows[1][:4] == ["3", "", "Marijke", "van der Veen"]
    assert 'id="defaults"' in page and "Organisation type: <strong>Other" in page
    before = db.execute("SELECT count(*) FROM participants").fetchone()[0]

    # Dienststelle is the organisation; Funktion is not wanted.
    token = token_of(page)
    again = organiser.post("/participants/upload/columns", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": token,
        "column": list(mapping(page)), "field": ["name", "email", "city", "organisation",
                                                 "ignore", "language"]})
    page = again.get_data(as_text=True)
    assert again.status_code == 200, page
    assert mapping(page)["Dienststelle"] == "organisation"
    assert "your choice" in page and "not recognised: not imported" not in page
    assert "Senator für Finanzen" in page
    assert re.search(r'id="plan-created">2<', page)
    assert db.execute("SELECT count(*) FROM participants").fetchone()[0] == before

    done = organiser.post("/participants/upload/confirm", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": token_of(page)})
    assert done.status_code == 302
    got = [tuple(r) for r in db.execute(
        "SELECT title, first_name, last_name, organisation, language FROM participants "
        "WHERE id > 60 ORDER BY id")]
    assert got == [("Dr.", "Jürgen", "Kröger", "Senator für Finanzen", "de"),
                   ("", "Marijke", "van der Veen", "Gemeente Groningen", "nl")]
    # Imported: the kept file and the choices made for it are gone.
    from pathlib import Path

    assert list((Path(app.config["DATABASE"]).parent / "uploads").iterdir()) == []


def test_a_wide_workbook_keeps_every_assignment(organiser, db):
    # 150 columns of notes, each told to be ignored: more than a session cookie could hold.
    header = ["Vorname", "Nachname"] + [f"Bemerkung zur Anmeldung Nummer {i}" for i in range(150)]
    data = xlsx([header, ["Anna", "Meyer"] + ["x"] * 150])
    page = post_file(organiser, data).get_data(as_text=True)
    assert page.count("mapping-unplaced") == 150
    page = organiser.post("/participants/upload/columns", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": token_of(page),
        "column": header, "field": ["first_name", "last_name"] + ["ignore"] * 150}
    ).get_data(as_text=True)
    assert page.count("mapping-unplaced") == 0 and "Warnings" not in page
    done = organiser.post("/participants/upload/confirm", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": token_of(page)})
    assert done.status_code == 302
    assert db.execute("SELECT count(*) FROM participants WHERE last_name = 'Meyer' "
                      "AND first_name = 'Anna'").fetchone()[0] == 1


def test_columns_can_fix_a_header_problem(organiser, db):
    # No recognisable name column: a problem of line 1, which assigning a column solves.
    data = xlsx([["Person", "Familie"], ["Anna", "Meyer"]])
    page = post_file(organiser, data).get_data(as_text=True)
    assert "the header has no First name column" in page
    assert "Import now" not in page
    page = organiser.post("/participants/upload/columns", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": token_of(page),
        "column": ["Person", "Familie"], "field": ["first_name", "last_name"]}
    ).get_data(as_text=True)
    assert "Import now" in page and re.search(r'id="plan-created">1<', page)


def test_columns_of_someone_elses_or_an_unknown_upload_change_nothing(organiser, app):
    page = post_file(organiser, xlsx([HEADER, *ROWS])).get_data(as_text=True)
    other = app.test_client()
    other.post("/login", data={"username": "orga", "password": "correct horse battery",
                               "csrf_token": csrf_token(other)})
    response = other.post("/participants/upload/columns", data={
        "csrf_token": csrf_token(other, "/participants"), "token": token_of(page),
        "column": ["Name"], "field": ["ignore"]})
    assert response.status_code == 302 and response.headers["Location"] == "/participants/upload"
    # A field that does not exist is not taken: the column stays as recognised.
    page = organiser.post("/participants/upload/columns", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": token_of(page),
        "column": ["Name"], "field": ["<script>"]}).get_data(as_text=True)
    assert mapping(page)["Name"] == "name" and "<script>" not in page


def test_upload_page_in_german_and_dutch(organiser):
    organiser.get("/participants/upload?lang=de")
    page = post_file(organiser, xlsx([HEADER, *ROWS])).get_data(as_text=True)
    assert "Spalten in Teilnehmer.xlsx" in page and "Vorname" in page
    organiser.get("/participants/upload?lang=nl")
    page = post_file(organiser, xlsx([HEADER, *ROWS])).get_data(as_text=True)
    assert "Kolommen in Teilnehmer.xlsx" in page and "Voornaam" in page
