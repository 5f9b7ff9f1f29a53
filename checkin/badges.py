"""Printed badges: QR codes, one badge as an image, and print-ready A4 PDF sheets.

Badges are drawn in 1-bit black and white at 300 dpi: crisp on any office laser printer,
small and fast as CCITT G4 images in the PDF, and the delegations are told apart by band
pattern, shape and city name rather than by colour.
"""

from __future__ import annotations

import contextlib
import io
import math
import multiprocessing
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from functools import lru_cache
from typing import Any, BinaryIO

import qrcode
from babel.dates import format_date
from PIL import Image, ImageDraw, PdfParser, features
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.image.svg import SvgPathImage
from sqlite_utils import Database

from checkin.badge_text import (
    INK,
    PAPER,
    cap_height,
    draw_code,
    draw_text,
    fit,
    get_font,
    missing_glyphs,
)
from checkin.event import event_info
from checkin.texts import all_texts, localized

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

PERSON_SQL = (
    "SELECT p.id, p.first_name, p.last_name, p.organisation, p.city, p.language, p.role, "
    "p.code, w.title AS working_group_title, x.title AS excursion_title, "
    "p.working_group AS working_group_id, p.excursion AS excursion_id FROM participants p "
    "LEFT JOIN working_groups w ON w.id = p.working_group "
    "LEFT JOIN excursions x ON x.id = p.excursion")


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
def _band(city: str, bleed: int) -> tuple[Image.Image, bool]:
    """Draw a city's band with bleed on top and sides (the same on all its badges);
    say whether the city's name had to be shortened."""
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
    size, lines, shortened = fit(label, True, width - text_x - PAD, height * 52 // 100,
                                 height // 4, 1)
    if pattern == "stripes":
        text_w = int(get_font(True, size).getlength(lines[0])) if label else 0
        d.rounded_rectangle((x - mm(2), bleed + mm(3), text_x + text_w + mm(3),
                             bleed + height - mm(3)), radius=mm(2), fill=PAPER)
    _shape(d, shape, (x, y_mid - icon // 2, x + icon, y_mid + icon // 2),
           PAPER if pattern == "split" else ink)
    if label:
        draw_text(img, text_x, y_mid + cap_height(True, size) // 2, lines[0], True, size, ink)
    return img, shortened


@lru_cache(maxsize=64)
def _date_text(day: str, language: str) -> str:
    """The event's date in the wearer's language, e.g. '12. November 2019'."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        return ""
    # British English: day before month, as the rest of Europe writes it.
    return format_date(parsed, format="long", locale="en_GB" if language == "en" else language)


Block = tuple[int, Callable[[Image.Image, int, int], None], str]


def _lines_block(lines: tuple[str, ...], bold: bool, size: int, leading: float,
                 space_after: int, shortened: str = "", cache: bool = True) -> Block:
    """A block of text lines; its height runs from the top of capitals to the last baseline."""
    cap, step = cap_height(bold, size), round(size * leading)

    def draw(img: Image.Image, x: int, y: int) -> None:
        for i, line in enumerate(lines):
            draw_text(img, x, y + cap + i * step, line, bold, size, cache=cache)

    return cap + (len(lines) - 1) * step + space_after, draw, shortened


def _tag_block(text: str, size: int) -> Block:
    """A role tag: white capitals on a black plate, e.g. ORGANISATION or SPEAKER."""
    cap, pad = cap_height(True, size), size // 3
    width = int(get_font(True, size).getlength(text)) + 2 * pad

    def draw(img: Image.Image, x: int, y: int) -> None:
        ImageDraw.Draw(img).rounded_rectangle((x, y, x + width, y + cap + 2 * pad),
                                              radius=pad, fill=INK)
        draw_text(img, x + pad, y + pad + cap, text, True, size, PAPER)

    return cap + 2 * pad, draw, ""


def _fitted(text: str, bold: bool, width: int, size: int, min_size: int, max_lines: int,
            leading: float, space_after: int, what: str, shrink: float = 0.85,
            cache: bool = True) -> Block:
    """Fit text to the width and make it a block, noting `what` if it had to be shortened."""
    s, lines, cut = fit(text, bold, width, size, min_size, max_lines, shrink)
    return _lines_block(lines, bold, s, leading, space_after, what if cut else "", cache)


def _person_blocks(person: dict[str, Any], labels: dict[str, str], width: int,
                   name_scale: float, scale: float) -> tuple[list[Block], list[Block]]:
    """Lay out who (name, organisation, role) and where (group, excursion), the name at
    one scale and the rest at another; the last block ends at its baseline."""
    def px(size: float, factor: float = scale) -> int:
        return max(20, int(size * factor) // 2 * 2)

    who = [_fitted((person.get("first_name") or "").strip(), True, width,
                   px(170, name_scale), px(96, name_scale), 2, 1.05, mm(3), "first name",
                   shrink=0.6, cache=False),
           _fitted((person.get("last_name") or "").strip(), True, width,
                   px(100, name_scale), px(56, name_scale), 2, 1.1, mm(4.5), "last name",
                   shrink=0.6, cache=False)]
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
def _footer(event_name: str, details: str, width: int) -> tuple[Image.Image, tuple[str, ...]]:
    """Render the event name, date and venue once per language; return the mask and
    what had to be shortened."""
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
    height = rule + mm(2.5) + sum(round(s * 1.2) for _, _, s in rows)
    mask = Image.new("1", (width, max(1, height)), 0)
    ImageDraw.Draw(mask).rectangle((0, 0, mm(12), rule - 1), fill=255)
    y = rule + mm(2.5)
    for line, bold, s in rows:
        y += round(s * 1.2) if y > rule + mm(2.5) else cap_height(bold, s)
        draw_text(mask, 0, y, line, bold, s, 255)
    descent = get_font(False, 28).getmetrics()[1]
    return mask.crop((0, 0, width, y + descent // 2)), tuple(short)


def badge_image(person: dict[str, Any], event: dict[str, Any],
                warnings: list[str] | None = None, bleed: int = 0) -> Image.Image:
    """Render one badge (92 x 134 mm at 300 dpi, 1-bit), optionally with bleed around it.

    Text that does not fit even at its smallest size is shortened with "…" and reported
    in `warnings`, so that nothing is cut off silently.
    """
    w, h = BADGE
    img = Image.new("1", (w + 2 * bleed, h + 2 * bleed), PAPER)
    band, city_shortened = _band(person.get("city") or "", bleed)
    img.paste(band, (0, 0))
    lang = person.get("language") if person.get("language") in LABELS else "en"
    left, inner = bleed + PAD, w - 2 * PAD
    short: list[str] = ["city"] if city_shortened else []

    # The QR sits bottom right, its full quiet zone inside the badge.
    qr = _qr_image(person["code"], QR_MODULE)
    qr_x, qr_y = bleed + w - qr.width, bleed + h - qr.height
    img.paste(qr, (qr_x, qr_y))

    # Who at the top, where (group, excursion) just above the QR, the last baseline far
    # enough above the quiet zone for descenders. If they do not fit, the text shrinks a
    # step and is laid out again.
    top, bottom = bleed + BAND_H + mm(5.5), qr_y - mm(1.5)
    for name_scale, scale in SCALES:
        who, where = _person_blocks(person, LABELS[lang], inner, name_scale, scale)
        who_h, where_h = sum(b[0] for b in who), sum(b[0] for b in where)
        # Shrinking a little beats shortening a text.
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
    code_base, footer_w = bleed + h - mm(5), qr_x - mm(1) - left  # clear of the quiet zone
    draw_code(img, left, code_base, person["code"], footer_w)
    details = ", ".join(v for v in (_date_text(event.get("date") or "", lang),
                                    event.get("venue") or "") if v)
    mask, footer_short = _footer(event.get("name") or "", details, footer_w)
    img.paste(INK, (left, code_base - mm(7) - mask.height), mask)
    short.extend(footer_short)
    if warnings is not None:
        name = f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
        warnings.extend(f"badge of {name} (id {person.get('id')}): {what} shortened"
                        for what in short)
        # A character the font lacks would print as an empty box: say so.
        missing = missing_glyphs(" ".join(str(person.get(k) or "") for k in (
            "first_name", "last_name", "organisation", "city")))
        if missing:
            warnings.append(f"badge of {name} (id {person.get('id')}): the font has no "
                            f"{', '.join(sorted(missing))}")
    img.info["dpi"] = (DPI, DPI)
    return img


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
        return _in_wearers_language(db, sorted(db.query(PERSON_SQL), key=sort_key))
    ids = [int(i) for i in participant_ids]
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):  # below SQLite's limit on parameters
        chunk = ids[start:start + 500]
        sql = PERSON_SQL + f" WHERE p.id IN ({', '.join('?' * len(chunk))})"
        found.update({row["id"]: row for row in db.query(sql, chunk)})
    missing = [i for i in ids if i not in found]
    if missing:
        raise LookupError(f"no participant with id {', '.join(map(str, missing[:10]))}")
    return _in_wearers_language(db, [found[i] for i in ids])


def _in_wearers_language(db: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each badge its group and excursion titles in the wearer's language."""
    texts = all_texts(db)
    if not texts:
        return rows
    for row in rows:
        lang = row.get("language") if row.get("language") in LABELS else "en"
        row["working_group_title"] = localized(texts, "working_group", row["working_group_id"],
                                               lang, row["working_group_title"])
        row["excursion_title"] = localized(texts, "excursion", row["excursion_id"], lang,
                                           row["excursion_title"])
    return rows


def select_participants(db: Database, only: Iterable[str] = (), cities: Iterable[str] = (),
                        working_groups: Iterable[str] = (), excursions: Iterable[str] = ()
                        ) -> list[int]:
    """Return the ids of participants matching every given filter, in `sort_key` order.

    `only` holds ids, e-mail addresses or codes; the other filters hold cities, working
    group ids and excursion ids; within one filter any value matches. Unknown people,
    groups or excursions raise LookupError naming them.
    """
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
    sql = "SELECT p.id, p.city, p.last_name, p.first_name FROM participants p"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [p["id"] for p in sorted(db.query(sql, params), key=sort_key)]


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
    # forkserver rather than fork: the web server that may call this runs threads. The
    # server process imports this module once, so each worker starts ready to draw.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        results = pool.map(_encoded_page, [event] * len(chunks), chunks, chunksize=4)
        for chunk, (data, warnings) in zip(chunks, results, strict=True):
            yield len(chunk), data, warnings
    finally:
        # On an error or Ctrl-C, drop the sheets not yet started instead of waiting.
        pool.shutdown(wait=True, cancel_futures=True)


def _write_sheet(pdf: PdfParser.PdfParser, page_ref: PdfParser.IndirectReference,
                 data: bytes) -> None:
    """Write one A4 page showing one G4-compressed sheet image, as Pillow's PDF writer does."""
    name = PdfParser.PdfName
    image = pdf.write_obj(
        None, stream=data, Type=name("XObject"), Subtype=name("Image"), Width=PAGE[0],
        Height=PAGE[1], BitsPerComponent=1, ColorSpace=name("DeviceGray"),
        Filter=PdfParser.PdfArray([name("CCITTFaxDecode")]),
        DecodeParms=PdfParser.PdfArray([PdfParser.PdfDict(
            K=-1, BlackIs1=True, Columns=PAGE[0], Rows=PAGE[1])]))
    contents = pdf.write_obj(None, stream=b"q %.2f 0 0 %.2f 0 0 cm /image Do Q\n" % PAGE_PT)
    pdf.write_page(page_ref, MediaBox=[0, 0, *PAGE_PT], Contents=contents,
                   Resources=PdfParser.PdfDict(ProcSet=[name("PDF"), name("ImageB")],
                                               XObject=PdfParser.PdfDict(image=image)))


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
        cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                 else os.cpu_count() or 1)
        workers = min(4, cores) if n_pages >= 20 else 1
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
        with contextlib.closing(_pages(event, persons, workers)) as sheets:
            for page_ref, (count, data, page_warnings) in zip(page_refs, sheets, strict=True):
                _write_sheet(pdf, page_ref, data)
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
