"""Badges: every QR on the printed sheets scans, filters pick the right people, text fits."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator

import pypdf
import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image
from sqlite_utils import Database

from checkin import badge_text, badges
from checkin.cli import cli
from checkin.codes import reissue
from checkin.db import connect
from checkin.demo import create_demo
from checkin.event import event_info
from tests.conftest import ARTIFACTS, ROOT

A4_PT = (595.28, 841.89)


def decode(image: Image.Image) -> list[str]:
    """Decode every QR code in an image, as a scanner would see it."""
    return [r.text for r in zxingcpp.read_barcodes(image,
                                                   formats=zxingcpp.BarcodeFormat.QRCode)]


def pdf_pages(data: bytes) -> list[tuple[pypdf.PageObject, Image.Image]]:
    """Return each page of a PDF with the one sheet image on it."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = []
    for page in reader.pages:
        images = page.images
        assert len(images) == 1
        pages.append((page, images[0].image))
    return pages


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Database]:
    """A demo event database shared by the read-only tests of this module."""
    folder = tmp_path_factory.mktemp("badges")
    db = connect(folder / "event.db")
    create_demo(db, folder)
    yield db
    db.conn.close()


@pytest.fixture(scope="module")
def demo_pdf(demo: Database):
    """The demo event's 60 badges as PDF pages, with the progress reports and warnings."""
    db = demo
    steps: list[int] = []
    warnings: list[str] = []
    out = io.BytesIO()
    count = badges.render_pdf(db, out, progress=steps.append, warnings=warnings)
    assert count == 60
    return pdf_pages(out.getvalue()), steps, warnings


def test_every_qr_on_the_demo_sheets_scans(demo, demo_pdf):
    pages, steps, warnings = demo_pdf
    db = demo
    codes = {r["code"] for r in db.query("SELECT code FROM participants")}
    assert len(codes) == 60
    assert len(pages) == 15
    found: list[str] = []
    for _page, image in pages:
        on_page = decode(image)
        assert len(on_page) == 4, "every badge on the sheet must scan"
        found.extend(on_page)
    assert sorted(found) == sorted(codes)
    assert sum(steps) == 60 and len(steps) == 15
    assert warnings == []  # the demo's names and titles all fit without shortening
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages[0][1].save(ARTIFACTS / "badges-sheet-1.png")


def test_sheets_are_a4_at_300_dpi(demo_pdf):
    page, image = demo_pdf[0][0]
    width_pt, height_pt = float(page.mediabox.width), float(page.mediabox.height)
    assert abs(width_pt - A4_PT[0]) < 0.5 and abs(height_pt - A4_PT[1]) < 0.5
    # The sheet image fills the page: its pixels per inch are the print resolution.
    assert round(image.width / (width_pt / 72)) == 300
    assert round(image.height / (height_pt / 72)) == 300
    assert image.mode == "1"
    # Cut marks outside every corner of every badge, on the lines of its edges.
    mid = (badges.MARK_FROM + badges.MARK_TO) // 2
    w, h = badges.BADGE
    for slot in range(badges.PER_PAGE):
        x, y = badges._origin(slot)
        for cx, sx in ((x, -1), (x + w, 1)):
            for cy, sy in ((y, -1), (y + h, 1)):
                assert image.getpixel((cx + sx * mid, cy)) == 0
                assert image.getpixel((cx, cy + sy * mid)) == 0
                assert image.getpixel((cx + sx * mid, cy + sy * mid)) != 0  # not a frame


def test_badges_come_by_delegation_and_name(demo):
    rows = badges.people(demo)
    assert [r["city"] for r in rows] == sorted(r["city"] for r in rows)
    assert [r["id"] for r in rows] == badges.select_participants(demo)
    assert rows == sorted(rows, key=badges.sort_key)
    # As people look names up: without accents and the particles in front.
    order = sorted(["Zijlstra", "van der Veen", "Öztürk", "de Boer", "Oltmanns", "O'Brien",
                    "von Hammerstein", "van 't Hof", "Bijl"],
                   key=lambda n: badges.sort_key({"last_name": n}))
    assert order == ["Bijl", "de Boer", "von Hammerstein", "van 't Hof", "O'Brien",
                     "Oltmanns", "Öztürk", "van der Veen", "Zijlstra"]


def test_a_reissued_code_is_on_the_new_badge(db):
    person = db.execute("SELECT id, code FROM participants ORDER BY id LIMIT 1").fetchone()
    new = reissue(db, person[0])
    out = io.BytesIO()
    assert badges.render_pdf(db, out, participant_ids=[person[0]]) == 1
    [(_page, image)] = pdf_pages(out.getvalue())
    assert decode(image) == [new]
    assert new != person[1]
    assert decode(Image.open(io.BytesIO(badges.badge_png(db, person[0])))) == [new]


def test_only_filters(demo):
    db = demo
    everyone = {r["id"]: r for r in db.query("SELECT * FROM participants")}
    first, second = everyone[1], everyone[2]
    by_id = badges.select_participants(db, only=[str(first["id"])])
    by_mail = badges.select_participants(db, only=[second["email"].upper()])
    by_code = badges.select_participants(db, only=[first["code"].lower()])
    assert (by_id, by_mail, by_code) == ([1], [2], [1])
    assert set(badges.select_participants(db, only=["1", second["email"]])) == {1, 2}
    bremen = badges.select_participants(db, cities=["bremen"])
    assert set(bremen) == {i for i, p in everyone.items() if p["city"] == "Bremen"}
    assert len(bremen) == 18
    two = badges.select_participants(db, cities=["Bremen", "Oldenburg"])
    assert len(two) == 36
    group = badges.select_participants(db, working_groups=["abfall"])
    assert set(group) == {i for i, p in everyone.items() if p["working_group"] == "abfall"}
    both = badges.select_participants(db, cities=["Groningen"], excursions=["bike-tour"])
    assert both and set(both) == {i for i, p in everyone.items() if p["city"] == "Groningen"
                                  and p["excursion"] == "bike-tour"}
    other = "Bremen" if first["city"] != "Bremen" else "Oldenburg"
    assert badges.select_participants(db, only=["1"], cities=[other]) == []
    for bad in ({"only": ["nobody@example.org"]}, {"working_groups": ["nope"]},
                {"excursions": ["moon"]}):
        with pytest.raises(LookupError):
            badges.select_participants(db, **bad)


def test_umlauts_and_dutch_names_have_glyphs_in_the_font(demo):
    db = demo
    text = " ".join(f"{r['first_name']} {r['last_name']} {r['organisation']}"
                    for r in db.query("SELECT * FROM participants"))
    assert {"ü", "ö", "ß", "é", "'"} <= set(text)
    text += " IJzerman Ĳsselmeer van 't Hof O'Brien O’Neill Groß-Bölting Renée Zoë ·–…"
    assert badges.missing_glyphs("中文") == {"中", "文"}  # the check can fail
    for bold in (False, True):
        assert badges.missing_glyphs(text, bold) == set()
    warnings: list[str] = []
    badges.badge_image({"id": 5, "first_name": "王芳", "last_name": "Ελένη", "code":
                        "23456789ABCDEFGHJKMNPQ"}, {}, warnings)
    assert len(warnings) == 1 and "the font has no" in warnings[0] and "王" in warnings[0]
    # The dots make a difference: "Jörg" is not drawn as "Jorg".
    assert badge_text.text_mask("Jörg", True, 100)[0].tobytes() != \
        badge_text.text_mask("Jorg", True, 100)[0].tobytes()


def blank(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    """Whether a region of a 1-bit image is all white."""
    return image.crop(box).getextrema() == (255, 255)


def quiet_zone_is_blank(image: Image.Image) -> bool:
    """Whether the four modules of white around a badge's QR (bottom right) are clear."""
    w, h = image.size
    side, quiet = 33 * badges.QR_MODULE, 4 * badges.QR_MODULE
    return (blank(image, (w - side, h - side, w, h - side + quiet))  # above the code
            and blank(image, (w - side, h - side, w - side + quiet, h)))  # left of it


def test_long_texts_shrink_or_wrap_and_never_overflow(demo):
    event = event_info(demo)
    code = "23456789ABCDEFGHJKMNPQ"
    w, h = badges.BADGE
    qr_top = h - 33 * badges.QR_MODULE
    long_person = {
        "id": 7, "first_name": "Maximiliane-Charlotte", "last_name":
        "van der Heijden-Oppenheimer tot Groot Wassenaar", "organisation":
        "Carl von Ossietzky Universität Oldenburg, Institut für Informatik, Abteilung "
        "Systemsoftware und verteilte Systeme", "city": "Oldenburg", "language": "de",
        "role": "speaker", "code": code, "working_group_title":
        "Obdachlosigkeit: Notversorgung, Arbeits- und Wohnperspektiven, Sucht",
        "excursion_title": "Avebe Centre Groningen"}
    warnings: list[str] = []
    image = badges.badge_image(long_person, event, warnings)
    assert warnings == []  # long, but it fits by shrinking and wrapping
    assert decode(image) == [code]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.save(ARTIFACTS / "badge-long-names.png")
    # Nothing in the right-hand margin above the QR, nor in the QR's quiet zone.
    assert blank(image, (w - badges.PAD + 2, badges.BAND_H, w, qr_top))
    assert quiet_zone_is_blank(image)

    absurd = {**long_person, "first_name": "W" * 60, "organisation": "Wm " * 66,
              "city": "Sankt Wendelin am Wasserfall im Oberen Wald"}
    image = badges.badge_image(absurd, event, warnings)
    assert decode(image) == [code]
    assert blank(image, (w - badges.PAD + 2, badges.BAND_H, w, qr_top))
    assert quiet_zone_is_blank(image)
    # Too long to fit at any size: shortened with "…", and reported, never silently.
    assert any("first name shortened" in x for x in warnings)
    assert any("organisation shortened" in x for x in warnings)
    assert any("city shortened" in x for x in warnings)


def test_delegations_differ_without_colour(demo):
    event = event_info(demo)
    person = {"id": 1, "first_name": "Anna", "last_name": "Test", "organisation": "",
              "language": "en", "role": "participant", "code": "23456789ABCDEFGHJKMNPQ"}
    w = badges.BADGE[0]

    def black(image: Image.Image, x0: int, x1: int) -> float:
        band = image.crop((x0, 0, x1, badges.BAND_H))
        return band.histogram()[0] / (band.width * band.height)

    share = {}
    for city in ("Groningen", "Bremen", "Oldenburg", "Hamburg"):
        image = badges.badge_image({**person, "city": city}, event)
        # Black in the band's left fifth and in its outer right edge (beyond any text).
        share[city] = black(image, 0, w // 5), black(image, w - badges.PAD + 4, w)
    db = demo
    one_each = [badges.people(db, [db.execute(
        "SELECT id FROM participants WHERE city = ? ORDER BY role = 'participant', id LIMIT 1",
        [city]).fetchone()[0]])[0] for city in ("Groningen", "Bremen", "Oldenburg")]
    sheet = badges.render_page(event, [*one_each, {**person, "city": "Hamburg",
                                                   "role": "guide"}])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sheet.save(ARTIFACTS / "badges-delegations.png")
    assert len(decode(sheet)) == 4
    assert share["Groningen"][1] > 0.9  # solid black
    assert 0.3 < share["Bremen"][1] < 0.7  # hatched: grey from afar
    assert share["Oldenburg"][0] > 0.6 and share["Oldenburg"][1] < 0.15  # black block left
    assert share["Hamburg"][0] < 0.3 and share["Hamburg"][1] < 0.15  # white band
    assert len({badges.city_style(c) for c in share}) == 4


def test_qr_png_and_svg():
    code = "X2345678ABCDEFGHJKMNPQ"
    png = Image.open(io.BytesIO(badges.qr_png(code, box_size=6)))
    assert png.width == 33 * 6  # version 2 with a four-module quiet zone
    assert decode(png) == [code]
    svg = badges.qr_svg(code)
    assert svg.startswith("<svg") and "<path" in svg and "<?xml" not in svg


def test_worker_processes_give_the_same_sheets(demo):
    db = demo
    ids = badges.select_participants(db)[:8]
    serial, parallel = io.BytesIO(), io.BytesIO()
    badges.render_pdf(db, serial, ids, workers=1)
    badges.render_pdf(db, parallel, ids, workers=2)
    one = [image.tobytes() for _page, image in pdf_pages(serial.getvalue())]
    two = [image.tobytes() for _page, image in pdf_pages(parallel.getvalue())]
    assert len(one) == 2 and one == two

    class Stop(Exception):
        pass

    def stop(_count: int) -> None:
        raise Stop

    # An error while writing (or Ctrl-C) stops the workers instead of waiting for them.
    with pytest.raises(Stop):
        badges.render_pdf(db, io.BytesIO(), ids * 6, progress=stop, workers=2)


def test_badges_command(db_path, tmp_path):
    runner = CliRunner()
    out = tmp_path / "oldenburg.pdf"
    result = runner.invoke(cli, ["--db", str(db_path), "badges", "-o", str(out),
                                 "--city", "Oldenburg", "--excursion", "forum",
                                 "--excursion", "avebe"])
    assert result.exit_code == 0, result.output
    db = connect(db_path)
    expected = {r[0] for r in db.execute(
        "SELECT code FROM participants WHERE city = 'Oldenburg' "
        "AND excursion IN ('forum', 'avebe')")}
    db.conn.close()
    found = [c for _page, image in pdf_pages(out.read_bytes()) for c in decode(image)]
    assert expected and sorted(found) == sorted(expected)
    assert f"Wrote {len(expected)} badge(s)" in result.output

    bad = runner.invoke(cli, ["--db", str(db_path), "badges", "-o", str(tmp_path / "x.pdf"),
                              "--only", "nobody@example.org"])
    assert bad.exit_code == 1 and "nobody@example.org" in bad.output
    assert not (tmp_path / "x.pdf").exists()
    assert list(tmp_path.glob(".badges-*")) == []
    nowhere = runner.invoke(cli, ["--db", str(db_path), "badges", "-o",
                                  str(tmp_path / "missing" / "x.pdf")])
    assert nowhere.exit_code == 1 and "no folder" in nowhere.output


def test_bench_script_runs():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench-badges"), "6",
                           "--workers", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^6 badges in [0-9.]+ s \([0-9]+ badges/s\), 2 pages, ", done.stdout)
    assert "ms/badge" in done.stdout
