"""The organisers' participant pages through Flask's test client, on the real demo database."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from pathlib import Path

import pytest

from checkin import create_app
from checkin.core.codes import resolve
from checkin.participants import upload as uploads
from checkin.participants.csvfile import CSVFileError, export_participants
from checkin.participants.records import COLUMNS, add_participant
from tests.conftest import ORGANISER, csrf_token

HEADER = ",".join(COLUMNS)


def listed_ids(page: str) -> set[int]:
    """The participant ids a list page links to."""
    return {int(n) for n in re.findall(r'href="/participants/(\d+)"', page)}


def db_count(path) -> int:
    from checkin.core.db import connect

    conn = connect(path)
    try:
        return conn["participants"].count
    finally:
        conn.conn.close()


def count(db) -> int:
    return db["participants"].count


def post_csv(client, data: bytes, filename: str = "people.csv"):
    token = csrf_token(client, "/participants/upload")
    return client.post("/participants/upload", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(data), filename)})


def pending_token(page: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', page)
    assert match, "no Import now form"
    return match.group(1)


# --- The list -----------------------------------------------------------------------------

def test_list_shows_everyone_with_count(organiser, db):
    page = organiser.get("/participants").get_data(as_text=True)
    ids = {r[0] for r in db.execute("SELECT id FROM participants")}
    assert len(ids) == 60
    assert listed_ids(page) == ids
    assert "60 participants." in page
    assert "<title>Participants · checkin</title>" in page
    assert "<h1>Participants</h1>" in page
    for column in ("Name", "Organisation", "Type", "City", "Working group", "Excursion", "Role"):
        assert f'<th scope="col">{column}</th>' in page
    assert 'href="/participants/upload"' in page


def test_search_finds_umlauts_case_insensitively(organiser, db):
    muller = add_participant(db, first_name="Jürgen", last_name="Müller",
                             organisation="Straßenbauamt Bremen", city="Bremen")
    expected = {r[0] for r in db.execute(
        "SELECT id FROM participants WHERE instr(casefold(first_name || ' ' || last_name || ' ' "
        "|| organisation), 'müller') > 0")}
    assert muller["id"] in expected
    for q in ("müller", "MÜLLER", "Müller"):
        page = organiser.get("/participants", query_string={"q": q}).get_data(as_text=True)
        assert listed_ids(page) == expected, q
        assert f'value="{q}"' in page
    page = organiser.get("/participants", query_string={"q": "straßenbauamt"}).get_data(
        as_text=True)
    assert listed_ids(page) == {muller["id"]}
    assert "1 of 61 participants matches." in page
    page = organiser.get("/participants", query_string={"q": "nobody-has-this-name"}).get_data(
        as_text=True)
    assert listed_ids(page) == set()
    assert "Nobody matches this search" in page


@pytest.mark.parametrize("column, value", [("city", "Bremen"), ("working_group", "abfall"),
                                           ("excursion", "bike-tour")])
def test_filters(organiser, db, column, value):
    sql = {"city": "SELECT id FROM participants WHERE city = ?",
           "working_group": "SELECT id FROM participants WHERE working_group = ?",
           "excursion": "SELECT id FROM participants WHERE excursion = ?"}[column]
    expected = {r[0] for r in db.execute(sql, [value])}
    assert 0 < len(expected) < 60
    page = organiser.get("/participants", query_string={column: value}).get_data(as_text=True)
    assert listed_ids(page) == expected
    assert f"{len(expected)} of 60 participants match" in page
    assert f'<option value="{value}" selected>' in page


def test_filters_combine_and_selects_come_from_the_database(organiser, db):
    page = organiser.get("/participants", query_string={"city": "Groningen", "q": "gemeente"})
    text = page.get_data(as_text=True)
    expected = {r[0] for r in db.execute(
        "SELECT id FROM participants WHERE city = 'Groningen' AND organisation LIKE '%Gemeente%'")}
    assert listed_ids(text) == expected
    for (title,) in db.execute("SELECT title FROM excursions"):
        assert f">{html.escape(title)}</option>" in text
    for (area,) in db.execute("SELECT DISTINCT area FROM working_groups"):
        assert f'<optgroup label="{html.escape(area)}">' in text


def test_list_pages_through_many_people(organiser, db):
    rows = "\r\n".join(f"Person{n},Tester,Bulk GmbH,company,Bremen,bulk{n}@example.de,de,,,"
                       for n in range(150))
    post = post_csv(organiser, f"{HEADER}\r\n{rows}\r\n".encode())
    organiser.post("/participants/upload/confirm", data={
        "csrf_token": csrf_token(organiser, "/participants"),
        "token": pending_token(post.get_data(as_text=True))})
    assert count(db) == 210
    first = organiser.get("/participants").get_data(as_text=True)
    third = organiser.get("/participants?page=3").get_data(as_text=True)
    assert "210 participants." in first
    assert len(listed_ids(first)) == 100 and len(listed_ids(third)) == 10
    # The pages, read one at a time, are the whole list once, by name.
    second = organiser.get("/participants?page=2").get_data(as_text=True)
    pages = [listed_ids(first), listed_ids(second), listed_ids(third)]
    assert set().union(*pages) == {r[0] for r in db.execute("SELECT id FROM participants")}
    assert sum(len(p) for p in pages) == 210
    assert 'href="/participants?page=3"' in first
    assert organiser.get("/participants?page=x").status_code == 200


# --- One person ---------------------------------------------------------------------------

def test_detail_shows_person_qr_and_badge(organiser, db):
    person = db.execute("SELECT id, first_name, last_name, code FROM participants "
                        "WHERE working_group IS NOT NULL LIMIT 1").fetchone()
    response = organiser.get(f"/participants/{person[0]}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    name = html.escape(f"{person[1]} {person[2]}")
    assert f"<h1>{name}</h1>" in page
    assert re.search(r'<div class="qr-image" role="img" aria-label="QR code of [^"]+">\s*'
                     r'(<\?xml[^>]*>\s*)?<svg', page)
    assert person[3] in page
    assert f'src="/participants/{person[0]}/badge.png' in page
    assert f'href="/participants/{person[0]}/badge.pdf"' in page
    assert f'action="/participants/{person[0]}/reissue"' in page
    assert organiser.get("/participants/999999").status_code == 404


def test_badge_png_is_a_png(organiser, db):
    pid = db.execute("SELECT id FROM participants LIMIT 1").fetchone()[0]
    response = organiser.get(f"/participants/{pid}/badge.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert organiser.get("/participants/999999/badge.png").status_code == 404


def test_one_badge_pdf(organiser, db):
    pid = db.execute("SELECT id FROM participants LIMIT 1").fetchone()[0]
    response = organiser.get(f"/participants/{pid}/badge.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["X-Badge-Count"] == "1"
    assert "attachment" in response.headers["Content-Disposition"]


def test_reissue_asks_then_changes_the_code(organiser, db):
    pid, old = db.execute("SELECT id, code FROM participants LIMIT 1").fetchone()
    token = csrf_token(organiser, f"/participants/{pid}")
    asked = organiser.post(f"/participants/{pid}/reissue", data={"csrf_token": token})
    assert asked.status_code == 200
    assert "The old code stops working at once" in asked.get_data(as_text=True)
    assert db.execute("SELECT code FROM participants WHERE id = ?", [pid]).fetchone()[0] == old
    done = organiser.post(f"/participants/{pid}/reissue",
                          data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"] == f"/participants/{pid}"
    new = db.execute("SELECT code FROM participants WHERE id = ?", [pid]).fetchone()[0]
    assert new != old
    assert resolve(db, old)[0] == "revoked"
    status, person = resolve(db, new)
    assert status == "valid" and person["id"] == pid
    page = organiser.get(f"/participants/{pid}").get_data(as_text=True)
    assert new in page and old not in page
    assert "has a new code" in page and "1 earlier code no longer works." in page


def test_reissue_without_csrf_token_fails(organiser, db):
    pid, old = db.execute("SELECT id, code FROM participants LIMIT 1").fetchone()
    response = organiser.post(f"/participants/{pid}/reissue", data={"confirm": "yes"})
    assert response.status_code == 400
    assert db.execute("SELECT code FROM participants WHERE id = ?", [pid]).fetchone()[0] == old
    assert resolve(db, old)[0] == "valid"


# --- Upload -------------------------------------------------------------------------------

def test_upload_good_csv_previews_then_imports(organiser, db, app):
    existing = io.StringIO()
    export_participants(db, existing)
    one_existing = existing.getvalue().splitlines()[1].rsplit(",", 1)[0]  # without the code
    data = (f"{HEADER},code\r\n"
            "Grietje,van der Molen,Gemeente Groningen,administration,Groningen,"
            "grietje@example.nl,nl,wasserstoff,forum,speaker,\r\n"
            "Lüder,Oltmanns-Weiß,Stadt Oldenburg,administration,Oldenburg,,de,,,,\r\n"
            f"{one_existing},\r\n").encode()
    before = count(db)
    preview = post_csv(organiser, data)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert re.search(r'id="plan-created">2<', page)
    assert re.search(r'id="plan-updated">0<', page)
    assert re.search(r'id="plan-unchanged">1<', page)
    assert "Import now" in page
    assert count(db) == before, "the preview changed the database"
    folder = Path(app.config["DATABASE"]).parent / "uploads"
    kept = list(folder.glob("*" + uploads.SUFFIX))
    assert len(kept) == 1 and kept[0].read_bytes() == data
    assert kept[0].stat().st_mode & 0o077 == 0

    token = pending_token(page)
    done = organiser.post("/participants/upload/confirm",
                          data={"csrf_token": csrf_token(organiser, "/participants"),
                                "token": token})
    assert done.status_code == 302 and done.headers["Location"] == "/participants"
    assert count(db) == before + 2
    assert list(folder.glob("*" + uploads.SUFFIX)) == []
    listing = organiser.get("/participants").get_data(as_text=True)
    assert "Imported people.csv: 2 new, 0 updated, 1 unchanged." in listing
    assert "van der Molen, Grietje" in listing and "Oltmanns-Weiß, Lüder" in listing

    # The same token cannot import twice.
    again = organiser.post("/participants/upload/confirm",
                           data={"csrf_token": csrf_token(organiser, "/participants"),
                                 "token": token})
    assert again.status_code == 302 and again.headers["Location"] == "/participants/upload"
    assert count(db) == before + 2


def test_upload_broken_csv_lists_every_problem_and_changes_nothing(organiser, db, app):
    data = (f"{HEADER}\r\n"
            "Anna,Arends,Gemeente Groningen,administration,Groningen,anna@example.nl,nl,,,\r\n"
            ",Bakker,Gemeente Groningen,administration,Groningen,,nl,,,\r\n"
            "Carla,Claassen,X,administration,Groningen,not-an-email,nl,,,\r\n"
            "Dirk,Dekker,X,administration,Groningen,,xx,no-such-group,,\r\n"
            "Eva,Eilers,X,administration,Bremen,,de,,no-such-trip,boss\r\n").encode()
    before = count(db)
    response = post_csv(organiser, data, "broken.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    rows = re.findall(r'<td class="line">(\d+)</td><td>([^<]*)</td>', page)
    found = {(int(line), html.unescape(msg)) for line, msg in rows}
    assert (3, "First name is missing") in found
    assert any(line == 4 and "not-an-email" in msg for line, msg in found)
    assert any(line == 5 and "'xx'" in msg for line, msg in found)
    assert any(line == 5 and "no-such-group" in msg for line, msg in found)
    assert any(line == 6 and "no-such-trip" in msg for line, msg in found)
    assert any(line == 6 and "'boss'" in msg for line, msg in found)
    assert {line for line, _msg in found} == {3, 4, 5, 6}
    assert "broken.csv has 6 problems" in page
    assert "Import now" not in page and "Nothing was imported" in page
    assert count(db) == before
    # Kept for an hour (or until cancelled), so that columns can be assigned differently.
    folder = Path(app.config["DATABASE"]).parent / "uploads"
    assert len(list(folder.glob("*" + uploads.SUFFIX))) == 1
    organiser.post("/participants/upload/cancel", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": pending_token(page)})
    assert not list(folder.glob("*" + uploads.SUFFIX))


def test_upload_windows_1252_with_semicolons(organiser, db):
    text = (";".join(COLUMNS) + "\r\n"
            "Jörg;Weiß-Groß;Stadtbibliothek Oldenburg;institution;Oldenburg;"
            "joerg@example.de;de;bibliotheken;avebe;\r\n"
            "Renée;van 't Hof;Biblionet Groningen;institution;Groningen;;nl;;;guide\r\n")
    before = count(db)
    preview = post_csv(organiser, text.encode("cp1252"), "excel.csv")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert re.search(r'id="plan-created">2<', page)
    organiser.post("/participants/upload/confirm", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": pending_token(page)})
    assert count(db) == before + 2
    names = {tuple(r) for r in db.execute(
        "SELECT first_name, last_name, organisation FROM participants WHERE id > 60")}
    assert names == {("Jörg", "Weiß-Groß", "Stadtbibliothek Oldenburg"),
                     ("Renée", "van 't Hof", "Biblionet Groningen")}
    listing = organiser.get("/participants", query_string={"q": "weiß"}).get_data(as_text=True)
    assert "Weiß-Groß, Jörg" in listing
    assert "van &#39;t Hof, Renée" in organiser.get(
        "/participants", query_string={"q": "renée"}).get_data(as_text=True)


def test_upload_shows_warnings_for_ignored_columns(organiser):
    data = (f"{HEADER},shoe_size\r\nAnna,Arends,X,other,Bremen,,de,,,,42\r\n").encode()
    page = post_csv(organiser, data).get_data(as_text=True)
    assert "Warnings" in page and "column(s) &#39;shoe_size&#39; were not recognised" in page
    assert "Import now" in page


def test_upload_of_a_non_csv_file_is_refused(organiser, db):
    before = count(db)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    response = post_csv(organiser, png, "photo.png")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "cannot be read as a participants list" in page and "binary" in page
    assert "Nothing was changed." in page
    response = post_csv(organiser, b"just some words\nwithout separators\n", "notes.txt")
    assert response.status_code == 422
    assert "no comma, semicolon or tab" in response.get_data(as_text=True)
    assert count(db) == before


def test_upload_without_a_file(organiser):
    response = organiser.post("/participants/upload", content_type="multipart/form-data",
                              data={"csrf_token": csrf_token(organiser, "/participants/upload")})
    assert response.status_code == 400
    assert "Choose a file to upload" in response.get_data(as_text=True)


def test_upload_cancel_deletes_the_kept_file(organiser, db, app):
    page = post_csv(organiser, f"{HEADER}\r\nA,B,C,other,Bremen,,de,,,\r\n".encode()).get_data(
        as_text=True)
    token = pending_token(page)
    folder = Path(app.config["DATABASE"]).parent / "uploads"
    assert len(list(folder.glob("*" + uploads.SUFFIX))) == 1
    response = organiser.post("/participants/upload/cancel", data={
        "csrf_token": csrf_token(organiser, "/participants"), "token": token})
    assert response.status_code == 302
    assert not list(folder.glob("*" + uploads.SUFFIX))
    assert count(db) == 60


def test_another_session_cannot_import_someone_elses_upload(organiser, app, db):
    page = post_csv(organiser, f"{HEADER}\r\nA,B,C,other,Bremen,,de,,,\r\n".encode()).get_data(
        as_text=True)
    token = pending_token(page)
    other = app.test_client()
    other.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1],
                               "csrf_token": csrf_token(other)})
    for action in ("confirm", "cancel"):
        response = other.post(f"/participants/upload/{action}", data={
            "csrf_token": csrf_token(other, "/participants"), "token": token})
        assert response.status_code == 302
    assert count(db) == 60
    folder = Path(app.config["DATABASE"]).parent / "uploads"
    assert len(list(folder.glob("*" + uploads.SUFFIX))) == 1


def test_upload_over_the_size_limit(db_path):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "MAX_CONTENT_LENGTH": 2048})
    client = app.test_client()
    client.post("/login", data={"username": ORGANISER[0], "password": ORGANISER[1],
                                "csrf_token": csrf_token(client)})
    response = post_csv(client, f"{HEADER}\r\n".encode() + b"A,B,C,other,X,,de,,,\r\n" * 200)
    assert response.status_code == 413
    assert "The file is too large (the limit is 2 KB)." in response.get_data(as_text=True)
    assert db_count(db_path) == 60


# --- The upload store and the import plan, without Flask ----------------------------------

def test_kept_uploads_expire_and_tokens_are_checked(tmp_path):
    token = uploads.keep_upload(tmp_path, b"first_name,last_name\r\nA,B\r\n")
    assert uploads.load_upload(tmp_path, token) == b"first_name,last_name\r\nA,B\r\n"
    assert uploads.load_upload(tmp_path, "../../etc/passwd") is None
    assert uploads.load_upload(tmp_path, "x" * 30) is None
    assert uploads.remove_stale(tmp_path, now=time.time()) == 0
    assert uploads.remove_stale(tmp_path, now=time.time() + uploads.KEEP_SECONDS + 1) == 1
    assert uploads.load_upload(tmp_path, token) is None


def test_plan_import_counts_without_changing_anything(db):
    out = io.StringIO()
    export_participants(db, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    rows[0]["organisation"] = "Renamed Organisation"
    rows.append({**rows[1], "first_name": "New", "last_name": "Person", "email": ""})
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    plan = uploads.plan_import(db, text.getvalue().encode())
    assert (plan["created"], plan["updated"], plan["unchanged"]) == (1, 1, 59)
    assert plan["problems"] == [] and plan["rows"] == 61
    assert count(db) == 60
    with pytest.raises(CSVFileError):
        uploads.plan_import(db, b"")


# --- Downloads ----------------------------------------------------------------------------

def test_export_csv_matches_the_cli_and_reimports_cleanly(organiser, db):
    response = organiser.get("/participants/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    out = io.StringIO()
    export_participants(db, out)
    assert response.data.decode("utf-8-sig") == out.getvalue()
    plan = uploads.plan_import(db, response.data)
    assert plan["problems"] == [] and plan["unchanged"] == 60


def test_badges_pdf_for_everyone_and_for_the_filter(organiser, db):
    everyone = organiser.get("/participants/badges.pdf")
    assert everyone.status_code == 200 and everyone.data.startswith(b"%PDF")
    assert everyone.headers["X-Badge-Count"] == "60"
    bremen = db.execute("SELECT count(*) FROM participants WHERE city = 'Bremen'").fetchone()[0]
    some = organiser.get("/participants/badges.pdf?city=Bremen")
    assert some.status_code == 200 and some.data.startswith(b"%PDF")
    assert some.headers["X-Badge-Count"] == str(bremen)
    none = organiser.get("/participants/badges.pdf?q=nobody-has-this-name")
    assert none.status_code == 302
    listing = organiser.get("/participants?city=Bremen").get_data(as_text=True)
    assert 'href="/participants/badges.pdf?city=Bremen"' in listing


# --- Escaping and access ------------------------------------------------------------------

def test_markup_in_names_is_shown_as_text(organiser, db):
    # The CSV import refuses markup, so the row goes in the way an attacker with a copy
    # of the database file, or a future bug, would put it: straight into SQLite.
    db.execute("INSERT INTO participants (first_name, last_name, organisation, city, code, "
               "created_at, updated_at) VALUES (?, ?, ?, ?, ?, '2026', '2026')",
               ["<script>alert(1)</script>", "O'Evil", '"><img src=x onerror=alert(2)>',
                "<b>Bremen</b>", "XSSCODE"])
    db.conn.commit()
    pid = db.execute("SELECT id FROM participants WHERE code = 'XSSCODE'").fetchone()[0]
    for url in ("/participants", "/participants?q=script", f"/participants/{pid}",
                f"/participants/{pid}/reissue"):
        page = organiser.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert "<img src=x" not in page and "<b>Bremen" not in page, url
    listing = organiser.get("/participants").get_data(as_text=True)
    assert '<option value="&lt;b&gt;Bremen&lt;/b&gt;">&lt;b&gt;Bremen&lt;/b&gt;</option>' \
        in listing


GET_PAGES = ["/participants", "/participants?q=x", "/participants/1", "/participants/1/badge.png",
             "/participants/1/badge.pdf", "/participants/1/reissue", "/participants/badges.pdf",
             "/participants/export.csv", "/participants/upload"]
POST_PAGES = ["/participants/1/reissue", "/participants/upload", "/participants/upload/confirm",
              "/participants/upload/cancel"]


@pytest.mark.parametrize("url", GET_PAGES)
def test_every_page_needs_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("url", POST_PAGES)
def test_every_action_needs_sign_in(client, db, url):
    code = db.execute("SELECT code FROM participants WHERE id = 1").fetchone()[0]
    response = client.post(url, data={"csrf_token": csrf_token(client), "confirm": "yes"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert db.execute("SELECT code FROM participants WHERE id = 1").fetchone()[0] == code
