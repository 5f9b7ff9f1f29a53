"""Badges: every QR on the printed sheets scans, filters pick the right people, text fits."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image
from sqlite_utils import Database

from checkin import badges
from checkin.cli import cli
from checkin.core.codes import reissue
from checkin.core.db import connect
from checkin.core.event import apply_event, event_info, parse_event
from checkin.demo import create_demo
from tests.conftest import ARTIFACTS, ROOT

A4_PT = (595.28, 841.89)


def decode(image: Image.Image) -> list[str]:
    """Decode every QR code in an image, as a scanner would see it."""
    return [r.text for r in zxingcpp.read_barcodes(image,
                                                   formats=zxingcpp.BarcodeFormat.QRCode)]


def rasterise_150(data: bytes, tmp: Path) -> list[Image.Image]:
    """Rasterise every page of a PDF at 150 dpi with poppler's pdftoppm, as a cheap
    printer driver would."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "in.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "150", "-gray", str(tmp / "in.pdf"), str(tmp / "p")],
                   check=True, timeout=120)
    return [Image.open(f) for f in sorted(tmp.glob("p-*.pgm"))]


def pdf_text(data: bytes, tmp: Path) -> str:
    """The text of a PDF as poppler's pdftotext finds it."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "t.pdf").write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(tmp / "t.pdf"), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Database]:
    """A demo event database shared by the read-only tests of this module."""
    folder = tmp_path_factory.mktemp("badges")
    db = connect(folder / "event.db")
    create_demo(db, folder)
    yield db
    db.conn.close()


@pytest.fixture(scope="module")
def demo_pdf(demo: Database, tmp_path_factory):
    """The demo event's 60 badges as a PDF, its pages at 150 dpi, progress and warnings."""
    db = demo
    steps: list[int] = []
    warnings: list[str] = []
    out = io.BytesIO()
    count = badges.render_pdf(db, out, progress=steps.append, warnings=warnings)
    assert count == 60
    data = out.getvalue()
    return data, rasterise_150(data, tmp_path_factory.mktemp("pages")), steps, warnings


def test_every_qr_on_the_demo_sheets_scans_at_150_dpi(demo, demo_pdf):
    data, pages, steps, warnings = demo_pdf
    db = demo
    codes = {r["code"] for r in db.query("SELECT code FROM participants")}
    assert len(codes) == 60
    assert len(pages) == 15
    found: list[str] = []
    for image in pages:
        on_page = decode(image)
        assert len(on_page) == 4, "every badge on the sheet must scan"
        found.extend(on_page)
    assert sorted(found) == sorted(codes)
    assert sum(steps) == 60 and len(steps) == 15
    assert warnings == []  # the demo's names and titles all fit without shortening
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages[0].save(ARTIFACTS / "badges-sheet-1.png")


def test_badge_text_is_text_in_the_embedded_font(demo, demo_pdf, tmp_path):
    data = demo_pdf[0]
    text = pdf_text(data, tmp_path)
    for person in demo.query("SELECT first_name, last_name, organisation FROM participants"):
        for value in person.values():
            assert value in text, value  # every name as written, umlauts included
    for word in ("GRONINGEN", "BREMEN", "OLDENBURG", "Expertentreffen", "ARBEITSGRUPPE",
                 "WERKGROEP", "12. November 2019"):
        assert word in text
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert all(not page.images for page in reader.pages)  # no page images: vectors
    fonts = subprocess.run(["pdffonts", str(tmp_path / "t.pdf")], capture_output=True,
                           text=True, check=True).stdout.splitlines()[2:]
    # Only the bundled Noto Sans, embedded as subsets ("ABCDEF+"), with a Unicode map.
    assert len(fonts) == 2
    for line in fonts:
        name, *_kind, emb, sub, uni = line.split()[:-2]
        assert re.fullmatch(r"[A-Z]{6}\+NotoSans-(Bold|Regular)", name)
        assert (emb, sub, uni) == ("yes", "yes", "yes")
    # Far below the 5 MB per 1,000 badges the printers' spoolers are given.
    assert len(data) / 60 * 1000 < 5_000_000


def test_sheets_are_a4_with_cut_marks(demo_pdf):
    data = demo_pdf[0]
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    width_pt, height_pt = float(page.mediabox.width), float(page.mediabox.height)
    assert abs(width_pt - A4_PT[0]) < 0.5 and abs(height_pt - A4_PT[1]) < 0.5
    image = badges.rasterise(data, 300)[0]
    assert abs(image.width - 2480) <= 1 and abs(image.height - 3508) <= 1  # A4 at 300 dpi

    def dark(x: float, y: float) -> bool:
        return image.getpixel((round(x), round(y))) < 128

    # Cut marks outside every corner of every badge, on the lines of its edges.
    size = badges.SIZES["a4"]
    mid = (badges.MARK_FROM + badges.MARK_TO) / 2
    w, h = badges.BADGE
    for slot in range(size.per_page):
        x, y = badges.sheet_origin(size, slot)
        for cx, sx in ((x, -1), (x + w, 1)):
            for cy, sy in ((y, -1), (y + h, 1)):
                assert dark(cx + sx * mid, cy)
                assert dark(cx, cy + sy * mid)
                assert not dark(cx + sx * mid, cy + sy * mid)  # not a frame


@pytest.mark.parametrize("size", [s for s in badges.SIZES if s != "a4"])
def test_single_badge_sizes_fill_their_page_and_scan_at_150_dpi(demo, size, tmp_path):
    ids = badges.select_participants(demo, cities=["Groningen"])[:3]
    out = io.BytesIO()
    assert badges.render_pdf(demo, out, ids, size=size) == 3
    reader = pypdf.PdfReader(io.BytesIO(out.getvalue()))
    w_mm, h_mm = badges.SIZES[size].page_mm
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - w_mm / 25.4 * 72) < 0.5
        assert abs(float(page.mediabox.height) - h_mm / 25.4 * 72) < 0.5
    codes = [demo.execute("SELECT code FROM participants WHERE id = ?", [i]).fetchone()[0]
             for i in ids]
    pages = rasterise_150(out.getvalue(), tmp_path)
    assert [decode(image) for image in pages] == [[c] for c in codes]
    # The city band reaches the page's top edge: the badge fills the page.
    assert pages[0].getpixel((pages[0].width // 2, 2)) < 128


def test_unknown_size_is_refused(demo):
    with pytest.raises(ValueError, match="unknown badge size 'a3'"):
        badges.render_pdf(demo, io.BytesIO(), [1], size="a3")


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


def test_a_reissued_code_is_on_the_new_badge(db, tmp_path):
    person = db.execute("SELECT id, code FROM participants ORDER BY id LIMIT 1").fetchone()
    new = reissue(db, person[0])
    out = io.BytesIO()
    assert badges.render_pdf(db, out, participant_ids=[person[0]]) == 1
    [image] = rasterise_150(out.getvalue(), tmp_path)
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


def blank(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    """Whether a region of a greyscale image is (all but) white."""
    return image.crop(box).getextrema()[0] > 200


def quiet_zone_is_blank(image: Image.Image) -> bool:
    """Whether the four modules of white around a badge's QR (bottom right) are clear."""
    w, h = image.size
    side, quiet = 33 * badges.QR_MODULE, 4 * badges.QR_MODULE
    return (blank(image, (w - side + 2, h - side + 2, w, h - side + quiet - 2))  # above
            and blank(image, (w - side + 2, h - side + 2, w - side + quiet - 2, h)))  # left


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
    image = badges.badge_image({**long_person, "title": "Prof. Dr.-Ing."}, event, warnings)
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
        band = image.crop((x0, 0, x1, badges.BAND_H)).point(lambda v: 0 if v < 128 else 255)
        return band.histogram()[0] / (band.width * band.height)

    share = {}
    for city in ("Groningen", "Bremen", "Oldenburg", "Hamburg"):
        image = badges.badge_image({**person, "city": city}, event)
        # Black in the band's left fifth and in its outer right edge (beyond any text).
        share[city] = black(image, 0, w // 5), black(image, w - badges.PAD + 4, w)
    assert share["Groningen"][1] > 0.9  # solid black
    assert 0.3 < share["Bremen"][1] < 0.7  # hatched: grey from afar
    assert share["Oldenburg"][0] > 0.6 and share["Oldenburg"][1] < 0.15  # black block left
    assert share["Hamburg"][0] < 0.3 and share["Hamburg"][1] < 0.15  # white band
    assert len({badges.city_style(c) for c in share}) == 4


LOGO_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
            b'<rect width="200" height="100" fill="#b00020"/>'
            b'<text x="10" y="60" font-size="40">LOGO</text></svg>')


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_logo_and_accent_colours_from_the_event_file(db, tmp_path, kind):
    from checkin.demo import EVENT_TOML

    if kind == "svg":
        (tmp_path / "logo.svg").write_bytes(LOGO_SVG)
    else:
        Image.new("RGB", (200, 100), (176, 0, 32)).save(tmp_path / "logo.png")
    toml = EVENT_TOML + f"""
[badges]
logo = "logo.{kind}"
colors = {{ Groningen = "#00543c", Bremen = "#b00020" }}
"""
    apply_event(db, parse_event(toml, tmp_path))
    person = db.execute("SELECT id FROM participants WHERE city = 'Groningen' LIMIT 1"
                        ).fetchone()[0]
    image = Image.open(io.BytesIO(badges.badge_png(db, person))).convert("RGB")
    w = badges.BADGE[0]
    # The Groningen band in its green, the logo in red on a white plate at the band's end.
    assert image.getpixel((badges.PAD // 2, badges.BAND_H // 2)) == (0, 84, 60)
    logo_area = image.crop((w * 2 // 3, 0, w, badges.BAND_H))
    assert (176, 0, 32) in {c for _n, c in logo_area.getcolors(1 << 20)}
    assert decode(image)  # and it still scans
    out = io.BytesIO()
    badges.render_pdf(db, out, [person], size="a6")
    reader = pypdf.PdfReader(io.BytesIO(out.getvalue()))
    assert "GRONINGEN" in reader.pages[0].extract_text()


@pytest.mark.parametrize("badges_toml, message", [
    ('colors = { Groningen = "#ffff00" }', "too light"),
    ('colors = { Groningen = "green" }', "must be a colour"),
    ('logo = "missing.png"', "cannot read"),
    ('logo = "logo.gif"', ".png or .svg"),
])
def test_bad_badge_settings_are_refused(tmp_path, badges_toml, message):
    from checkin.core.event import EventFileError
    from checkin.demo import EVENT_TOML

    with pytest.raises(EventFileError, match=message):
        parse_event(EVENT_TOML + "\n[badges]\n" + badges_toml + "\n", tmp_path)


def test_qr_png_and_svg():
    code = "X2345678ABCDEFGHJKMNPQ"
    png = Image.open(io.BytesIO(badges.qr_png(code, box_size=6)))
    assert png.width == 33 * 6  # version 2 with a four-module quiet zone
    assert decode(png) == [code]
    svg = badges.qr_svg(code)
    assert svg.startswith("<svg") and "<path" in svg and "<?xml" not in svg


def test_the_same_badges_make_the_same_bytes(demo):
    ids = badges.select_participants(demo)[:8]
    one, two = io.BytesIO(), io.BytesIO()
    badges.render_pdf(demo, one, ids)
    badges.render_pdf(demo, two, ids)
    assert one.getvalue() == two.getvalue()


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
    found = [c for image in rasterise_150(out.read_bytes(), tmp_path / "r")
             for c in decode(image)]
    assert expected and sorted(found) == sorted(expected)
    assert f"Wrote {len(expected)} badge(s)" in result.output

    bad = runner.invoke(cli, ["--db", str(db_path), "badges", "-o", str(tmp_path / "x.pdf"),
                              "--only", "nobody@example.org"])
    assert bad.exit_code == 1 and "nobody@example.org" in bad.output
    # In the chosen language, one line from the error catalogue.
    moon = runner.invoke(cli, ["--db", str(db_path), "--lang", "de", "badges", "-o",
                               str(tmp_path / "x.pdf"), "--excursion", "moon"])
    assert moon.exit_code == 1 and moon.output.startswith("keine Exkursion 'moon' (bekannt: ")
    assert len(moon.output.splitlines()) == 1
    assert not (tmp_path / "x.pdf").exists()
    assert list(tmp_path.glob(".badges-*")) == []
    nowhere = runner.invoke(cli, ["--db", str(db_path), "badges", "-o",
                                  str(tmp_path / "missing" / "x.pdf")])
    assert nowhere.exit_code == 1 and "no folder" in nowhere.output


def test_bench_script_runs():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench-badges"), "6"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^6 badges in [0-9.]+ s \([0-9]+ badges/s\), 2 pages, ", done.stdout)
    assert "(target <= 5 MB)" in done.stdout and "ms/badge" in done.stdout


def test_badge_pdf_download_and_command_take_a_size(organiser, db_path, tmp_path):
    one = organiser.get("/participants/1/badge.pdf?size=a6")
    page = pypdf.PdfReader(io.BytesIO(one.data)).pages[0]
    assert one.status_code == 200 and round(float(page.mediabox.width) / 72 * 25.4) == 105
    odd = organiser.get("/participants/1/badge.pdf?size=<a3>")
    assert odd.status_code == 200  # an unknown size is the A4 sheet, never an error
    page = pypdf.PdfReader(io.BytesIO(odd.data)).pages[0]
    assert round(float(page.mediabox.width) / 72 * 25.4) == 210
    out = tmp_path / "labels.pdf"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "badges", "-o", str(out),
                                      "--city", "Bremen", "--size", "label-62x100"])
    assert result.exit_code == 0 and "Wrote 18 badge(s) on 18 page(s)" in result.output
    assert len(pypdf.PdfReader(out).pages) == 18


def test_badge_previews_on_many_threads_at_once(demo):
    # The server answers on threads; PDFium must not be entered by two at once.
    from concurrent.futures import ThreadPoolExecutor

    from checkin.core.db import connect as open_db

    path = demo.execute("PRAGMA database_list").fetchone()[2]

    def preview(pid: int) -> list[str]:
        db = open_db(path)
        try:
            return decode(Image.open(io.BytesIO(badges.badge_png(db, pid))))
        finally:
            db.conn.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        found = list(pool.map(preview, range(1, 13)))
    codes = [demo.execute("SELECT code FROM participants WHERE id = ?", [i]).fetchone()[0]
             for i in range(1, 13)]
    assert found == [[c] for c in codes]


def test_many_badges_for_the_server_are_rendered_in_a_child_process(db_path, tmp_path):
    import os

    data, count = badges.render_pdf_bytes(str(db_path), None, count_hint=badges.CHILD_FROM)
    assert count == 60
    assert badges.pdf._POOL is not None  # the child did the work
    pid = badges.pdf._POOL.submit(os.getpid).result()
    assert pid != os.getpid()
    pages = rasterise_150(data, tmp_path)
    assert len(pages) == 15 and sum(len(decode(p)) for p in pages) == 60
    small, one = badges.render_pdf_bytes(str(db_path), [1])
    assert one == 1 and small.startswith(b"%PDF")
    badges.shutdown_pool()  # the test stops what it started
    assert badges.pdf._POOL is None
