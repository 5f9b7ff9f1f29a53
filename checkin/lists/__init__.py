"""Paper lists for when screens fail: the entrance list A–Z, each excursion's roster and each
working group's list, as one PDF with real (searchable, readable-aloud) text.

Modules: data (what the lists show, read once), layout (fixed rows, column widths, text fitted
to its cell), pdf (drawn row by row on the canvas). `render_lists(db_path, language, arrived,
now) -> bytes` opens its own database, so it can run in a worker process.
"""

from __future__ import annotations

from checkin.lists.data import list_data, sort_key
from checkin.lists.pdf import LANGUAGES, build_pdf, render_lists, write_pdf

__all__ = ["LANGUAGES", "build_pdf", "list_data", "render_lists", "sort_key", "write_pdf"]
