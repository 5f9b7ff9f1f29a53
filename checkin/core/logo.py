"""The event's logo: read and checked when the event file is applied, drawn on every badge."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image
from reportlab.pdfgen.canvas import Canvas


@dataclass
class Logo:
    """An event logo ready to draw: a PNG image or an SVG drawing, with its aspect ratio."""

    kind: str
    data: bytes
    aspect: float  # width / height
    drawing: Any = None  # the SVG as a reportlab Drawing

    @classmethod
    def load(cls, kind: str, data: bytes) -> Logo:
        """Read a PNG or SVG logo; raise ValueError if it cannot be read."""
        if kind == "svg":
            from svglib.svglib import svg2rlg

            drawing = svg2rlg(io.BytesIO(data))
            if drawing is None or not drawing.width or not drawing.height:
                raise ValueError("the SVG logo cannot be read")
            return cls(kind, data, drawing.width / drawing.height, drawing)
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return cls(kind, data, image.width / image.height)
        except (OSError, ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"the logo cannot be read as an image: {exc}") from exc

    def draw(self, canvas: Canvas, x: float, y: float, width: float, height: float) -> None:
        """Draw the logo into a box given in PDF units, bottom left at (x, y)."""
        if self.drawing is not None:
            from reportlab.graphics import renderPDF

            canvas.saveState()
            canvas.translate(x, y)
            canvas.scale(width / self.drawing.width, height / self.drawing.height)
            renderPDF.draw(self.drawing, canvas, 0, 0)
            canvas.restoreState()
        else:
            from reportlab.lib.utils import ImageReader

            canvas.drawImage(ImageReader(io.BytesIO(self.data)), x, y, width, height,
                             mask="auto")
