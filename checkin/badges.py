"""Printed badges: QR codes, one badge as an image, and print-ready A4 PDF sheets.

Badges are drawn in 1-bit black and white at 300 dpi: crisp on any office laser printer,
small and fast as CCITT G4 images in the PDF, and the delegations are told apart by band
pattern, shape and city name rather than by colour.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import qrcode
from babel.dates import format_date
from PIL import Image, ImageDraw, ImageFont, PdfParser, features
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.image.svg import SvgPathImage
from sqlite_utils import Database

from checkin.event import event_info

FONTS = Path(__file__).parent / "fonts"
DPI = 300


def mm(value: float) -> int:
    """Millimetres to pixels at 300 dpi."""
    return round(value * DPI / 25.4)


# A4 portrait with four badges of 92 x 134 mm (they fit A6 badge holders), 8 mm apart.
PAGE = (mm(210), mm(297))
PAGE_PT = (595.28, 841.89)  # A4 in PDF points
BADGE = (mm(92), mm(134))
GUTTER = mm(8)
COLUMNS, ROWS = 2, 2
PER_PAGE = COLUMNS * ROWS
BLEED = mm(1.5)  # the city band runs past the cut line, so a slightly-off cut shows no sliver
MARK_FROM, MARK_TO = mm(2.2), mm(3.8)  # cut marks, measured outward from the cut line
PAD = mm(5)
BAND_H = mm(19)
QR_MODULE = 18  # pixels per module: the codes make version-2 QRs (25 modules), 38 mm wide
QR_QUIET = 4  # modules of white around the code, as the QR standard asks
INK, PAPER = 0, 255  # the two values of a 1-bit image: black and white

# Labels on the badge are in the wearer's language: it is their badge and their day plan.
LABELS = {
    "de": {"working_group": "Arbeitsgruppe", "excursion": "Exkursion",
           "organiser": "Organisation", "speaker": "Referent·in", "guide": "Führung"},
    "nl": {"working_group": "Werkgroep", "excursion": "Excursie",
           "organiser": "Organisatie", "speaker": "Spreker", "guide": "Gids"},
    "en": {"working_group": "Working group", "excursion": "Excursion",
           "organiser": "Organiser", "speaker": "Speaker", "guide": "Guide"},
}
# The three delegations: a band pattern and a shape each, so they differ without colour.
CITY_STYLES = {"groningen": ("solid", "circle"), "bremen": ("stripes", "triangle"),
               "oldenburg": ("split", "square")}
OTHER_STYLE = ("plain", "diamond")

PERSON_SQL = (
    "SELECT p.id, p.first_name, p.last_name, p.organisation, p.city, p.language, p.role, "
    "p.code, w.title AS working_group_title, x.title AS excursion_title FROM participants p "
    "LEFT JOIN working_groups w ON w.id = p.working_group "
    "LEFT JOIN excursions x ON x.id = p.excursion")
# Delegations are printed together, alphabetically, to hand out per city.
ORDER_SQL = (" ORDER BY p.city COLLATE NOCASE, p.last_name COLLATE NOCASE, "
             "p.first_name COLLATE NOCASE, p.id")


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
    out = io.BytesIO()
    _qr_image(code, box_size).save(out, "PNG", optimize=True)
    return out.getvalue()


def _qr_image(code: str, module: int) -> Image.Image:
    """Return the code's QR as a 1-bit image, quiet zone included."""
    matrix = _qr(code).get_matrix()
    n = len(matrix)
    small = Image.frombytes("L", (n, n), bytes(0 if dark else 255
                                                for row in matrix for dark in row))
    # Scale up without blurring: every module becomes a sharp square.
    return small.convert("1", dither=Image.Dither.NONE).resize(
        (n * module, n * module), Image.Resampling.NEAREST)


# --- Text -------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    """Load the bundled Noto Sans in a size (cached: loading costs more than drawing)."""
    name = "NotoSans-Bold.ttf" if bold else "NotoSans-Regular.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


@lru_cache(maxsize=4096)
def _text_mask(text: str, bold: bool, size: int) -> tuple[Image.Image, int, int]:
    """Render a line of text once as a 1-bit mask; return it with its offset from the
    baseline start (group titles, places and labels repeat on many badges)."""
    font = _font(bold, size)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    mask = Image.new("1", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=font, fill=255, anchor="ls")
    return mask, left, top


def _text(img: Image.Image, x: int, baseline: int, text: str, bold: bool, size: int,
          ink: int = INK) -> None:
    """Draw a line of text with its baseline starting at (x, baseline)."""
    if text:
        mask, left, top = _text_mask(text, bold, size)
        img.paste(ink, (x + left, baseline + top), mask)


def _code_text(img: Image.Image, x: int, baseline: int, code: str, width: int,
               size: int = 26) -> None:
    """Draw a code in groups of four on a fixed pitch, so it is easy to read and type.

    Characters are placed one by one from cached masks: every code is different, and
    drawing it as a line of text would render its glyphs afresh on every badge.
    """
    widest = max(_advance(ch, size) for ch in "0123456789ABCDEFGHJKMNPQRSTVWX")
    slots = len(code) + (len(code) - 1) // 4 / 2  # a half-cell gap between groups
    pitch = min(round(widest * 1.05), int(width / slots))
    if pitch < widest * 0.9:
        size = max(12, int(size * pitch / widest))  # a longer code: smaller characters
    for i, ch in enumerate(code):
        cell = x + i * pitch + (i // 4) * pitch // 2
        _text(img, cell + round(pitch - _advance(ch, size)) // 2, baseline, ch, True, size)


@lru_cache(maxsize=512)
def _advance(ch: str, size: int) -> float:
    """The advance width of one bold character."""
    return _font(True, size).getlength(ch)


def cap_height(bold: bool, size: int) -> int:
    """The height of capital letters of the font at a size, in pixels."""
    return -_font(bold, size).getbbox("H", anchor="ls")[1]


def missing_glyphs(text: str, bold: bool = False) -> set[str]:
    """Return the characters of `text` the badge font cannot draw (they would print as boxes)."""
    font = _font(bold, 64)
    notdef = font.getmask("\U000f0000").tobytes()  # private use: never in a font
    return {ch for ch in set(text) if not ch.isspace()
            and font.getmask(ch).tobytes() == notdef}


def _pieces(text: str) -> list[tuple[str, bool]]:
    """Split text into pieces that may end a line: words, and parts of hyphenated words.

    Each piece comes with whether it is glued to the next one (no space between).
    """
    pieces: list[tuple[str, bool]] = []
    for word in text.split():
        parts = word.split("-")
        for i, part in enumerate(parts[:-1]):
            # "Hans-Peter" breaks after the hyphen; "Arbeits- und" keeps its space.
            glued = i < len(parts) - 2 or parts[-1] != ""
            pieces.append((part + "-", glued))
        if parts[-1]:
            pieces.append((parts[-1], False))
    return pieces


def _join(pieces: list[tuple[str, bool]]) -> str:
    """Join pieces into a line, with spaces only where the text had them."""
    out = ""
    for i, (piece, _) in enumerate(pieces):
        out += piece if i == 0 or pieces[i - 1][1] else " " + piece
    return out


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int, break_words: bool = True
         ) -> list[str] | None:
    """Greedy word wrap to `width` pixels.

    A word wider than the line is broken between characters, or, with `break_words`
    false, the text does not fit and the answer is None.
    """
    lines: list[str] = []
    current: list[tuple[str, bool]] = []
    for piece, glued in _pieces(text):
        if font.getlength(_join([*current, (piece, glued)])) <= width:
            current.append((piece, glued))
            continue
        if current:
            lines.append(_join(current))
        if font.getlength(piece) > width and not break_words:
            return None
        while font.getlength(piece) > width and len(piece) > 1:
            cut = len(piece) - 1
            while cut > 1 and font.getlength(piece[:cut]) > width:
                cut -= 1
            lines.append(piece[:cut])
            piece = piece[cut:]
        current = [(piece, glued)]
    if current:
        lines.append(_join(current))
    return lines


@lru_cache(maxsize=4096)
def fit(text: str, bold: bool, width: int, size: int, min_size: int, max_lines: int,
        shrink: float = 0.8) -> tuple[int, tuple[str, ...], bool]:
    """Find the font size and line breaks that fit `text` into `width` pixels.

    Fewer lines come first, but each line count except the last may only shrink the text
    to `shrink` times `size`; words are broken only as a last resort. Returns the size,
    the lines, and whether the text had to be shortened with "…" (when even `max_lines`
    lines at `min_size` are not enough; callers report it).
    """
    for n_lines in range(1, max_lines + 1):
        smallest = min_size if n_lines == max_lines else max(min_size, round(size * shrink))
        for s in range(size, smallest - 1, -2):
            lines = wrap(text, _font(bold, s), width, break_words=False)
            if lines is not None and len(lines) <= n_lines:
                return s, tuple(lines), False
    font = _font(bold, min_size)
    lines = wrap(text, font, width) or [""]
    if len(lines) <= max_lines:
        return min_size, tuple(lines), False
    lines = lines[:max_lines]
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return min_size, tuple(lines), True


# --- One badge --------------------------------------------------------------------------

def city_style(city: str) -> tuple[str, str]:
    """Return the (band pattern, shape) of a city's delegation."""
    return CITY_STYLES.get((city or "").strip().casefold(), OTHER_STYLE)


def _shape(d: ImageDraw.ImageDraw, kind: str, box: tuple[int, int, int, int],
           fill: int) -> None:
    """Draw a delegation's shape (circle, triangle, square or diamond) into a box."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    if kind == "circle":
        d.ellipse(box, fill=fill)
    elif kind == "triangle":
        d.polygon([(cx, y0), (x1, y1), (x0, y1)], fill=fill)
    elif kind == "square":
        inset = (x1 - x0) // 10
        d.rectangle((x0 + inset, y0 + inset, x1 - inset, y1 - inset), fill=fill)
    else:
        d.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=fill)


@lru_cache(maxsize=64)
def _band(city: str, bleed: int) -> Image.Image:
    """Draw a city's band with bleed on top and sides (the same on all its badges)."""
    pattern, shape = city_style(city)
    width, height = BADGE[0], BAND_H
    img = Image.new("1", (width + 2 * bleed, height + bleed), PAPER)
    d = ImageDraw.Draw(img)
    icon = height * 46 // 100
    x, y_mid = bleed + PAD, bleed + height // 2
    ink = INK
    if pattern == "solid":
        d.rectangle((0, 0, img.width, img.height), fill=INK)
        ink = PAPER
    elif pattern == "stripes":
        # Diagonal hatching reads as grey from afar; the name sits on a white plate.
        step = mm(1.6)
        for off in range(-img.height, img.width, step * 2):
            d.polygon([(off, img.height), (off + step, img.height),
                       (off + step + img.height, 0), (off + img.height, 0)], fill=INK)
    elif pattern == "split":
        d.rectangle((0, 0, x + icon + PAD, img.height), fill=INK)
        d.rectangle((0, img.height - mm(1.2), img.width, img.height), fill=INK)
    else:
        d.rectangle((0, img.height - mm(0.6), img.width, img.height), fill=INK)
    label = city.strip().upper()
    text_x = x + icon + PAD + (mm(3) if pattern == "split" else 0)
    size, lines, _ = fit(label, True, width - text_x - PAD, height * 52 // 100,
                         height // 4, 1)
    if pattern == "stripes":
        text_w = int(_font(True, size).getlength(lines[0])) if label else 0
        d.rounded_rectangle((x - mm(2), bleed + mm(3), text_x + text_w + mm(3),
                             bleed + height - mm(3)), radius=mm(2), fill=PAPER)
    _shape(d, shape, (x, y_mid - icon // 2, x + icon, y_mid + icon // 2),
           PAPER if pattern == "split" else ink)
    if label:
        _text(img, text_x, y_mid + cap_height(True, size) // 2, lines[0], True, size, ink)
    return img


def _date_text(event: dict[str, Any], language: str) -> str:
    """The event's date in the wearer's language, e.g. '12. November 2019'."""
    try:
        day = date.fromisoformat(event.get("date") or "")
    except ValueError:
        return ""
    # British English: day before month, as the rest of Europe writes it.
    return format_date(day, format="long", locale="en_GB" if language == "en" else language)


Block = tuple[int, Callable[[Image.Image, int, int], None], str]


def _lines_block(lines: tuple[str, ...], bold: bool, size: int, leading: float,
                 space_after: int, shortened: str = "") -> Block:
    """A block of text lines; its height runs from the top of capitals to the last baseline."""
    cap, step = cap_height(bold, size), round(size * leading)

    def draw(img: Image.Image, x: int, y: int) -> None:
        for i, line in enumerate(lines):
            _text(img, x, y + cap + i * step, line, bold, size)

    return cap + (len(lines) - 1) * step + space_after, draw, shortened


def _tag_block(text: str, size: int) -> Block:
    """A role tag: white capitals on a black plate, e.g. ORGANISATION or SPEAKER."""
    cap, pad = cap_height(True, size), size // 3
    width = int(_font(True, size).getlength(text)) + 2 * pad

    def draw(img: Image.Image, x: int, y: int) -> None:
        ImageDraw.Draw(img).rounded_rectangle((x, y, x + width, y + cap + 2 * pad),
                                              radius=pad, fill=INK)
        _text(img, x + pad, y + pad + cap, text, True, size, PAPER)

    return cap + 2 * pad, draw, ""


def _fitted(text: str, bold: bool, width: int, size: int, min_size: int, max_lines: int,
            leading: float, space_after: int, what: str, shrink: float = 0.85) -> Block:
    """Fit text to the width and make it a block, noting `what` if it had to be shortened."""
    s, lines, cut = fit(text, bold, width, size, min_size, max_lines, shrink)
    return _lines_block(lines, bold, s, leading, space_after, what if cut else "")


def _person_blocks(person: dict[str, Any], labels: dict[str, str], width: int,
                   scale: float) -> tuple[list[Block], list[Block]]:
    """Lay out who (name, organisation, role) and where (group, excursion) at a scale."""
    def px(size: float) -> int:
        return max(20, int(size * scale) // 2 * 2)

    who = [_fitted((person.get("first_name") or "").strip(), True, width, px(170), px(96),
                   2, 1.05, mm(3), "first name", shrink=0.6),
           _fitted((person.get("last_name") or "").strip(), True, width, px(100), px(56),
                   2, 1.1, mm(4.5), "last name", shrink=0.6)]
    if person.get("organisation"):
        who.append(_fitted(person["organisation"].strip(), False, width, px(52), px(36), 3,
                           1.2, mm(4), "organisation"))
    if person.get("role") in ("organiser", "speaker", "guide"):
        who.append(_tag_block(labels[person["role"]].upper(), px(34)))
    where = []
    for key in ("working_group", "excursion"):
        title = (person.get(f"{key}_title") or "").strip()
        if title:
            where.append(_lines_block((labels[key].upper(),), True, px(28), 1.0, mm(1.6)))
            where.append(_fitted(title, False, width, px(44), px(32), 2, 1.18, mm(3.5),
                                 key.replace("_", " ")))
    return who, where


@lru_cache(maxsize=64)
def _footer(event_name: str, details: str, width: int) -> tuple[Image.Image, tuple[str, ...]]:
    """Render the event name, date and venue once per language; return the mask and
    what had to be shortened."""
    rows: list[tuple[str, bool, int]] = []
    short = []
    for text, bold, size, what in ((event_name, True, 32, "event name"),
                                   (details, False, 30, "event date and venue")):
        if text:
            s, lines, cut = fit(text, bold, width, size, 24, 3 if bold else 2)
            rows.extend((line, bold, s) for line in lines)
            if cut:
                short.append(what)
    rule = mm(0.6)
    height = rule + mm(2.5) + sum(round(s * 1.2) for _, _, s in rows)
    mask = Image.new("1", (width, max(1, height)), 0)
    ImageDraw.Draw(mask).rectangle((0, 0, mm(12), rule - 1), fill=255)
    y = rule + mm(2.5)
    for line, bold, s in rows:
        y += round(s * 1.2) if y > rule + mm(2.5) else cap_height(bold, s)
        _text(mask, 0, y, line, bold, s, 255)
    return mask.crop((0, 0, width, y + _font(False, 30).getmetrics()[1] // 2)), tuple(short)


def badge_image(person: dict[str, Any], event: dict[str, Any],
                warnings: list[str] | None = None, bleed: int = 0) -> Image.Image:
    """Render one badge (92 x 134 mm at 300 dpi, 1-bit), optionally with bleed around it.

    Text that does not fit even at its smallest size is shortened with "…" and reported
    in `warnings`, so that nothing is cut off silently.
    """
    w, h = BADGE
    img = Image.new("1", (w + 2 * bleed, h + 2 * bleed), PAPER)
    img.paste(_band(person.get("city") or "", bleed), (0, 0))
    lang = person.get("language") if person.get("language") in LABELS else "en"
    left, inner = bleed + PAD, w - 2 * PAD
    short: list[str] = []

    # The QR sits bottom right, its full quiet zone inside the badge.
    qr = _qr_image(person["code"], QR_MODULE)
    qr_x, qr_y = bleed + w - qr.width, bleed + h - qr.height
    img.paste(qr, (qr_x, qr_y))

    # Who at the top, where (group, excursion) just above the QR. If they do not fit,
    # everything shrinks a step and is laid out again.
    top, bottom = bleed + BAND_H + mm(6), qr_y + QR_QUIET * QR_MODULE - mm(4)
    for scale in (1.0, 0.92, 0.85, 0.78, 0.7, 0.62):
        who, where = _person_blocks(person, LABELS[lang], inner, scale)
        who_h, where_h = sum(b[0] for b in who), sum(b[0] for b in where)
        # Shrinking everything a little beats shortening one text.
        if who_h + mm(3) + where_h <= bottom - top and not any(b[2] for b in who + where):
            break
    y = top
    for height, draw, shortened in who:
        draw(img, left, y)
        y += height
        short.extend([shortened] if shortened else [])
    y = max(y + mm(3), bottom - where_h)
    for height, draw, shortened in where:
        draw(img, left, y)
        y += height
        short.extend([shortened] if shortened else [])

    # Bottom left, beside the QR: the event, date and venue, and the code for typing in.
    code_base, footer_w = bleed + h - mm(5), qr_x + QR_QUIET * QR_MODULE - mm(3) - left
    _code_text(img, left, code_base, person["code"], footer_w)
    details = ", ".join(v for v in (_date_text(event, lang), event.get("venue") or "") if v)
    mask, footer_short = _footer(event.get("name") or "", details, footer_w)
    img.paste(INK, (left, code_base - mm(7) - mask.height), mask)
    short.extend(footer_short)
    if warnings is not None:
        name = f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
        warnings.extend(f"badge of {name} (id {person.get('id')}): {what} shortened"
                        for what in short)
    return img


# --- Queries ----------------------------------------------------------------------------

def people(db: Database, participant_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Return badge rows: everyone by city and name, or the given ids in the given order."""
    if participant_ids is None:
        return list(db.query(PERSON_SQL + ORDER_SQL))
    ids = [int(i) for i in participant_ids]
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):  # below SQLite's limit on parameters
        chunk = ids[start:start + 500]
        sql = PERSON_SQL + f" WHERE p.id IN ({', '.join('?' * len(chunk))})"
        found.update({row["id"]: row for row in db.query(sql, chunk)})
    missing = [i for i in ids if i not in found]
    if missing:
        raise LookupError(f"no participant with id {', '.join(map(str, missing[:10]))}")
    return [found[i] for i in ids]


def select_participants(db: Database, only: Iterable[str] = (), cities: Iterable[str] = (),
                        working_groups: Iterable[str] = (), excursions: Iterable[str] = ()
                        ) -> list[int]:
    """Return the ids of participants matching every given filter, by city and name.

    `only` holds ids, e-mail addresses or codes; the other filters hold cities, working
    group ids and excursion ids; within one filter any value matches. Unknown people,
    groups or excursions raise LookupError naming them.
    """
    from checkin.codes import normalise

    where: list[str] = []
    params: list[Any] = []
    only = [o.strip() for o in only if o.strip()]
    if only:
        ids, unknown = [], []
        for item in only:
            row = db.execute(
                "SELECT id FROM participants WHERE CAST(id AS TEXT) = ? "
                "OR lower(email) = lower(?) OR code = ?",
                [item, item, normalise(item) or ""]).fetchone()
            (ids if row else unknown).append(row[0] if row else item)
        if unknown:
            raise LookupError("no participant " + ", ".join(map(repr, unknown))
                              + " (give an id, e-mail or code)")
        where.append(f"p.id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    cities = [c.strip().casefold() for c in cities if c.strip()]
    if cities:
        where.append(f"casefold(p.city) IN ({', '.join('?' * len(cities))})")
        params.extend(cities)
    for column, table, values in (("working_group", "working_groups", working_groups),
                                  ("excursion", "excursions", excursions)):
        values = [v.strip() for v in values if v.strip()]
        if not values:
            continue
        known = {r[0] for r in db.execute(f"SELECT id FROM {table}")}  # noqa: S608
        unknown = [v for v in values if v not in known]
        if unknown:
            raise LookupError(f"no {column.replace('_', ' ')} "
                              f"{', '.join(map(repr, unknown))} "
                              f"(known: {', '.join(sorted(known))})")
        where.append(f"p.{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)
    sql = "SELECT p.id FROM participants p"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [r[0] for r in db.execute(sql + ORDER_SQL, params)]


def badge_png(db: Database, participant_id: int) -> bytes:
    """Return one participant's badge as a PNG (the organiser's preview)."""
    person = people(db, [participant_id])[0]
    out = io.BytesIO()
    badge_image(person, event_info(db) or {}).save(out, "PNG", dpi=(DPI, DPI))
    return out.getvalue()


# --- Sheets -----------------------------------------------------------------------------

def _origin(slot: int) -> tuple[int, int]:
    """Top-left pixel of a badge slot on the page; the grid is centred."""
    grid_w = COLUMNS * BADGE[0] + (COLUMNS - 1) * GUTTER
    grid_h = ROWS * BADGE[1] + (ROWS - 1) * GUTTER
    col, row = slot % COLUMNS, slot // COLUMNS
    return ((PAGE[0] - grid_w) // 2 + col * (BADGE[0] + GUTTER),
            (PAGE[1] - grid_h) // 2 + row * (BADGE[1] + GUTTER))


def _cut_marks(d: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """Draw a badge's cut marks: short hairlines outside each corner, on the cut lines."""
    w, h, t = BADGE[0], BADGE[1], 2  # 2 px at 300 dpi: a 0.17 mm hairline
    for cx, sx in ((x, -1), (x + w, 1)):
        for cy, sy in ((y, -1), (y + h, 1)):
            xs = sorted((cx + sx * MARK_FROM, cx + sx * MARK_TO))
            ys = sorted((cy + sy * MARK_FROM, cy + sy * MARK_TO))
            d.rectangle((xs[0], cy - t // 2, xs[1], cy + t // 2 - 1), fill=INK)
            d.rectangle((cx - t // 2, ys[0], cx + t // 2 - 1, ys[1]), fill=INK)


def render_page(event: dict[str, Any], persons: list[dict[str, Any]],
                warnings: list[str] | None = None) -> Image.Image:
    """Render one A4 sheet (300 dpi, 1-bit) with up to four badges and their cut marks."""
    page = Image.new("1", PAGE, PAPER)
    d = ImageDraw.Draw(page)
    for slot, person in enumerate(persons[:PER_PAGE]):
        x, y = _origin(slot)
        page.paste(badge_image(person, event, warnings, bleed=BLEED), (x - BLEED, y - BLEED))
        _cut_marks(d, x, y)
    return page


def _encoded_page(event: dict[str, Any], persons: list[dict[str, Any]]
                  ) -> tuple[bytes, list[str]]:
    """Render a sheet and compress it as CCITT G4, as Pillow's PDF writer does."""
    warnings: list[str] = []
    page = render_page(event, persons, warnings)
    out = io.BytesIO()
    page.save(out, "TIFF", compression="group4",
              strip_size=math.ceil(page.width / 8) * page.height)
    # libtiff writes the single strip right after the 8-byte TIFF header.
    return out.getvalue()[8:], warnings


def _pages(event: dict[str, Any], persons: list[dict[str, Any]], workers: int
           ) -> Iterator[tuple[int, bytes, list[str]]]:
    """Yield (badges on it, G4 data, warnings) per sheet, in order, rendered by `workers`
    processes (or here, if 1)."""
    chunks = [persons[i:i + PER_PAGE] for i in range(0, len(persons), PER_PAGE)]
    if workers <= 1:
        for chunk in chunks:
            yield (len(chunk), *_encoded_page(event, chunk))
        return
    # forkserver rather than fork: the web server that may call this runs threads.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = pool.map(_encoded_page, [event] * len(chunks), chunks, chunksize=4)
        for chunk, (data, warnings) in zip(chunks, results, strict=True):
            yield len(chunk), data, warnings


def render_pdf(db: Database, out: BinaryIO, participant_ids: list[int] | None = None,
               progress: Callable[[int], None] | None = None,
               warnings: list[str] | None = None, workers: int | None = None) -> int:
    """Write print-ready A4 badge sheets (300 dpi, cut marks) as PDF; return the badge count.

    `progress` is called with the number of badges finished since its last call;
    `warnings` collects texts that had to be shortened; `workers` is the number of
    processes that render sheets (default: one per core for 20 sheets or more).
    """
    if not features.check("libtiff"):
        raise RuntimeError("Pillow was built without libtiff; badge sheets need it")
    persons = people(db, participant_ids)
    if not persons:
        raise ValueError("no participants to print badges for")
    event = event_info(db) or {}
    n_pages = math.ceil(len(persons) / PER_PAGE)
    if workers is None:
        # Starting processes takes about a second: worth it only for many sheets.
        workers = min(4, os.cpu_count() or 1) if n_pages >= 20 else 1
    name = PdfParser.PdfName
    # The sheets are compressed in the workers; here they are only written out, with the
    # objects Pillow's own PDF writer uses (PdfParser needs a seekable file).
    with tempfile.TemporaryFile() as tmp:
        pdf = PdfParser.PdfParser(f=tmp, mode="w+b")
        pdf.info.Title = (event.get("name") or "Badges") + " – badges"
        pdf.info.Creator = "checkin"
        pdf.start_writing()
        pdf.write_header()
        page_refs = [pdf.next_object_id(0) for _ in range(n_pages)]
        pdf.pages.extend(page_refs)
        pdf.write_catalog()
        done = 0
        for number, (count, data, page_warnings) in enumerate(_pages(event, persons,
                                                                      workers)):
            image = pdf.write_obj(
                None, stream=data, Type=name("XObject"), Subtype=name("Image"),
                Width=PAGE[0], Height=PAGE[1], BitsPerComponent=1,
                ColorSpace=name("DeviceGray"),
                Filter=PdfParser.PdfArray([name("CCITTFaxDecode")]),
                DecodeParms=PdfParser.PdfArray([PdfParser.PdfDict(
                    K=-1, BlackIs1=True, Columns=PAGE[0], Rows=PAGE[1])]))
            contents = pdf.write_obj(
                None, stream=b"q %.2f 0 0 %.2f 0 0 cm /image Do Q\n" % PAGE_PT)
            pdf.write_page(page_refs[number], MediaBox=[0, 0, *PAGE_PT], Contents=contents,
                           Resources=PdfParser.PdfDict(
                               ProcSet=[name("PDF"), name("ImageB")],
                               XObject=PdfParser.PdfDict(image=image)))
            if warnings is not None:
                warnings.extend(page_warnings)
            done += count
            if progress:
                progress(count)
        pdf.write_xref_and_trailer()
        pdf.close()
        tmp.flush()
        tmp.seek(0)
        shutil.copyfileobj(tmp, out)
    return done
