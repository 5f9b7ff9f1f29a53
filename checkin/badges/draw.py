"""Drawing on a badge: the pen, delegation styles, the event's logo and the city band."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from reportlab.lib.colors import Color, HexColor, black, white
from reportlab.pdfgen.canvas import Canvas
from sqlite_utils import Database

from checkin.badges.layout import BAND_H, CITY_STYLES, OTHER_STYLE, PAD, mm
from checkin.badges.text import (
    cap_height,
    fit,
    font_name,
    get_font,
)
from checkin.core.db import get_meta
from checkin.core.logo import Logo

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
