"""Spreadsheet safety: the one function every CSV and XLSX export passes its cells through."""

from __future__ import annotations

from typing import Any

#: What makes Excel or LibreOffice read a cell as a formula (CR and tab start one, too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """Return a cell value that a spreadsheet shows as text, never runs as a formula.

    A leading apostrophe is what spreadsheets themselves use for "this is text"; None is "".
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value
