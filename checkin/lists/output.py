"""The lists PDF as a pool worker writes it (checkin.core.pool): a module-level function of
the database path, so that it runs in another process than the door's."""

from __future__ import annotations

from pathlib import Path

from checkin.core.db import with_database
from checkin.core.pool import progress
from checkin.lists.pdf import write_pdf


def lists_file(output: str, db_path: str, language: str, arrived: bool) -> int:
    """Write the lists PDF in `language` to `output`; return its size in bytes."""
    progress(0, 1)
    # Straight into the file: the worker never holds the whole PDF as well.
    with Path(output).open("wb") as out:
        with_database(db_path, write_pdf, out, language, arrived)
    progress(1, 1)
    return Path(output).stat().st_size
