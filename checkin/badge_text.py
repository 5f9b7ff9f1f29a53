"""Text on badges: the bundled fonts, cached glyph masks, line wrapping and fitting.

Drawing goes through 1-bit masks cached per (text, font, size): the titles, labels and
places that repeat on many badges are rendered once per process.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).parent / "fonts"
INK, PAPER = 0, 255  # the two values of a 1-bit image: black and white


@lru_cache(maxsize=256)
def get_font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    """Load the bundled Noto Sans in a size (cached: loading costs more than drawing)."""
    name = "NotoSans-Bold.ttf" if bold else "NotoSans-Regular.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


def _render(text: str, bold: bool, size: int) -> tuple[Image.Image, int, int]:
    """Render a line of text as a 1-bit mask; return it with its offset from the start
    of the baseline."""
    face = get_font(bold, size)
    left, top, right, bottom = face.getbbox(text, anchor="ls")
    mask = Image.new("1", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=face, fill=255, anchor="ls")
    return mask, left, top


# Bounded: a 1-bit mask takes a byte per pixel, so this holds at most some tens of MB.
@lru_cache(maxsize=256)
def text_mask(text: str, bold: bool, size: int) -> tuple[Image.Image, int, int]:
    """Render a line of text once (group titles, places and labels repeat on many badges)."""
    return _render(text, bold, size)


def draw_text(img: Image.Image, x: int, baseline: int, text: str, bold: bool, size: int,
              ink: int = INK, cache: bool = True) -> None:
    """Draw a line of text with its baseline starting at (x, baseline).

    `cache` false is for text that will not come again, such as a person's name.
    """
    if not text:
        return
    if not cache:
        ImageDraw.Draw(img).text((x, baseline), text, font=get_font(bold, size), fill=ink,
                                 anchor="ls")
        return
    mask, left, top = text_mask(text, bold, size)
    img.paste(ink, (x + left, baseline + top), mask)


def draw_code(img: Image.Image, x: int, baseline: int, code: str, width: int,
              size: int = 26) -> None:
    """Draw a code in groups of four on a fixed pitch, so it is easy to read and type.

    Characters are placed one by one from cached masks: every code is different, and
    drawing it as a line of text would render its glyphs afresh on every badge.
    """
    widest = max(advance(ch, size) for ch in "0123456789ABCDEFGHJKMNPQRSTVWX")
    slots = len(code) + (len(code) - 1) // 4 / 2  # a half-cell gap between groups
    pitch = min(round(widest * 1.05), int(width / slots))
    if pitch < widest * 0.9:
        size = max(12, int(size * pitch / widest))  # a longer code: smaller characters
    for i, ch in enumerate(code):
        cell = x + i * pitch + (i // 4) * pitch // 2
        draw_text(img, cell + round(pitch - advance(ch, size)) // 2, baseline, ch, True, size)


@lru_cache(maxsize=512)
def advance(ch: str, size: int) -> float:
    """The advance width of one bold character."""
    return get_font(True, size).getlength(ch)


@lru_cache(maxsize=512)
def cap_height(bold: bool, size: int) -> int:
    """The height of capital letters of the font at a size, in pixels."""
    return -get_font(bold, size).getbbox("H", anchor="ls")[1]


@lru_cache(maxsize=2048)
def _glyph(ch: str, bold: bool) -> tuple[tuple[int, int], bytes]:
    """A character as the font draws it at 32 px: its size and pixels."""
    mask = _render(ch, bold, 32)[0]
    return mask.size, mask.tobytes()


def missing_glyphs(text: str, bold: bool = False) -> set[str]:
    """Return the characters of `text` the badge font cannot draw (they would print as boxes)."""
    notdef = _glyph("\U000f0000", bold)  # a private-use character: in no font
    return {ch for ch in set(text) if not ch.isspace() and _glyph(ch, bold) == notdef}


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
