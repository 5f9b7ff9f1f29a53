"""QR codes for badges and mails: SVG, PNG and the squares a PDF draws."""

from __future__ import annotations

import io

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.image.svg import SvgPathImage

from checkin.badges.layout import QR_QUIET

# --- QR codes ---------------------------------------------------------------------------

def _qr(code: str) -> qrcode.QRCode:
    """Build the QR for a code: error correction Q, the smallest version that holds it."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=QR_QUIET)
    qr.add_data(code)
    qr.make(fit=True)
    return qr


def qr_svg(code: str) -> str:
    """Return inline SVG markup of the code's QR (for web pages)."""
    svg = _qr(code).make_image(image_factory=SvgPathImage).to_string(encoding="unicode")
    return svg[svg.index("<svg"):]  # without the XML declaration, to sit inside HTML


def qr_png(code: str, box_size: int = 10) -> bytes:
    """Return the code's QR as a PNG with `box_size` pixels per module."""
    matrix = _qr(code).get_matrix()
    n = len(matrix)
    small = Image.frombytes("L", (n, n), bytes(0 if dark else 255
                                                for row in matrix for dark in row))
    out = io.BytesIO()
    # Scaled up without blurring: every module a sharp square.
    small.convert("1", dither=Image.Dither.NONE).resize(
        (n * box_size, n * box_size), Image.Resampling.NEAREST).save(out, "PNG", optimize=True)
    return out.getvalue()


def qr_runs(code: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The code's QR as (modules per side with quiet zone, dark runs (row, first, length)).

    Runs of dark modules in a row become one rectangle each: about a third as many
    drawing operations as one square per module, and no hairline seams between squares.
    """
    matrix = _qr(code).get_matrix()
    runs = []
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return len(matrix), runs
