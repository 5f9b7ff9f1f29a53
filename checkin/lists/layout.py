"""The paper lists' geometry: page, fixed rows, columns, and text fitted into its cell.

Every row has the same height and every column a width fixed before drawing, so a page holds a
known number of rows and nothing is measured twice. A cell's text is drawn at its size when it
fits, shrunk down to a floor when not, and cut with "…" only below that floor: what layout_row
returns never reaches past its cell (tests/test_lists.py measures it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from checkin.core.paths import FONTS

FONT, BOLD = "NotoSans", "NotoSans-Bold"
PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT, RIGHT, TOP, BOTTOM = 14 * mm, 14 * mm, 14 * mm, 16 * mm
WIDTH = PAGE_WIDTH - LEFT - RIGHT
ROW = 6.4 * mm  # one line of 9.5 pt text with air above and below, and a 4.2 mm tick box
BOX = 4.2 * mm
PAD = 1.6 * mm  # between a cell's edge and its text
ELLIPSIS = "…"

# (size, smallest size) of each kind of text in a row; below MIN_SIZE a copy is unreadable.
MIN_SIZE = 6.0
NAME_SIZE, TEXT_SIZE, HEAD_SIZE = (9.5, 6.5), (8.5, MIN_SIZE), (9.0, 6.5)


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register Noto Sans (every letter of three languages: ä, ß, é, ĳ) once per process."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "NotoSans-Regular.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "NotoSans-Bold.ttf")))


@dataclass(frozen=True)
class Column:
    """A column of a list: its header, width in points, and what its cells hold.

    kind: "box" (a tick box: the value says whether it is crossed), "name" (runs of (text,
    font), the first name's run cut first), "text" (small text) or "code" (bold text).
    """

    header: str
    width: float
    kind: str = "text"


class Piece(NamedTuple):
    """Text placed in a row: left edge x, font, size, the text, and its width."""

    x: float
    font: str
    size: float
    text: str
    width: float


@lru_cache(maxsize=1 << 16)
def width_at_one(text: str, font: str) -> float:
    """The width of `text` at size 1: a text's width grows linearly with its size."""
    # Cached: each person is in three lists, and organisations and cities repeat.
    register_fonts()
    return pdfmetrics.stringWidth(text, font, 1.0)


def _cut(text: str, font: str, size: float, room: float) -> str:
    """Return the longest start of `text` that fits `room` with "…" after it ('' if none)."""
    keep = len(text)
    while keep and pdfmetrics.stringWidth(text[:keep].rstrip() + ELLIPSIS, font, size) > room:
        keep -= 1
    return text[:keep].rstrip() + ELLIPSIS if keep else ""


def fit_runs(runs: list[tuple[str, str]], size: float, smallest: float, room: float,
             cut_order: tuple[int, ...] = (0,)) -> tuple[list[tuple[str, str]], float]:
    """Fit runs of (text, font) set one after another into `room` points.

    Returns the runs (cut with "…" where needed) and the size to draw them at: `size` when they
    fit, else the largest size down to `smallest` at which they fit, else `smallest` with the
    runs of `cut_order` (indexes, first cut first) cut until they fit.
    """
    natural = sum(width_at_one(text, font) for text, font in runs)
    if natural * size <= room:
        return runs, size
    if natural * smallest <= room:
        # Rounded down to a tenth of a point, so that the width stays within the room.
        return runs, int(room / natural * 10) / 10
    runs = list(runs)
    for index in cut_order:
        text, font = runs[index]
        others = sum(pdfmetrics.stringWidth(t, f, smallest)
                     for n, (t, f) in enumerate(runs) if n != index)
        runs[index] = (_cut(text, font, smallest, room - others), font)
        if others + pdfmetrics.stringWidth(runs[index][0], font, smallest) <= room:
            break
    return runs, smallest


def layout_row(columns: list[Column], values: list[Any]) -> tuple[list[Piece], list[
        tuple[float, bool]]]:
    """Place one row's values in its columns: the text pieces and the tick boxes (x, crossed).

    A "name" value is a list of (text, font) runs; "text" and "code" values are text; a
    "box" value is whether the box is crossed.
    """
    pieces: list[Piece] = []
    boxes: list[tuple[float, bool]] = []
    x = LEFT
    for column, value in zip(columns, values, strict=True):
        if column.kind == "box":
            boxes.append((x + (column.width - BOX) / 2, bool(value)))
        elif value:
            if column.kind == "name":
                runs, sizes, order = value, NAME_SIZE, (1, 0)
            else:
                runs = [(str(value), BOLD if column.kind == "code" else FONT)]
                sizes, order = (NAME_SIZE if column.kind == "code" else TEXT_SIZE), (0,)
            runs, size = fit_runs(runs, *sizes, column.width - 2 * PAD, order)
            left = x + PAD
            for text, font in runs:
                if not text:
                    continue  # a run cut away whole
                width = width_at_one(text, font) * size
                pieces.append(Piece(left, font, size, text, width))
                left += width
        x += column.width
    return pieces, boxes


def layout_header(columns: list[Column]) -> list[Piece]:
    """Place the column headers (bold, shrunk or cut to their column)."""
    pieces = []
    x = LEFT
    for column in columns:
        if column.header:
            runs, size = fit_runs([(column.header, BOLD)], *HEAD_SIZE,
                                  column.width - 2 * PAD)
            pieces.append(Piece(x + PAD, BOLD, size, runs[0][0],
                                width_at_one(runs[0][0], BOLD) * size))
        x += column.width
    return pieces
