"""Badge PDFs: sheets with cut marks, single badges, a child process for many, previews."""

from __future__ import annotations

import atexit
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image
from reportlab.pdfgen.canvas import Canvas
from sqlite_utils import Database

from checkin.badges.card import draw_badge
from checkin.badges.draw import INK, Pen, Style, badge_style
from checkin.badges.layout import (
    BADGE,
    BLEED,
    DEFAULT_SIZE,
    DPI,
    GUTTER,
    MARK_FROM,
    MARK_TO,
    PT,
    SIZES,
    Size,
)
from checkin.badges.selection import people
from checkin.badges.text import (
    font_name,
)
from checkin.core.event import event_info

# --- Pages ------------------------------------------------------------------------------

def page_units(size: Size) -> tuple[float, float]:
    """A page's width and height in drawing units."""
    return size.page_mm[0] * DPI / 25.4, size.page_mm[1] * DPI / 25.4


def sheet_origin(size: Size, slot: int) -> tuple[float, float]:
    """Top left of a badge slot on a sheet, in drawing units from the page's top left."""
    assert size.grid is not None
    cols, rows = size.grid
    page_w, page_h = page_units(size)
    grid_w = cols * BADGE[0] + (cols - 1) * GUTTER
    grid_h = rows * BADGE[1] + (rows - 1) * GUTTER
    col, row = slot % cols, slot // cols
    return ((page_w - grid_w) / 2 + col * (BADGE[0] + GUTTER),
            (page_h - grid_h) / 2 + row * (BADGE[1] + GUTTER))


def _cut_marks(pen: Pen, x: float, y: float) -> None:
    """Draw a badge's cut marks: short hairlines outside each corner, on the cut lines."""
    w, h, t = BADGE[0], BADGE[1], 2  # 2 units: a 0.17 mm hairline
    for cx, sx in ((x, -1), (x + w, 1)):
        for cy, sy in ((y, -1), (y + h, 1)):
            xs = sorted((cx + sx * MARK_FROM, cx + sx * MARK_TO))
            ys = sorted((cy + sy * MARK_FROM, cy + sy * MARK_TO))
            pen.rect(xs[0], cy - t / 2, xs[1], cy + t / 2)
            pen.rect(cx - t / 2, ys[0], cx + t / 2, ys[1])


def _single_design(size: Size) -> tuple[tuple[int, int], float]:
    """For one badge per page: the badge's size in drawing units (92 mm wide, as tall as
    the page's proportions make it) and the scale that makes it fill the page."""
    page_w, page_h = page_units(size)
    return (BADGE[0], round(BADGE[0] * page_h / page_w)), page_w / BADGE[0]


def _draw_page(canvas: Canvas, size: Size, persons: list[dict[str, Any]],
               event: dict[str, Any], style: Style, warnings: list[str] | None) -> None:
    """Draw one page: a sheet of badges with cut marks, or one badge filling the page."""
    page_w, page_h = page_units(size)
    canvas.saveState()
    if size.grid is None:
        design, scale = _single_design(size)
        canvas.scale(PT * scale, PT * scale)
        draw_badge(Pen(canvas, design[1]), persons[0], event, style, design, 0, warnings)
    else:
        canvas.scale(PT, PT)
        page = Pen(canvas, round(page_h))
        for slot, person in enumerate(persons):
            x, y = sheet_origin(size, slot)
            canvas.saveState()
            canvas.translate(x, page_h - y - BADGE[1])
            draw_badge(Pen(canvas, BADGE[1]), person, event, style, BADGE, BLEED, warnings)
            canvas.restoreState()
            page.h = page_h
            page.fill(INK)
            _cut_marks(page, x, y)
    canvas.restoreState()
    canvas.showPage()


def _canvas(out: BinaryIO, size: Size, compress: bool = False) -> Canvas:
    """A canvas for pages of `size`; it starts in the badge font, so the PDF names no
    other (an unused Helvetica would be an unembedded font)."""
    page_w, page_h = page_units(size)
    # invariant: no creation time in the file, so the same badges make the same bytes.
    return Canvas(out, pagesize=(page_w * PT, page_h * PT), pageCompression=int(compress),
                  invariant=True, initialFontName=font_name(False), initialFontSize=10)


def render_pdf(db: Database, out: BinaryIO, participant_ids: list[int] | None = None,
               progress: Callable[[int], None] | None = None,
               warnings: list[str] | None = None, *, size: str = DEFAULT_SIZE) -> int:
    """Write print-ready badges as a vector PDF; return how many badges it holds.

    `size` names a format of SIZES: the A4 sheet (four badges, cut marks) or one badge
    per page of a card or label. `progress` is called with the number of badges finished
    since its last call; `warnings` collects texts that had to be shortened.
    """
    if size not in SIZES:
        raise ValueError(f"unknown badge size {size!r} (known: {', '.join(SIZES)})")
    fmt = SIZES[size]
    persons = people(db, participant_ids)
    if not persons:
        raise ValueError("no participants to print badges for")
    event = event_info(db) or {}
    style = badge_style(db)
    canvas = _canvas(out, fmt, compress=True)
    canvas.setTitle((event.get("name") or "Badges") + " – badges")
    canvas.setCreator("checkin")
    for start in range(0, len(persons), fmt.per_page):
        chunk = persons[start:start + fmt.per_page]
        _draw_page(canvas, fmt, chunk, event, style, warnings)
        if progress:
            progress(len(chunk))
    canvas.save()
    return len(persons)


# --- Rendering away from a server's threads ---------------------------------------------

# From this many badges on, the web server renders in a child process: 1,000 badges take
# about 5 s of CPU, which in the server's own process would slow every scan answered
# meanwhile (its threads share one interpreter lock).
CHILD_FROM = 100
_POOL_LOCK = threading.Lock()
_POOL: Any = None


def _render_file(db_path: str, path: str, participant_ids: list[int] | None,
                 size: str) -> int:
    """Render badges from the database at `db_path` into the file at `path` (in a child)."""
    from checkin.core.db import connect

    db = connect(db_path)
    try:
        with open(path, "wb") as out:
            return render_pdf(db, out, participant_ids, size=size)
    finally:
        db.conn.close()


def render_pdf_bytes(db_path: str, participant_ids: list[int] | None = None, *,
                     size: str = DEFAULT_SIZE, count_hint: int = 0) -> tuple[bytes, int]:
    """Render badges to PDF bytes, in a child process when there are many of them.

    Returns the PDF and the badge count. `count_hint` is how many badges are expected
    (for None: everyone), which decides where the work is done.
    """
    global _POOL
    many = (len(participant_ids) if participant_ids is not None else count_hint) >= CHILD_FROM
    if not many:
        from checkin.core.db import connect

        db = connect(db_path)
        try:
            return _in_process(db, io.BytesIO(), participant_ids, size)
        finally:
            db.conn.close()
    import multiprocessing
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    with _POOL_LOCK:
        if _POOL is None:
            # forkserver: the server runs threads, and fork would copy their locks.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _POOL = ProcessPoolExecutor(max_workers=1, mp_context=context)
            atexit.register(shutdown_pool)
        pool = _POOL
    with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
        count = pool.submit(_render_file, db_path, tmp.name, participant_ids, size).result()
        return Path(tmp.name).read_bytes(), count


def badges_file(output: str, db_path: str, participant_ids: list[int] | None,
                size: str) -> int:
    """Render badges into the file `output` in a pool worker, reporting progress per page;
    return how many badges it holds."""
    from checkin.core.db import connect
    from checkin.core.pool import progress

    db = connect(db_path)
    try:
        total = len(participant_ids) if participant_ids is not None \
            else db["participants"].count
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            progress(min(done[0], total), total)

        with open(output, "wb") as out:
            return render_pdf(db, out, participant_ids, step, size=size)
    finally:
        db.conn.close()


def shutdown_pool() -> None:
    """Stop the child process that renders for the server, if it was started."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _in_process(db: Database, out: io.BytesIO, participant_ids: list[int] | None,
                size: str) -> tuple[bytes, int]:
    """Render here, for a few badges (starting a process would take longer)."""
    count = render_pdf(db, out, participant_ids, size=size)
    return out.getvalue(), count


_PDFIUM = threading.Lock()


def rasterise(pdf: bytes, dpi: int = 300, grey: bool = True) -> list[Image.Image]:
    """Render each page of a PDF as an image (the preview; tests that scan badges)."""
    import pypdfium2 as pdfium

    # PDFium is not thread-safe, and the server answers previews on several threads.
    with _PDFIUM:
        doc = pdfium.PdfDocument(pdf)
        try:
            return [page.render(scale=dpi / 72, grayscale=grey).to_pil() for page in doc]
        finally:
            doc.close()


def badge_image(person: dict[str, Any], event: dict[str, Any],
                warnings: list[str] | None = None, style: Style | None = None,
                size: str = "badge", dpi: int = 300, grey: bool = True) -> Image.Image:
    """Render one badge, as it prints, to an image (`person` as `people` returns it)."""
    fmt = SIZES[size]
    out = io.BytesIO()
    canvas = _canvas(out, fmt)
    _draw_page(canvas, fmt, [person], event, style or Style(), warnings)
    canvas.save()
    return rasterise(out.getvalue(), dpi, grey)[0]


def badge_png(db: Database, participant_id: int) -> bytes:
    """Return one participant's badge as a PNG (the organiser's preview), drawn by the same
    code as the printed PDF."""
    person = people(db, [participant_id])[0]
    out = io.BytesIO()
    style = badge_style(db)
    # In colour only when the event gave it colours or a logo: grey PNGs are smaller.
    grey = style.logo is None and not style.colors
    badge_image(person, event_info(db) or {}, style=style, grey=grey).save(
        out, "PNG", dpi=(DPI, DPI), optimize=True)
    return out.getvalue()
