"""The paper lists: every participant and excursion in the PDF's real text, in the organiser's
language, with arrivals marked; the command and the organisers' download."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from checkin.cli import cli
from checkin.core.texts import all_texts, localized
from checkin.lists import build_pdf
from checkin.scans import organiser_actor, record_scans


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext (poppler) reads it."""
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("language,entrance,excursion,group",
                         [("en", "Entrance list", "Excursion", "Working group"),
                          ("de", "Eingangsliste", "Exkursion", "Arbeitsgruppe"),
                          ("nl", "Ingangslijst", "Excursie", "Werkgroep")])
def test_every_participant_and_excursion_is_in_the_text(db, tmp_path, language, entrance,
                                                        excursion, group):
    text = pdf_text(build_pdf(db, language), tmp_path)
    flat = squash(text)
    assert entrance in text and excursion in text and group in text
    people = list(db.query("SELECT * FROM participants"))
    assert len(people) == 60
    for p in people:
        assert f"{p['last_name']}, {p['first_name']}" in flat, p
        assert p["code"][-4:] in flat
        assert p["code"] not in flat  # never the whole code: a list must not let anyone in
    # Each title in the list's language (the demo gives several in de, nl and en).
    texts = all_texts(db)
    for x in db.query("SELECT * FROM excursions"):
        title = localized(texts, "excursion", x["id"], language, x["title"])
        assert squash(title) in flat and x["guide"] in flat
        assert squash(localized(texts, "departure_place", x["id"], language,
                                x["departure_place"])) in flat
    for g in db.query("SELECT * FROM working_groups"):
        assert squash(localized(texts, "working_group", g["id"], language, g["title"]))[:30] \
            in flat


def test_entrance_list_is_a_to_z(db, tmp_path):
    """A–Z as a volunteer searches: umlauts beside their letter, "van den Berg" under B."""
    import unicodedata

    def reference(last: str, first: str) -> tuple[str, str]:
        words = last.split()
        while len(words) > 1 and words[0].lstrip("'’")[:1].islower():  # van, ter, 't ...
            words = words[1:]
        plain = [unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode().lower()
                 for t in (" ".join(words), first)]
        return plain[0], plain[1]

    text = pdf_text(build_pdf(db, "en"), tmp_path)
    entrance = text.split("Excursion:")[0]
    people = list(db.query("SELECT last_name, first_name FROM participants"))
    printed = sorted(people, key=lambda p: entrance.index(f"{p['last_name']}, {p['first_name']}"))
    keys = [reference(p["last_name"], p["first_name"]) for p in printed]
    assert keys == sorted(keys)
    assert entrance.index("van den Berg, Bram") < entrance.index("Bijl, Bram")


def test_arrived_marks_exactly_who_arrived(db, tmp_path):
    people = list(db.query("SELECT id, code, first_name, last_name FROM participants "
                           "ORDER BY id LIMIT 3"))
    record_scans(db, organiser_actor("orga"),
                 [{"id": str(uuid.uuid4()), "code": p["code"], "checkpoint": "entrance",
                   "direction": "in", "at": "2019-11-12T08:00:00Z"} for p in people[:2]])
    flat = squash(pdf_text(build_pdf(db, "en", arrived=True), tmp_path))
    for p in people[:2]:
        assert f"{p['last_name']}, {p['first_name']} (arrived)" in flat
    assert f"{people[2]['last_name']}, {people[2]['first_name']} (arrived)" not in flat
    plain = squash(pdf_text(build_pdf(db, "en"), tmp_path))
    assert "(arrived)" not in plain


def test_lists_command_and_download(db_path, organiser, client, tmp_path):
    out = tmp_path / "lists.pdf"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "lists", "-o", str(out),
                                      "--lang", "nl", "--arrived"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "Ingangslijst" in pdf_text(
        out.read_bytes(), tmp_path)
    response = organiser.get("/lists.pdf?arrived=1")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Entrance list" in pdf_text(response.data, tmp_path)
    overview = organiser.get("/overview").get_data(as_text=True)
    assert "/lists.pdf?arrived=1" in overview


def test_download_is_for_organisers_only(db_path, tmp_path):
    from checkin import create_app

    client = create_app({"TESTING": True, "DATABASE": str(db_path)}).test_client()
    assert client.get("/lists.pdf").status_code in (302, 401, 403)


# Issue 19: the lists drawn row by row. Names as a German and Dutch event has them, with
# letters beyond Latin-1 (ĳ, ğ, ő), and a few longer than any column.
FIRST = ["Zoë", "Jürgen", "Ĳsbrand", "Renée", "Søren", "Łucja", "Çağrı", "Märta-Lüder", "Ólafur"]
LAST = ["Müller-Lüdenscheidt", "van der Ĳssel", "Groß", "Ölçer", "Dvořák", "Ångström",
        "ter Haar-Schröder", "Weiß", "Erdős"]
LONG_LAST = "Schmidt-Wöhrmann-Ĳsselmuiden-Brzęczyszczykiewicz-Oberhausen-Ångström"
LONG_FIRST = "Anna-Maria-Friederike-Ĳsbrandine-Genoveva"


def crowd(db, count: int = 300) -> None:
    """Import `count` people beside the demo's 60 (every one arrived but each fifth)."""
    import csv
    import io

    from checkin.demo import EXCURSIONS, GROUPS
    from checkin.participants.csvfile import import_file

    names = [(f"{FIRST[n % 9]}-{FIRST[n // 9 % 9]}", f"{LAST[n % 9]} {n}")
             for n in range(count - 2)] + [(LONG_FIRST, LONG_LAST), ("Ĳ", "Ĳ" * 190)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["first_name", "last_name", "organisation", "city", "email", "language",
                     "working_group", "excursion"])
    for n, (first, last) in enumerate(names):
        writer.writerow([first, last, "Rijksuniversiteit Groningen, Faculteit der "
                         "Ruimtelijke Wetenschappen" if n % 7 == 0 else "Stadt Bremen",
                         "Groningen", f"crowd{n}@example.org", "nl", GROUPS[n % 6],
                         EXCURSIONS[n % 6]])
    result = import_file(db, out.getvalue().encode())
    assert not result["problems"] and result["created"] == count, result
    codes = [c for (c,) in db.execute("SELECT code FROM participants WHERE email LIKE "
                                      "'crowd%' ORDER BY id")]
    for start in range(0, count, 500):
        record_scans(db, organiser_actor("orga"), [
            {"id": str(uuid.uuid4()), "code": code, "checkpoint": "entrance",
             "direction": "in", "at": "2019-11-12T08:00:00Z"}
            for n, code in enumerate(codes[start:start + 500]) if n % 5])


def test_a_few_hundred_people_every_name_on_pages_that_repeat_their_headers(db, tmp_path):
    import io

    import pypdf

    crowd(db)
    data = build_pdf(db, "en", arrived=True)
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    flat = squash(pdf_text(data, tmp_path))
    # Every name whole (all but the two longer than any column), in the embedded font's
    # letters: Ĳ, ő, ğ and ø come out as themselves.
    everyone = list(db.query("SELECT first_name, last_name FROM participants"))
    assert len(everyone) == 360
    for p in everyone:
        if p["last_name"] not in (LONG_LAST, "Ĳ" * 190):
            assert f"{p['last_name']}, {p['first_name']}" in flat, p
    # The long ones are cut, not lost: their start is there, then "…".
    assert "Schmidt-Wöhrmann-Ĳsselmuiden" in flat and "…" in flat
    # The entrance list runs over several pages; each repeats its title and column headers
    # and has its number.
    entrance = [n for n, text in enumerate(pages) if "Entrance list" in text]
    assert len(entrance) >= 8 and entrance == list(range(len(entrance)))
    for n, text in enumerate(pages):
        assert f"Page {n + 1}" in text
        if n in entrance:
            for header in ("Name", "Organisation", "City", "Code (last 4)"):
                assert header in text, (n, header)
    # An excursion's roster over two pages: both name the excursion and head the columns.
    rosters = [text for text in pages if "Excursion: " in text]
    assert len(rosters) > len(list(db.query("SELECT id FROM excursions")))
    for text in rosters:
        assert all(h in text for h in ("Left", "Back", "Name", "Code (last 4)")), text[:200]


def test_no_text_reaches_past_its_column(db):
    """Every piece of every row of every list stays inside its cell: diacritics, long names,
    the arrived word, in each language (the layout function, not pixels)."""
    from checkin.lists.data import list_data
    from checkin.lists.layout import LEFT, MIN_SIZE, NAME_SIZE, PAD, layout_header, layout_row
    from checkin.lists.pdf import translations
    from checkin.lists.sections import sections

    crowd(db, 120)
    checked = shrunk = 0
    for language in ("en", "de", "nl"):
        for section in sections(list_data(db, True, language),
                                translations(language).gettext):
            edges, x = [], LEFT
            for column in section.columns:
                edges.append((x + PAD, x + column.width - PAD))
                x += column.width
            assert x <= 210 * 72 / 25.4 - LEFT + 0.01  # the columns fit the A4 page
            rows = [layout_row(section.columns, row)[0] for row in section.rows]
            for pieces in [layout_header(section.columns), *rows]:
                for piece in pieces:
                    left, right = next(e for e in edges if e[0] <= piece.x <= e[1])
                    assert piece.x + piece.width <= right + 1e-6, (piece, right)
                    assert piece.size >= MIN_SIZE
                    checked += 1
                shrunk += any(p.size < NAME_SIZE[0] for p in pieces)
    assert checked > 3 * 3 * 480
    # A short name keeps its size and is whole; the long ones are cut with "…" inside.
    from checkin.lists.layout import BOLD, BOX, FONT, Column

    columns = [Column("", 30, "box"), Column("Name", 200, "name")]
    pieces, boxes = layout_row(columns, [True, [("Groß", BOLD), (", Zoë", FONT)]])
    assert [p.text for p in pieces] == ["Groß", ", Zoë"]
    assert boxes == [(LEFT + (30 - BOX) / 2, True)]
    assert all(p.size == NAME_SIZE[0] for p in pieces)
    pieces, _ = layout_row(columns, [False, [(LONG_LAST, BOLD), (", " + LONG_FIRST, FONT)]])
    assert pieces[-1].text.endswith("…") and pieces[-1].text.startswith("Schmidt-Wöhrmann")
    assert pieces[-1].x + pieces[-1].width <= LEFT + 230 - PAD
    assert shrunk
