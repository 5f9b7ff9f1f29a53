"""One badge's content: name blocks fitted to the width, date, footer and code, drawn."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from reportlab.lib.colors import white

from checkin.badges.draw import INK, Pen, Style, _band
from checkin.badges.layout import BADGE, BAND_H, LABELS, PAD, QR_MODULE, mm
from checkin.badges.qr import qr_runs
from checkin.badges.text import (
    advance,
    cap_height,
    descent,
    fit,
    get_font,
    missing_glyphs,
)
from checkin.core.clock import date_text


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
