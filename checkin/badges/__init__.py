"""Printed badges: QR codes, and print-ready vector PDFs of badge sheets and single badges.

Badges are drawn with reportlab as vectors: text as text in the bundled Noto Sans (embedded
as a subset, so it is selectable, searchable and read aloud), QR codes as black squares, so
they print sharp on any printer at any size. The delegations are told apart by band pattern,
shape and city name, never by colour alone; the event file may add a logo and accent colours.
"""

from __future__ import annotations

import atexit
import base64
import io
import json
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.image.svg import SvgPathImage
from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.pdfgen.canvas import Canvas
from sqlite_utils import Database

from checkin.badges.text import (
    advance,
    cap_height,
    descent,
    fit,
    font_name,
    get_font,
    missing_glyphs,
)
from checkin.core.clock import date_text
from checkin.core.db import get_meta
from checkin.core.event import event_info
from checkin.core.texts import all_texts, venue_in
from checkin.scans.people import in_language
from checkin.scans.people import people as view_people

DPI = 300  # the drawing unit is a pixel at 300 dpi: the layout predates the vector PDF
PT = 72 / DPI  # PDF points per drawing unit


def mm(value: float) -> int:
    """Millimetres to drawing units (pixels at 300 dpi)."""
    return round(value * DPI / 25.4)


# Four badges of 92 x 134 mm (they fit A6 badge holders) on an A4 sheet, 8 mm apart.
BADGE = (mm(92), mm(134))
GUTTER = mm(8)
BLEED = mm(1.5)  # the city band runs past the cut line, so a slightly-off cut shows no sliver
MARK_FROM, MARK_TO = mm(2.2), mm(3.8)  # cut marks, measured outward from the cut line
PAD = mm(5)
BAND_H = mm(19)
QR_MODULE = 18  # units per module: the codes make version-2 QRs (25 modules), 50 mm wide
QR_QUIET = 4  # modules of white around the code, as the QR standard asks


@dataclass(frozen=True)
class Size:
    """A page format: a sheet with a grid of badges and cut marks, or one badge per page."""

    name: str
    description: str
    page_mm: tuple[float, float]
    grid: tuple[int, int] | None = None  # columns, rows; None: the badge fills the page

    @property
    def per_page(self) -> int:
        """How many badges one page holds."""
        return self.grid[0] * self.grid[1] if self.grid else 1


SIZES = {s.name: s for s in (
    Size("a4", "A4 sheet, four 92 x 134 mm badges with cut marks", (210, 297), (2, 2)),
    Size("a6", "one badge per A6 page (105 x 148 mm)", (105, 148)),
    Size("label-4x6", "one badge per 4 x 6 in label (102 x 152 mm)", (101.6, 152.4)),
    Size("label-62x100", "one badge per 62 x 100 mm label (Brother QL, 62 mm roll)", (62, 100)),
    Size("label-59x102", "one badge per 59 x 102 mm label (DYMO 99014)", (59, 102)),
    Size("badge", "one badge per 92 x 134 mm page, no margins (the preview)", (92, 134)),
)}
DEFAULT_SIZE = "a4"
PER_PAGE = SIZES[DEFAULT_SIZE].per_page

# Labels on the badge are in the wearer's language: it is their badge and their day plan.
LABELS = {
    "de": {"working_group": "Arbeitsgruppe", "excursion": "Exkursion",
           "organiser": "Organisationsteam", "speaker": "Referent·in",
           "guide": "Exkursionsleitung"},
    "nl": {"working_group": "Werkgroep", "excursion": "Excursie",
           "organiser": "Organisatieteam", "speaker": "Spreker", "guide": "Gids"},
    "en": {"working_group": "Working group", "excursion": "Excursion",
           "organiser": "Organising team", "speaker": "Speaker", "guide": "Guide"},
}
# The three delegations: a band pattern and a shape each, so they differ without colour.
CITY_STYLES = {"groningen": ("solid", "circle"), "bremen": ("stripes", "triangle"),
               "oldenburg": ("split", "square")}
OTHER_STYLE = ("plain", "diamond")

# --- QR codes ---------------------------------------------------------------------------

def _qr(code: str) -> qrcode.QRCode:
    """Build the QR for a code: error correction Q, the smallest version that holds it."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=QR_QUIET)
    qr.add_data(code)
    qr.make(fit=True)
    return qr


def qr_svg(code: str) -> str:
    """Return inline SVG markup of the code's QR (for web pages)."""
    svg = _qr(code).make_image(image_factory=SvgPathImage).to_string(encoding="unicode")
    return svg[svg.index("<svg"):]  # without the XML declaration, to sit inside HTML


def qr_png(code: str, box_size: int = 10) -> bytes:
    """Return the code's QR as a PNG with `box_size` pixels per module."""
    matrix = _qr(code).get_matrix()
    n = len(matrix)
    small = Image.frombytes("L", (n, n), bytes(0 if dark else 255
                                                for row in matrix for dark in row))
    out = io.BytesIO()
    # Scaled up without blurring: every module a sharp square.
    small.convert("1", dither=Image.Dither.NONE).resize(
        (n * box_size, n * box_size), Image.Resampling.NEAREST).save(out, "PNG", optimize=True)
    return out.getvalue()


def qr_runs(code: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The code's QR as (modules per side with quiet zone, dark runs (row, first, length)).

    Runs of dark modules in a row become one rectangle each: about a third as many
    drawing operations as one square per module, and no hairline seams between squares.
    """
    matrix = _qr(code).get_matrix()
    runs = []
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return len(matrix), runs


# --- Drawing ----------------------------------------------------------------------------

INK = black


class Pen:
    """Draws on a reportlab canvas in badge units: origin at the badge's top left, y down."""

    def __init__(self, canvas: Canvas, height: int):
        self.c, self.h = canvas, height

    def fill(self, color: Color) -> None:
        """Set the colour for what is drawn next."""
        self.c.setFillColor(color)

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """A filled rectangle between two corners."""
        self.c.rect(x0, self.h - y1, x1 - x0, y1 - y0, stroke=0, fill=1)

    def polygon(self, points: list[tuple[float, float]]) -> None:
        """A filled polygon."""
        path = self.c.beginPath()
        path.moveTo(points[0][0], self.h - points[0][1])
        for x, y in points[1:]:
            path.lineTo(x, self.h - y)
        path.close()
        self.c.drawPath(path, stroke=0, fill=1)

    def ellipse(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """A filled ellipse in a box."""
        self.c.ellipse(x0, self.h - y1, x1, self.h - y0, stroke=0, fill=1)

    def rounded(self, x0: float, y0: float, x1: float, y1: float, radius: float) -> None:
        """A filled rectangle with rounded corners."""
        self.c.roundRect(x0, self.h - y1, x1 - x0, y1 - y0, radius, stroke=0, fill=1)

    def text(self, x: float, baseline: float, text: str, bold: bool, size: float) -> None:
        """A line of text starting at (x, baseline)."""
        if text:
            self.c.setFont(font_name(bold), size)
            self.c.drawString(x, self.h - baseline, text)

    def qr(self, x: float, y: float, module: float, n: int,
           runs: list[tuple[int, int, int]]) -> None:
        """A QR code's dark runs as one filled path, counted in modules (short numbers)."""
        self.c.saveState()
        self.c.translate(x, self.h - y - n * module)
        self.c.scale(module, module)
        path = self.c.beginPath()
        for row, col, length in runs:
            path.rect(col, n - row - 1, length, 1)
        self.c.drawPath(path, stroke=0, fill=1)
        self.c.restoreState()

    @contextmanager
    def clip(self, x0: float, y0: float, x1: float, y1: float) -> Iterator[None]:
        """Clip what is drawn inside to a box."""
        self.c.saveState()
        path = self.c.beginPath()
        path.rect(x0, self.h - y1, x1 - x0, y1 - y0)
        self.c.clipPath(path, stroke=0, fill=0)
        try:
            yield
        finally:
            self.c.restoreState()


def city_style(city: str) -> tuple[str, str]:
    """Return the (band pattern, shape) of a city's delegation."""
    return CITY_STYLES.get((city or "").strip().casefold(), OTHER_STYLE)


def _shape(pen: Pen, kind: str, x0: int, y0: int, x1: int, y1: int) -> None:
    """Draw a delegation's shape (circle, triangle, square or diamond) into a box."""
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if kind == "circle":
        pen.ellipse(x0, y0, x1, y1)
    elif kind == "triangle":
        pen.polygon([(cx, y0), (x1, y1), (x0, y1)])
    elif kind == "square":
        inset = (x1 - x0) / 10
        pen.rect(x0 + inset, y0 + inset, x1 - inset, y1 - inset)
    else:
        pen.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)])


@dataclass
class Style:
    """What the event file adds to every badge: a logo and the delegations' accent colours."""

    logo: Logo | None = None
    colors: dict[str, str] | None = None

    def ink(self, city: str) -> Color:
        """The band's colour for a city: its accent colour, else black."""
        value = (self.colors or {}).get((city or "").strip().casefold())
        return HexColor(value) if value else INK


@dataclass
class Logo:
    """An event logo ready to draw: a PNG image or an SVG drawing, with its aspect ratio."""

    kind: str
    data: bytes
    aspect: float  # width / height
    drawing: Any = None  # the SVG as a reportlab Drawing

    @classmethod
    def load(cls, kind: str, data: bytes) -> Logo:
        """Read a PNG or SVG logo; raise ValueError if it cannot be read."""
        if kind == "svg":
            from svglib.svglib import svg2rlg

            drawing = svg2rlg(io.BytesIO(data))
            if drawing is None or not drawing.width or not drawing.height:
                raise ValueError("the SVG logo cannot be read")
            return cls(kind, data, drawing.width / drawing.height, drawing)
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return cls(kind, data, image.width / image.height)
        except (OSError, ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"the logo cannot be read as an image: {exc}") from exc

    def draw(self, canvas: Canvas, x: float, y: float, width: float, height: float) -> None:
        """Draw the logo into a box given in PDF units, bottom left at (x, y)."""
        if self.drawing is not None:
            from reportlab.graphics import renderPDF

            canvas.saveState()
            canvas.translate(x, y)
            canvas.scale(width / self.drawing.width, height / self.drawing.height)
            renderPDF.draw(self.drawing, canvas, 0, 0)
            canvas.restoreState()
        else:
            from reportlab.lib.utils import ImageReader

            canvas.drawImage(ImageReader(io.BytesIO(self.data)), x, y, width, height,
                             mask="auto")


def badge_style(db: Database) -> Style:
    """The logo and accent colours the event file named, if any."""
    raw = get_meta(db, "badges")
    if not raw:
        return Style()
    info = json.loads(raw)
    logo = None
    if info.get("logo"):
        logo = Logo.load(info["logo"]["kind"], base64.b64decode(info["logo"]["data"]))
    return Style(logo, {k.casefold(): v for k, v in (info.get("colors") or {}).items()})


def _band(pen: Pen, city: str, width: int, bleed: int, style: Style) -> bool:
    """Draw a city's band, with bleed on top and sides; say whether the name was shortened.

    The band's top left is at (-bleed, -bleed); the badge's own top left is (0, 0).
    """
    pattern, shape = city_style(city)
    ink = style.ink(city)
    x0, y0, x1, y1 = -bleed, -bleed, width + bleed, BAND_H
    height = BAND_H
    icon = height * 46 // 100
    x, y_mid = PAD, height // 2
    text_ink = ink
    pen.fill(ink)
    if pattern == "solid":
        pen.rect(x0, y0, x1, y1)
        text_ink = white
    elif pattern == "stripes":
        # Diagonal hatching reads as grey from afar; the name sits on a white plate.
        step, tall = mm(1.6), y1 - y0
        with pen.clip(x0, y0, x1, y1):
            for off in range(x0 - tall, x1, step * 2):
                pen.polygon([(off, y1), (off + step, y1), (off + step + tall, y0),
                             (off + tall, y0)])
    elif pattern == "split":
        pen.rect(x0, y0, x + icon + PAD, y1)
        pen.rect(x0, y1 - mm(1.2), x1, y1)
    else:
        pen.rect(x0, y1 - mm(0.6), x1, y1)
    right = width - PAD
    if style.logo is not None:
        # The logo sits at the band's right end on a white plate, so it shows on any band.
        logo_h = height - 2 * mm(3.5)
        logo_w = min(logo_h * style.logo.aspect, width * 0.3)
        logo_h = logo_w / style.logo.aspect
        lx, ly = right - logo_w, y_mid - logo_h / 2
        pen.fill(white)
        pen.rounded(lx - mm(1.5), y_mid - height / 2 + mm(2), right + mm(1.5),
                    y_mid + height / 2 - mm(2), mm(1.5))
        style.logo.draw(pen.c, lx, pen.h - (ly + logo_h), logo_w, logo_h)
        right = lx - mm(4)
    label = city.strip().upper()
    text_x = x + icon + PAD + (mm(3) if pattern == "split" else 0)
    size, lines, shortened = fit(label, True, max(1, right - text_x), height * 52 // 100,
                                 height // 4, 1)
    if pattern == "stripes":
        text_w = int(get_font(True, size).getlength(lines[0])) if label else 0
        pen.fill(white)
        pen.rounded(x - mm(2), mm(3), text_x + text_w + mm(3), height - mm(3), mm(2))
    pen.fill(white if pattern == "split" else text_ink)
    _shape(pen, shape, x, y_mid - icon // 2, x + icon, y_mid + icon // 2)
    pen.fill(text_ink)
    if label:
        pen.text(text_x, y_mid + cap_height(True, size) / 2, lines[0], True, size)
    pen.fill(INK)
    return shortened


@lru_cache(maxsize=64)
def _date_text(day: str, language: str) -> str:
    """The event's date in the wearer's language, e.g. '12. November 2019'."""
    return date_text(day, language)


Block = tuple[int, Callable[[Pen, int, int], None], str]


def _lines_block(lines: tuple[str, ...], bold: bool, size: int, leading: float,
                 space_after: int, shortened: str = "") -> Block:
    """A block of text lines; its height runs from the top of capitals to the last baseline."""
    cap, step = cap_height(bold, size), round(size * leading)

    def draw(pen: Pen, x: int, y: int) -> None:
        for i, line in enumerate(lines):
            pen.text(x, y + cap + i * step, line, bold, size)

    return cap + (len(lines) - 1) * step + space_after, draw, shortened


def _tag_block(text: str, size: int) -> Block:
    """A role tag: white capitals on a black plate, e.g. ORGANISATION or SPEAKER."""
    cap, pad = cap_height(True, size), size // 3
    width = int(get_font(True, size).getlength(text)) + 2 * pad

    def draw(pen: Pen, x: int, y: int) -> None:
        pen.rounded(x, y, x + width, y + cap + 2 * pad, pad)
        pen.fill(white)
        pen.text(x + pad, y + pad + cap, text, True, size)
        pen.fill(INK)

    return cap + 2 * pad, draw, ""


def _fitted(text: str, bold: bool, width: int, size: int, min_size: int, max_lines: int,
            leading: float, space_after: int, what: str, shrink: float = 0.85) -> Block:
    """Fit text to the width and make it a block, noting `what` if it had to be shortened."""
    s, lines, cut = fit(text, bold, width, size, min_size, max_lines, shrink)
    return _lines_block(lines, bold, s, leading, space_after, what if cut else "")


def _person_blocks(person: dict[str, Any], labels: dict[str, str], width: int,
                   name_scale: float, scale: float) -> tuple[list[Block], list[Block]]:
    """Lay out who (title, name, organisation, role) and where (group, excursion), the name
    at one scale and the rest at another; the last block ends at its baseline."""
    def px(size: float, factor: float = scale) -> int:
        return max(20, int(size * factor) // 2 * 2)

    who = []
    if (person.get("title") or "").strip():
        # The academic title small above the name: kept, without outshouting the name.
        who.append(_fitted(person["title"].strip(), False, width, px(40), px(30), 1, 1.1,
                           mm(2), "title"))
    who += [_fitted((person.get("first_name") or "").strip(), True, width,
                    px(170, name_scale), px(96, name_scale), 2, 1.05, mm(3), "first name",
                    shrink=0.6),
            _fitted((person.get("last_name") or "").strip(), True, width,
                    px(100, name_scale), px(56, name_scale), 2, 1.1, mm(4.5), "last name",
                    shrink=0.6)]
    if person.get("organisation"):
        who.append(_fitted(person["organisation"].strip(), False, width, px(52), px(36), 3,
                           1.2, mm(4), "organisation"))
    if person.get("role") in ("organiser", "speaker", "guide"):
        who.append(_tag_block(labels[person["role"]].upper(), px(34)))
    where = []
    titles = [(key, (person.get(f"{key}_title") or "").strip())
              for key in ("working_group", "excursion")]
    titles = [(key, title) for key, title in titles if title]
    for i, (key, title) in enumerate(titles):
        where.append(_lines_block((labels[key].upper(),), True, px(28), 1.0, mm(1.6)))
        where.append(_fitted(title, False, width, px(44), px(32), 2, 1.18,
                             mm(3.5) if i < len(titles) - 1 else 0, key.replace("_", " ")))
    return who, where


# (name, rest) scales to try in turn: the rest gives way first, so names stay alike.
SCALES = ((1.0, 1.0), (1.0, 0.92), (1.0, 0.85), (0.92, 0.85), (0.85, 0.8), (0.78, 0.74),
          (0.7, 0.68), (0.62, 0.62))


@lru_cache(maxsize=64)
def _footer(event_name: str, details: str, width: int
            ) -> tuple[int, tuple[tuple[int, str, bool, int], ...], tuple[str, ...]]:
    """Lay out the event name, date and venue once per language: the height, the lines as
    (baseline, text, bold, size), and what had to be shortened."""
    rows: list[tuple[str, bool, int]] = []
    short = []
    for text, bold, size, what in ((event_name, True, 30, "event name"),
                                   (details, False, 28, "event date and venue")):
        if text:
            s, lines, cut = fit(text, bold, width, size, 22, 3 if bold else 2, 0.75)
            rows.extend((line, bold, s) for line in lines)
            if cut:
                short.append(what)
    rule = mm(0.6)
    y = rule + mm(2.5)
    placed = []
    for line, bold, s in rows:
        y += round(s * 1.2) if placed else cap_height(bold, s)
        placed.append((y, line, bold, s))
    return y + descent(False, 28) // 2, tuple(placed), tuple(short)


def _code(pen: Pen, x: int, baseline: int, code: str, width: int, size: int = 26) -> None:
    """Draw a code in groups of four on a fixed pitch, so it is easy to read and type."""
    widest = max(advance(ch, size) for ch in "0123456789ABCDEFGHJKMNPQRSTVWX")
    slots = len(code) + (len(code) - 1) // 4 / 2  # a half-cell gap between groups
    pitch = min(round(widest * 1.05), int(width / slots))
    if pitch < widest * 0.9:
        size = max(12, int(size * pitch / widest))  # a longer code: smaller characters
    for i, ch in enumerate(code):
        cell = x + i * pitch + (i // 4) * pitch // 2
        pen.text(cell + round(pitch - advance(ch, size)) // 2, baseline, ch, True, size)


def draw_badge(pen: Pen, person: dict[str, Any], event: dict[str, Any], style: Style,
               size: tuple[int, int] = BADGE, bleed: int = 0,
               warnings: list[str] | None = None) -> None:
    """Draw one badge with its top left at the pen's (0, 0), optionally with bleed.

    Text that does not fit even at its smallest size is shortened with "…" and reported
    in `warnings`, so that nothing is cut off silently.
    """
    w, h = size
    lang = person.get("language") if person.get("language") in LABELS else "en"
    inner = w - 2 * PAD
    short: list[str] = []
    with pen.clip(-bleed, -bleed, w + bleed, h + bleed):
        if _band(pen, person.get("city") or "", w, bleed, style):
            short.append("city")

    # The QR sits bottom right, its full quiet zone inside the badge.
    n, runs = qr_runs(person["code"])
    qr_x, qr_y = w - n * QR_MODULE, h - n * QR_MODULE
    pen.fill(INK)
    pen.qr(qr_x, qr_y, QR_MODULE, n, runs)

    # Who at the top, where (group, excursion) just above the QR, the last baseline far
    # enough above the quiet zone for descenders. If they do not fit, the text shrinks a
    # step and is laid out again.
    top, bottom = BAND_H + mm(5.5), qr_y - mm(1.5)
    for name_scale, scale in SCALES:
        who, where = _person_blocks(person, LABELS[lang], inner, name_scale, scale)
        who_h, where_h = sum(b[0] for b in who), sum(b[0] for b in where)
        # Shrinking a little beats shortening a text.
        if who_h + mm(3) + where_h <= bottom - top and not any(b[2] for b in who + where):
            break
    y = top
    for height, draw, shortened in who:
        draw(pen, PAD, y)
        y += height
        short.extend([shortened] if shortened else [])
    y = max(y + mm(3), bottom - where_h)
    for height, draw, shortened in where:
        draw(pen, PAD, y)
        y += height
        short.extend([shortened] if shortened else [])

    # Bottom left, beside the QR: the event, date and venue, and the code for typing in.
    code_base, footer_w = h - mm(5), qr_x - mm(1) - PAD  # clear of the quiet zone
    _code(pen, PAD, code_base, person["code"], footer_w)
    details = ", ".join(v for v in (_date_text(event.get("date") or "", lang),
                                    person.get("venue") or event.get("venue") or "") if v)
    height, lines, footer_short = _footer(event.get("name") or "", details, footer_w)
    top = code_base - mm(7) - height
    pen.rect(PAD, top, PAD + mm(12), top + mm(0.6))
    for baseline, line, bold, s in lines:
        pen.text(PAD, top + baseline, line, bold, s)
    short.extend(footer_short)
    if warnings is not None:
        name = f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
        warnings.extend(f"badge of {name} (id {person.get('id')}): {what} shortened"
                        for what in short)
        # A character the font lacks would print as an empty box: say so.
        missing = missing_glyphs(" ".join(str(person.get(k) or "") for k in (
            "title", "first_name", "last_name", "organisation", "city")))
        if missing:
            warnings.append(f"badge of {name} (id {person.get('id')}): the font has no "
                            f"{', '.join(sorted(missing))}")


# --- Queries ----------------------------------------------------------------------------

def _letters(text: str) -> str:
    """Text without accents, case-folded: Ö sorts with O, as on a printed list."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text or "")
                   if not unicodedata.combining(ch)).casefold()


def sort_key(person: dict[str, Any]) -> tuple[str, str, str, int]:
    """Order badges for handing out: by delegation, then by family name as people look it
    up, without the lower-case particles in front ("van der Veen" under V, "von Hammerstein"
    under H)."""
    words = (person.get("last_name") or "").split()
    while len(words) > 1 and (words[0][:1].islower() or words[0][:1] in "'’"):  # van 't Hof
        words.pop(0)
    return (_letters(person.get("city") or ""), _letters(" ".join(words)),
            _letters(person.get("first_name") or ""), person.get("id") or 0)


def people(db: Database, participant_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Return badge rows: everyone in `sort_key` order, or the given ids in the given order."""
    if participant_ids is None:
        return _in_wearers_language(db, sorted(view_people(db), key=sort_key))
    ids = [int(i) for i in participant_ids]
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):  # below SQLite's limit on parameters
        chunk = ids[start:start + 500]
        rows = view_people(db, f"v.id IN ({', '.join('?' * len(chunk))})", chunk)
        found.update({row["id"]: row for row in rows})
    missing = [i for i in ids if i not in found]
    if missing:
        raise LookupError(f"no participant with id {', '.join(map(str, missing[:10]))}")
    return _in_wearers_language(db, [found[i] for i in ids])


def _in_wearers_language(db: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each badge its titles and venue in the wearer's language (unknown: plain text)."""
    texts = all_texts(db)
    for row in rows:
        row["venue"] = venue_in(texts, row.get("language"), None)
    return in_language(db, rows)


def select_participants(db: Database, only: Iterable[str] = (), cities: Iterable[str] = (),
                        working_groups: Iterable[str] = (), excursions: Iterable[str] = ()
                        ) -> list[int]:
    """Return the ids of participants matching every given filter, in `sort_key` order.

    `only` holds ids, e-mail addresses or codes; the other filters hold cities, working
    group ids and excursion ids; within one filter any value matches. Unknown people,
    groups or excursions raise UnknownChoice (a LookupError) naming them.
    """
    from checkin.core.errors import UnknownChoice
    from checkin.participants.records import find_by_reference

    where: list[str] = []
    params: list[Any] = []
    only = [o.strip() for o in only if o.strip()]
    if only:
        ids, unknown = [], []
        for item in only:
            pid = find_by_reference(db, item)
            (ids if pid is not None else unknown).append(pid if pid is not None else item)
        if unknown:
            raise UnknownChoice("unknown_choice.participant",
                                items=", ".join(map(repr, unknown)))
        where.append(f"v.id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    cities = [c.strip().casefold() for c in cities if c.strip()]
    if cities:
        where.append(f"casefold(v.city) IN ({', '.join('?' * len(cities))})")
        params.extend(cities)
    for column, table, values in (("working_group", "working_groups", working_groups),
                                  ("excursion", "excursions", excursions)):
        values = [v.strip() for v in values if v.strip()]
        if not values:
            continue
        known = {r[0] for r in db.execute(f"SELECT id FROM {table}")}  # noqa: S608
        unknown = [v for v in values if v not in known]
        if unknown:
            raise UnknownChoice(f"unknown_choice.{column}", items=", ".join(map(repr, unknown)),
                                known=", ".join(sorted(known)))
        # The view's excursion selects the people on it today (walk-ons over the plan).
        where.append(f"v.{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)
    return [p["id"] for p in sorted(view_people(db, " AND ".join(where), params),
                                    key=sort_key)]


# --- Pages ------------------------------------------------------------------------------

def page_units(size: Size) -> tuple[float, float]:
    """A page's width and height in drawing units."""
    return size.page_mm[0] * DPI / 25.4, size.page_mm[1] * DPI / 25.4


def sheet_origin(size: Size, slot: int) -> tuple[float, float]:
    """Top left of a badge slot on a sheet, in drawing units from the page's top left."""
    assert size.grid is not None
    cols, rows = size.grid
    page_w, page_h = page_units(size)
    grid_w = cols * BADGE[0] + (cols - 1) * GUTTER
    grid_h = rows * BADGE[1] + (rows - 1) * GUTTER
    col, row = slot % cols, slot // cols
    return ((page_w - grid_w) / 2 + col * (BADGE[0] + GUTTER),
            (page_h - grid_h) / 2 + row * (BADGE[1] + GUTTER))


def _cut_marks(pen: Pen, x: float, y: float) -> None:
    """Draw a badge's cut marks: short hairlines outside each corner, on the cut lines."""
    w, h, t = BADGE[0], BADGE[1], 2  # 2 units: a 0.17 mm hairline
    for cx, sx in ((x, -1), (x + w, 1)):
        for cy, sy in ((y, -1), (y + h, 1)):
            xs = sorted((cx + sx * MARK_FROM, cx + sx * MARK_TO))
            ys = sorted((cy + sy * MARK_FROM, cy + sy * MARK_TO))
            pen.rect(xs[0], cy - t / 2, xs[1], cy + t / 2)
            pen.rect(cx - t / 2, ys[0], cx + t / 2, ys[1])


def _single_design(size: Size) -> tuple[tuple[int, int], float]:
    """For one badge per page: the badge's size in drawing units (92 mm wide, as tall as
    the page's proportions make it) and the scale that makes it fill the page."""
    page_w, page_h = page_units(size)
    return (BADGE[0], round(BADGE[0] * page_h / page_w)), page_w / BADGE[0]


def _draw_page(canvas: Canvas, size: Size, persons: list[dict[str, Any]],
               event: dict[str, Any], style: Style, warnings: list[str] | None) -> None:
    """Draw one page: a sheet of badges with cut marks, or one badge filling the page."""
    page_w, page_h = page_units(size)
    canvas.saveState()
    if size.grid is None:
        design, scale = _single_design(size)
        canvas.scale(PT * scale, PT * scale)
        draw_badge(Pen(canvas, design[1]), persons[0], event, style, design, 0, warnings)
    else:
        canvas.scale(PT, PT)
        page = Pen(canvas, round(page_h))
        for slot, person in enumerate(persons):
            x, y = sheet_origin(size, slot)
            canvas.saveState()
            canvas.translate(x, page_h - y - BADGE[1])
            draw_badge(Pen(canvas, BADGE[1]), person, event, style, BADGE, BLEED, warnings)
            canvas.restoreState()
            page.h = page_h
            page.fill(INK)
            _cut_marks(page, x, y)
    canvas.restoreState()
    canvas.showPage()


def _canvas(out: BinaryIO, size: Size, compress: bool = False) -> Canvas:
    """A canvas for pages of `size`; it starts in the badge font, so the PDF names no
    other (an unused Helvetica would be an unembedded font)."""
    page_w, page_h = page_units(size)
    # invariant: no creation time in the file, so the same badges make the same bytes.
    return Canvas(out, pagesize=(page_w * PT, page_h * PT), pageCompression=int(compress),
                  invariant=True, initialFontName=font_name(False), initialFontSize=10)


def render_pdf(db: Database, out: BinaryIO, participant_ids: list[int] | None = None,
               progress: Callable[[int], None] | None = None,
               warnings: list[str] | None = None, *, size: str = DEFAULT_SIZE) -> int:
    """Write print-ready badges as a vector PDF; return how many badges it holds.

    `size` names a format of SIZES: the A4 sheet (four badges, cut marks) or one badge
    per page of a card or label. `progress` is called with the number of badges finished
    since its last call; `warnings` collects texts that had to be shortened.
    """
    if size not in SIZES:
        raise ValueError(f"unknown badge size {size!r} (known: {', '.join(SIZES)})")
    fmt = SIZES[size]
    persons = people(db, participant_ids)
    if not persons:
        raise ValueError("no participants to print badges for")
    event = event_info(db) or {}
    style = badge_style(db)
    canvas = _canvas(out, fmt, compress=True)
    canvas.setTitle((event.get("name") or "Badges") + " – badges")
    canvas.setCreator("checkin")
    for start in range(0, len(persons), fmt.per_page):
        chunk = persons[start:start + fmt.per_page]
        _draw_page(canvas, fmt, chunk, event, style, warnings)
        if progress:
            progress(len(chunk))
    canvas.save()
    return len(persons)


# --- Rendering away from a server's threads ---------------------------------------------

# From this many badges on, the web server renders in a child process: 1,000 badges take
# about 5 s of CPU, which in the server's own process would slow every scan answered
# meanwhile (its threads share one interpreter lock).
CHILD_FROM = 100
_POOL_LOCK = threading.Lock()
_POOL: Any = None


def _render_file(db_path: str, path: str, participant_ids: list[int] | None,
                 size: str) -> int:
    """Render badges from the database at `db_path` into the file at `path` (in a child)."""
    from checkin.core.db import connect

    db = connect(db_path)
    try:
        with open(path, "wb") as out:
            return render_pdf(db, out, participant_ids, size=size)
    finally:
        db.conn.close()


def render_pdf_bytes(db_path: str, participant_ids: list[int] | None = None, *,
                     size: str = DEFAULT_SIZE, count_hint: int = 0) -> tuple[bytes, int]:
    """Render badges to PDF bytes, in a child process when there are many of them.

    Returns the PDF and the badge count. `count_hint` is how many badges are expected
    (for None: everyone), which decides where the work is done.
    """
    global _POOL
    many = (len(participant_ids) if participant_ids is not None else count_hint) >= CHILD_FROM
    if not many:
        from checkin.core.db import connect

        db = connect(db_path)
        try:
            return _in_process(db, io.BytesIO(), participant_ids, size)
        finally:
            db.conn.close()
    import multiprocessing
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    with _POOL_LOCK:
        if _POOL is None:
            # forkserver: the server runs threads, and fork would copy their locks.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _POOL = ProcessPoolExecutor(max_workers=1, mp_context=context)
            atexit.register(shutdown_pool)
        pool = _POOL
    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
        count = pool.submit(_render_file, db_path, tmp.name, participant_ids, size).result()
        return Path(tmp.name).read_bytes(), count


def shutdown_pool() -> None:
    """Stop the child process that renders for the server, if it was started."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _in_process(db: Database, out: io.BytesIO, participant_ids: list[int] | None,
                size: str) -> tuple[bytes, int]:
    """Render here, for a few badges (starting a process would take longer)."""
    count = render_pdf(db, out, participant_ids, size=size)
    return out.getvalue(), count


_PDFIUM = threading.Lock()


def rasterise(pdf: bytes, dpi: int = 300, grey: bool = True) -> list[Image.Image]:
    """Render each page of a PDF as an image (the preview; tests that scan badges)."""
    import pypdfium2 as pdfium

    # PDFium is not thread-safe, and the server answers previews on several threads.
    with _PDFIUM:
        doc = pdfium.PdfDocument(pdf)
        try:
            return [page.render(scale=dpi / 72, grayscale=grey).to_pil() for page in doc]
        finally:
            doc.close()


def badge_image(person: dict[str, Any], event: dict[str, Any],
                warnings: list[str] | None = None, style: Style | None = None,
                size: str = "badge", dpi: int = 300, grey: bool = True) -> Image.Image:
    """Render one badge, as it prints, to an image (`person` as `people` returns it)."""
    fmt = SIZES[size]
    out = io.BytesIO()
    canvas = _canvas(out, fmt)
    _draw_page(canvas, fmt, [person], event, style or Style(), warnings)
    canvas.save()
    return rasterise(out.getvalue(), dpi, grey)[0]


def badge_png(db: Database, participant_id: int) -> bytes:
    """Return one participant's badge as a PNG (the organiser's preview), drawn by the same
    code as the printed PDF."""
    person = people(db, [participant_id])[0]
    out = io.BytesIO()
    style = badge_style(db)
    # In colour only when the event gave it colours or a logo: grey PNGs are smaller.
    grey = style.logo is None and not style.colors
    badge_image(person, event_info(db) or {}, style=style, grey=grey).save(
        out, "PNG", dpi=(DPI, DPI), optimize=True)
    return out.getvalue()
