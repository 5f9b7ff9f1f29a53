"""Badge sizes and measures: the drawing unit, the badge, its band, the sheets it prints on."""

from __future__ import annotations

from dataclasses import dataclass

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
