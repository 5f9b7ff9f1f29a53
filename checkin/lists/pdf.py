"""The paper lists as one PDF, drawn row by row on the canvas.

reportlab's platypus tables measured and wrapped every cell (about 10 s for 5,000 people);
here rows have a fixed height and columns fixed widths (checkin.lists.layout), so a row is a
handful of text runs, a tick box and a rule. Each list starts on a new page; a page that
continues a list repeats its title and column headers; every page has its number.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from babel.support import NullTranslations, Translations
from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from checkin.core import clock
from checkin.core.db import connect
from checkin.core.paths import TRANSLATIONS
from checkin.lists.data import list_data
from checkin.lists.layout import (
    BOLD,
    BOTTOM,
    BOX,
    FONT,
    LEFT,
    MIN_SIZE,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    ROW,
    TOP,
    WIDTH,
    Column,
    Piece,
    fit_runs,
    layout_header,
    layout_row,
    register_fonts,
)
from checkin.lists.sections import sections

LANGUAGES = ("en", "de", "nl")
GREY = 0.55


def translations(language: str) -> NullTranslations:
    """Return the catalogue of `language` (English text when there is none)."""
    if language == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language])


class Sheet:
    """The canvas with the lists' page furniture: headings, column headers, page numbers."""

    def __init__(self, out: BinaryIO, footer: str, page_word: Callable[[int], str],
                 title: str, language: str):
        self.canvas = Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), lang=language,
                             pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setAuthor("checkin")
        self.footer, self.page_word = footer, page_word
        self.page, self.y = 0, 0.0
        self.heading: str = ""
        self.columns: list[Column] = []
        self.text: Any = None  # the page's text object: every text of a page in one

    def _new_page(self) -> None:
        if self.page:
            self._end_page()
        self.page += 1
        self.y = PAGE_HEIGHT - TOP
        self.text = self.canvas.beginText()

    def _end_page(self) -> None:
        c = self.canvas
        c.drawText(self.text)
        runs, size = fit_runs([(self.footer, FONT)], 8, MIN_SIZE, WIDTH - 30 * mm)
        c.setFont(FONT, size)
        c.drawString(LEFT, 9 * mm, runs[0][0])
        c.setFont(FONT, 8)
        c.drawRightString(PAGE_WIDTH - LEFT, 9 * mm, self.page_word(self.page))
        c.showPage()

    def _put(self, pieces: list[Piece], baseline: float) -> None:
        # Runs that go on where the last one ended in the same font are one string, and need
        # no new origin or font: fewer operators, and the text reads on as one line.
        text, end, font, run = self.text, None, None, ""
        for p in pieces:
            if p.x == end and (p.font, p.size) == font:
                run += p.text
            else:
                if run:
                    text.textOut(run)
                if p.x != end:
                    text.setTextOrigin(p.x, baseline)
                if (p.font, p.size) != font:
                    text.setFont(p.font, p.size)
                    font = (p.font, p.size)
                run = p.text
            end = p.x + p.width
        if run:
            text.textOut(run)

    def _paragraph(self, line: str, font: str, size: float, leading: float) -> None:
        for part in simpleSplit(line, font, size, WIDTH):
            self.y -= leading
            self.text.setTextOrigin(LEFT, self.y + (leading - size) / 2)
            self.text.setFont(font, size)
            self.text.textOut(part)

    def section(self, heading: str, facts: str, columns: list[Column]) -> None:
        """Start a list on a new page: its heading, a line of facts, its column headers."""
        self._new_page()
        self.heading, self.columns = heading, columns
        self._paragraph(heading, BOLD, 16, 20)
        self.y -= 2 * mm
        self._paragraph(facts, FONT, 10.5, 14)
        self.y -= 3 * mm
        self._header()

    def _header(self) -> None:
        self.y -= ROW
        self._put(layout_header(self.columns), self.y + (ROW - 9) / 2 + 1)
        self.canvas.setLineWidth(0.9)
        self.canvas.line(LEFT, self.y, LEFT + WIDTH, self.y)

    def _room(self, height: float) -> None:
        """Go on to a new page (title and headers again) unless `height` fits on this one."""
        if self.y - height >= BOTTOM:
            return
        self._new_page()
        runs, size = fit_runs([(self.heading, BOLD)], 11, 8, WIDTH, (0,))
        self._paragraph(runs[0][0], BOLD, size, 16)
        self.y -= 1 * mm
        self._header()

    def rows(self, values: list[list[Any]]) -> None:
        """Draw rows of the current list, going on to new pages as they fill."""
        c = self.canvas
        boxes, rules = c.beginPath(), c.beginPath()
        for row in values:
            if self.y - ROW < BOTTOM:
                self._flush(boxes, rules)
                boxes, rules = c.beginPath(), c.beginPath()
                self._room(ROW)
            self.y -= ROW
            pieces, ticks = layout_row(self.columns, row)
            # The baseline so that capitals sit in the middle of the row.
            self._put(pieces, self.y + (ROW - 6.8) / 2)
            for x, crossed in ticks:
                bottom = self.y + (ROW - BOX) / 2
                boxes.rect(x, bottom, BOX, BOX)
                if crossed:
                    boxes.moveTo(x + 0.8, bottom + 0.8)
                    boxes.lineTo(x + BOX - 0.8, bottom + BOX - 0.8)
                    boxes.moveTo(x + 0.8, bottom + BOX - 0.8)
                    boxes.lineTo(x + BOX - 0.8, bottom + 0.8)
            rules.moveTo(LEFT, self.y)
            rules.lineTo(LEFT + WIDTH, self.y)
        self._flush(boxes, rules)

    def _flush(self, boxes: Any, rules: Any) -> None:
        c = self.canvas
        c.saveState()
        c.setLineWidth(0.3)
        c.setStrokeGray(GREY)
        c.drawPath(rules, stroke=1, fill=0)
        c.restoreState()
        c.setLineWidth(0.8)
        c.drawPath(boxes, stroke=1, fill=0)

    def note(self, line: str) -> None:
        """A line of small text under the current list."""
        self._room(3 * mm + 12)
        self.y -= 3 * mm
        self._paragraph(line, FONT, 8.5, 12)

    def finish(self) -> None:
        """End the last page and write the PDF."""
        self._end_page()
        # Compressed streams without ASCII85 around them: a quarter smaller, and the pure
        # Python ASCII85 encoder took a third of a second of a 5,000-person list.
        use_a85 = rl_config.useA85
        rl_config.useA85 = 0
        try:
            self.canvas.save()
        finally:
            rl_config.useA85 = use_a85


def write_pdf(db: Any, out: BinaryIO, language: str = "en", arrived: bool = False,
              now: datetime | None = None) -> int:
    """Write the lists as a PDF in `language` (en, de or nl) to `out`; return its pages."""
    register_fonts()
    language = language if language in LANGUAGES else "en"
    _ = translations(language).gettext
    data = list_data(db, arrived, language)
    event_name = data["event"].get("name") or "checkin"
    printed = _("Printed %(time)s") % {
        "time": clock.clock_text(now or clock.now(), data["zone"], "%Y-%m-%d %H:%M")}
    sheet = Sheet(out, f"{event_name} · {printed}", lambda n: _("Page %(n)s") % {"n": n},
                  f"{event_name}: " + _("Lists"), language)
    for section in sections(data, _):
        sheet.section(section.heading, section.facts, section.columns)
        sheet.rows(section.rows)
        if section.note:
            sheet.note(section.note)
    sheet.finish()
    return sheet.page


def build_pdf(db: Any, language: str = "en", arrived: bool = False,
              now: datetime | None = None) -> bytes:
    """Return the lists as a PDF in `language` (en, de or nl), from an open database."""
    out = io.BytesIO()
    write_pdf(db, out, language, arrived, now)
    return out.getvalue()


def render_lists(db_path: str | Path, language: str = "en", arrived: bool = False,
                 now: datetime | None = None) -> bytes:
    """Return the lists of the event at `db_path` as a PDF: for a worker process of its own."""
    db = connect(db_path)
    try:
        return build_pdf(db, language, arrived, now)
    finally:
        db.conn.close()
