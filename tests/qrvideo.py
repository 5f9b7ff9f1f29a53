"""Fake camera videos for Chromium: a Y4M file whose frames show a real badge QR code."""

from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image

WIDTH, HEIGHT = 640, 480


def qr_frame(text: str, width: int = WIDTH, height: int = HEIGHT) -> Image.Image:
    """A grey-scale frame with the QR code of `text` in the middle, as a badge held up."""
    qr = qrcode.QRCode(border=4, box_size=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").convert("L")
    side = min(width, height) * 3 // 4
    code = code.resize((side, side), Image.NEAREST)
    # A mid-grey background like a room; the quiet zone around the code stays white.
    frame = Image.new("L", (width, height), 110)
    frame.paste(code, ((width - side) // 2, (height - side) // 2))
    return frame


def write_y4m(path: Path, text: str | None, frames: int = 3) -> Path:
    """Write a Y4M video (4:2:0) of `frames` frames showing the QR of `text` (None: empty)."""
    frame = qr_frame(text) if text is not None else Image.new("L", (WIDTH, HEIGHT), 110)
    luma = frame.tobytes()
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with Path(path).open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + luma + chroma + chroma)
    return Path(path)


def write_y4m_image(path: Path, image: Image.Image, frames: int = 3) -> Path:
    """Write a Y4M video whose frames show `image` (e.g. a QR from an e-mail, as a phone
    screen held up) in the middle of a grey frame."""
    side = min(WIDTH, HEIGHT) * 3 // 4
    shown = image.convert("L").resize((side, side), Image.NEAREST)
    frame = Image.new("L", (WIDTH, HEIGHT), 110)
    frame.paste(shown, ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    with Path(path).open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)
    return Path(path)
