"""Text on badges: the bundled fonts, their measurements, line wrapping and fitting.

Sizes and widths are in the badge's drawing units (pixels at 300 dpi); the PDF draws the
same font at the same sizes, so what is measured here is what prints.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONTS = Path(__file__).parent.parent / "fonts"
REGULAR, BOLD = "NotoSans", "NotoSans-Bold"


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register the bundled Noto Sans with reportlab (once per process); PDFs embed a subset."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONTS / "NotoSans-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "NotoSans-Bold.ttf")))


def font_name(bold: bool) -> str:
    """The registered name of the regular or bold face."""
    register_fonts()
    return BOLD if bold else REGULAR


class Face:
    """One face at one size: measures text as the PDF will set it."""

    def __init__(self, bold: bool, size: int):
        self.name, self.size = font_name(bold), size

    def getlength(self, text: str) -> float:
        """The advance width of `text`."""
        return pdfmetrics.stringWidth(text, self.name, self.size)


@lru_cache(maxsize=256)
def get_font(bold: bool, size: int) -> Face:
    """The bundled Noto Sans, regular or bold, at a size."""
    return Face(bold, size)


@lru_cache(maxsize=512)
def advance(ch: str, size: int) -> float:
    """The advance width of one bold character."""
    return get_font(True, size).getlength(ch)


@lru_cache(maxsize=512)
def cap_height(bold: bool, size: int) -> int:
    """The height of capital letters of the font at a size."""
    face = pdfmetrics.getFont(font_name(bold)).face
    return round(face.capHeight * size / 1000)


def descent(bold: bool, size: int) -> int:
    """How far descenders reach below the baseline at a size."""
    face = pdfmetrics.getFont(font_name(bold)).face
    return round(-face.descent * size / 1000)


def missing_glyphs(text: str, bold: bool = False) -> set[str]:
    """Return the characters of `text` the badge font cannot draw (they would print as boxes)."""
    glyphs = pdfmetrics.getFont(font_name(bold)).face.charToGlyph
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) not in glyphs}


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


def wrap(text: str, font: Face, width: int, break_words: bool = True
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
        start = size
        if n_lines == 1:
            # Text width grows in proportion to the size: start near the answer.
            natural = get_font(bold, size).getlength(text)
            if natural > width:
                start = max(smallest, min(size, int(size * width / natural) // 2 * 2 + 2))
        for s in range(start, smallest - 1, -2):
            lines = wrap(text, get_font(bold, s), width, break_words=False)
            if lines is not None and len(lines) <= n_lines:
                return s, tuple(lines), False
    face = get_font(bold, min_size)
    lines = wrap(text, face, width) or [""]
    if len(lines) <= max_lines:
        return min_size, tuple(lines), False
    lines = lines[:max_lines]
    last = lines[-1]
    while last and face.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return min_size, tuple(lines), True
