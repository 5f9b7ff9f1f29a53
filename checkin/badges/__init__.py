"""Printed badges: QR codes, and print-ready vector PDFs of badge sheets and single badges.

Badges are drawn with reportlab as vectors: text as text in the bundled Noto Sans (embedded
as a subset, so it is selectable, searchable and read aloud), QR codes as black squares, so
they print sharp on any printer at any size. The delegations are told apart by band pattern,
shape and city name, never by colour alone; the event file may add a logo and accent colours.

The package's modules: layout (sizes and measures), qr, text (fonts and fitting), draw (pen,
styles, logo, band), card (one badge's content), selection (who, in which order), pdf (sheets,
the child process, previews). This module is their public face.
"""

from checkin.badges.card import draw_badge
from checkin.badges.draw import Pen, Style, badge_style, city_style
from checkin.badges.layout import (
    BADGE,
    BAND_H,
    DEFAULT_SIZE,
    MARK_FROM,
    MARK_TO,
    PAD,
    QR_MODULE,
    SIZES,
    Size,
)
from checkin.badges.pdf import (
    CHILD_FROM,
    badge_image,
    badge_png,
    badges_file,
    rasterise,
    render_pdf,
    render_pdf_bytes,
    sheet_origin,
    shutdown_pool,
)
from checkin.badges.qr import qr_png, qr_runs, qr_svg
from checkin.badges.selection import people, select_participants, sort_key
from checkin.badges.text import missing_glyphs
from checkin.core.logo import Logo

__all__ = [
    "BADGE", "BAND_H", "CHILD_FROM", "DEFAULT_SIZE", "MARK_FROM", "MARK_TO", "PAD", "QR_MODULE",
    "SIZES", "Logo", "Pen", "Size", "Style", "badge_image", "badge_png", "badge_style",
    "city_style", "draw_badge", "missing_glyphs", "people", "qr_png", "qr_runs", "qr_svg",
    "badges_file", "rasterise", "render_pdf", "render_pdf_bytes", "select_participants",
    "sheet_origin", "shutdown_pool", "sort_key",
]
