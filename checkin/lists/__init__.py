"""Paper lists for when screens fail: the entrance list A–Z, each excursion's roster and each
working group's list, as one PDF with real (searchable, readable-aloud) text."""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime
from typing import Any

from babel.support import NullTranslations, Translations
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlite_utils import Database

from checkin.core import clock
from checkin.core.event import event_info, event_zone
from checkin.core.paths import FONTS, TRANSLATIONS
from checkin.core.texts import all_texts, event_in, localized
from checkin.scans.people import in_language
from checkin.scans.people import people as view_people

LANGUAGES = ("en", "de", "nl")
FONT, BOLD = "NotoSans", "NotoSans-Bold"


def _fonts() -> None:
    # Noto Sans: the badges' font, with every letter of three languages (ä, ß, é, ĳ).
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "NotoSans-Regular.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "NotoSans-Bold.ttf")))
        # So that <b> in a paragraph finds the bold face.
        registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def translations(language: str) -> NullTranslations:
    """Return the catalogue of `language` (English text when there is none)."""
    if language == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language])


# Name particles a Dutch or German list files under the main name: "van den Berg" under B.
PARTICLES = {"van", "von", "de", "der", "den", "ter", "ten", "te", "'t", "’t", "het", "zu",
             "zum", "zur", "vom", "in", "op", "la", "le", "di", "da"}


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def sort_key(person: dict[str, Any]) -> tuple[str, str, int]:
    """A–Z by last name without its particles, then first name; Ä beside A, as eyes search."""
    words = (person["last_name"] or "").split()
    while len(words) > 1 and words[0].casefold() in PARTICLES:
        words = words[1:]
    return _plain(" ".join(words)), _plain(person["first_name"]), person["id"]


def list_data(db: Database, arrived: bool = False, language: str = "en") -> dict[str, Any]:
    """Return what the lists show: people A–Z, excursions and working groups with their
    people, every title in `language`."""
    # The people view: each excursion's roster lists the people on it today (a walk-on under
    # its new bus), and "arrived" is an effective scan, as everywhere.
    people = in_language(db, sorted(view_people(db), key=sort_key), language)
    for p in people:
        p["code4"] = (p["code"] or "")[-4:]
        p["arrived"] = arrived and bool(p["arrived"])
    texts = all_texts(db)
    rooms = {r["id"]: localized(texts, "room", r["id"], language, r["name"])
             for r in db.query("SELECT id, name FROM rooms")}
    excursions = [dict(x, title=localized(texts, "excursion", x["id"], language, x["title"]),
                       departure_place=localized(texts, "departure_place", x["id"], language,
                                                 x["departure_place"]),
                       people=[p for p in people if p["excursion"] == x["id"]])
                  for x in db.query("SELECT * FROM excursions ORDER BY departs_at, title")]
    groups = [dict(g, title=localized(texts, "working_group", g["id"], language, g["title"]),
                   room_name=rooms.get(g["room"] or "", g["room"] or ""),
                   people=[p for p in people if p["working_group"] == g["id"]])
              for g in db.query("SELECT * FROM working_groups ORDER BY area, title")]
    return {"event": event_in(event_info(db) or {}, texts, language), "people": people,
            "excursions": excursions, "groups": groups, "arrived": arrived,
            "zone": event_zone(db)}


class TickBox(Flowable):
    """An empty square to tick with a pen, or a crossed one for who has arrived already."""

    def __init__(self, checked: bool = False, size: float = 4.2 * mm):
        super().__init__()
        self.checked, self.size = checked, size
        self.width = self.height = size

    def draw(self) -> None:
        """Draw the box (and its cross)."""
        c, s = self.canv, self.size
        c.setLineWidth(0.8)
        c.rect(0, 0, s, s)
        if self.checked:
            c.line(0.8, 0.8, s - 0.8, s - 0.8)
            c.line(0.8, s - 0.8, s - 0.8, 0.8)


def build_pdf(db: Database, language: str = "en", arrived: bool = False,
              now: datetime | None = None) -> bytes:
    """Return the lists as a PDF in `language` (en, de or nl)."""
    _fonts()
    language = language if language in LANGUAGES else "en"
    _ = translations(language).gettext
    data = list_data(db, arrived, language)
    zone = data["zone"]
    now = now or clock.now()
    event_name = data["event"].get("name") or "checkin"

    def hhmm(value: str | None) -> str:
        return clock.clock_text(value, zone)

    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12)
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=10.5)
    head = ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=9, leading=11)
    title = ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=16, leading=20,
                           spaceAfter=2 * mm)
    sub = ParagraphStyle("sub", parent=base, fontSize=10.5, leading=14, spaceAfter=3 * mm)

    def esc(text: Any) -> str:
        return (str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))

    arrived_word = esc(_("arrived"))

    def name(p: dict[str, Any]) -> Paragraph:
        shown = f"<b>{esc(p['last_name'])}</b>, {esc(p['first_name'])}"
        if p["arrived"]:
            # Said in words too: the cross alone is easy to miss on a copy.
            shown += f" <i>({arrived_word})</i>"
        return Paragraph(shown, base)

    def table(header: list[str], rows: list[list[Any]], widths: list[float]) -> Table:
        t = Table([[Paragraph(esc(h), head) for h in header], *rows], colWidths=widths,
                  repeatRows=1)
        t.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.9, colors.black),
            ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.grey),
            ("TOPPADDING", (0, 0), (-1, -1), 3.2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3.2),
        ]))
        return t

    def cell(text: Any) -> Paragraph:
        return Paragraph(esc(text), small)

    story: list[Flowable] = []
    printed = _("Printed %(time)s") % {"time": clock.clock_text(now, zone, "%Y-%m-%d %H:%M")}
    marked = _("A cross marks who had arrived when this list was printed.") if arrived else ""

    # The entrance list: everyone A–Z.
    story += [Paragraph(esc(_("Entrance list")), title),
              Paragraph(esc(f"{event_name} · {len(data['people'])} "
                            + _("participants") + (f" · {marked}" if marked else "")), sub)]
    rows = [[TickBox(p["arrived"]), name(p), cell(p["organisation"]), cell(p["city"]),
             Paragraph(f"<font name='{BOLD}'>{esc(p['code4'])}</font>", base)]
            for p in data["people"]]
    story.append(table(["", _("Name"), _("Organisation"), _("City"), _("Code (last 4)")],
                       rows, [9 * mm, 60 * mm, 56 * mm, 29 * mm, 28 * mm]))

    for x in data["excursions"]:
        story += [PageBreak(), Paragraph(esc(_("Excursion") + ": " + x["title"]), title)]
        facts = [_("Guide") + ": " + (x["guide"] or "–"),
                 _("Departure") + ": " + ", ".join(filter(None, [hhmm(x["departs_at"]),
                                                                x["departure_place"] or ""])),
                 _("Back") + ": " + (hhmm(x["returns_at"]) or "–")]
        story.append(Paragraph(" · ".join(esc(f) for f in facts), sub))
        rows = [[TickBox(), TickBox(), name(p), cell(p["organisation"]), cell(p["code4"])]
                for p in x["people"]]
        rows += [[TickBox(), TickBox(), cell(""), cell(""), cell("")] for _i in range(3)]
        story.append(table([_("Left"), _("Back"), _("Name"), _("Organisation"),
                            _("Code (last 4)")], rows,
                           [22 * mm, 22 * mm, 60 * mm, 50 * mm, 28 * mm]))
        story.append(Spacer(1, 3 * mm))
        story.append(Paragraph(esc(_("%(n)s people. Empty lines: walk-ons.")
                                   % {"n": len(x["people"])}), small))

    for g in data["groups"]:
        story += [PageBreak(), Paragraph(esc(_("Working group") + ": " + g["title"]), title)]
        facts = [g["area"], g["room_name"],
                 "–".join(filter(None, [hhmm(g["starts_at"]), hhmm(g["ends_at"])]))]
        story.append(Paragraph(" · ".join(esc(f) for f in facts if f), sub))
        rows = [[TickBox(), name(p), cell(p["organisation"]), cell(p["city"])]
                for p in g["people"]]
        story.append(table(["", _("Name"), _("Organisation"), _("City")], rows,
                           [9 * mm, 70 * mm, 72 * mm, 31 * mm]))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(14 * mm, 9 * mm, f"{event_name} · {printed}")
        canvas.drawRightString(A4[0] - 14 * mm, 9 * mm,
                               _("Page %(n)s") % {"n": doc.page})
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm,
                            topMargin=14 * mm, bottomMargin=16 * mm, title=f"{event_name}: "
                            + _("Lists"), author="checkin", lang=language)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
