"""The roll call's missing list as a PDF: name, organisation, last seen where and when, phone.

Module-level and given a database path, so that it can run in a worker process.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from checkin.badges.text import font_name
from checkin.core import clock
from checkin.core.db import with_database
from checkin.core.errors import translations
from checkin.core.event import event_zone
from checkin.rollcall import view


def full_name(person: dict[str, Any]) -> str:
    """Return a person's name as the list prints it: title, first and last name."""
    return " ".join(part for part in (person["title"], person["first_name"],
                                      person["last_name"]) if part)


def missing_pdf(db_path: str, rollcall_id: str, language: str = "en") -> bytes:
    """Return the PDF of the people a roll call still misses (everyone, if none is missing:
    the page says so)."""
    return with_database(db_path, _build, rollcall_id, language)


def _build(db: Any, rollcall_id: str, language: str) -> bytes:
    """Build the missing list from an open database."""
    _ = translations(language).gettext
    rollcall = view(db, rollcall_id, language, names=True, phones=True)
    zone = event_zone(db)

    def when(value: str | None) -> str:
        return clock.clock_text(value, zone, "%H:%M") if value else ""

    regular, bold = font_name(False), font_name(True)
    title = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20)
    sub = ParagraphStyle("sub", fontName=regular, fontSize=10, leading=13)
    cell = ParagraphStyle("cell", fontName=regular, fontSize=9, leading=11)
    missing = [p for p in rollcall["people"] if p["account"] is None]
    counts = rollcall["counts"]
    story: list[Any] = [
        Paragraph(escape(_("Roll call: still missing")), title),
        Spacer(1, 2 * mm),
        Paragraph(escape(_("Started %(time)s by %(who)s") % {
            "time": clock.clock_text(rollcall["started_at"], zone, "%Y-%m-%d %H:%M"),
            "who": rollcall["started_by"]}), sub),
        Paragraph(escape(_("%(missing)d missing of %(expected)d expected, %(accounted)d "
                           "accounted for") % counts), sub),
        Spacer(1, 4 * mm),
    ]
    if not missing:
        story.append(Paragraph(escape(_("Everyone is accounted for.")), sub))
    else:
        header = [_("Name"), _("Organisation"), _("Last seen"), _("At"), _("Phone")]
        data = [[Paragraph(escape(text), cell) for text in header]]
        for p in missing:
            data.append([Paragraph(escape(text or ""), cell) for text in (
                full_name(p), p["organisation"], p["last_seen"]["name"],
                when(p["last_seen"]["at"]), p["phone"])])
        table = Table(data, colWidths=[50 * mm, 45 * mm, 40 * mm, 15 * mm, 30 * mm],
                      repeatRows=1)
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, 0), bold),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
            ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(table)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm,
                            title=_("Roll call: still missing"))
    doc.build(story)
    return out.getvalue()
