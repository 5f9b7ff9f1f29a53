"""The lists PDF as a pool worker writes it (checkin.core.pool): a module-level function of
the database path, so that it runs in another process than the door's."""

from __future__ import annotations

from pathlib import Path

from checkin.core.db import with_database
from checkin.core.pool import progress
from checkin.lists import build_pdf


def lists_file(output: str, db_path: str, language: str, arrived: bool) -> int:
    """Write the lists PDF in `language` to `output`; return its size in bytes."""
    progress(0, 1)
    data = with_database(db_path, build_pdf, language, arrived=arrived)
    Path(output).write_bytes(data)
    progress(1, 1)
    return len(data)
