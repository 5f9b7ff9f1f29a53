"""Times in exports: the event's time zone, as ISO 8601 with offset (CSV) or as real
date-times (Excel, which has no time zones: the event's wall clock, said in the header)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from checkin.core.clock import local_iso, parse, wall_clock

# Report columns that hold a moment (stored as UTC ISO 8601 text).
TIME_COLUMNS = ("arrived_at", "departed_at", "returned_at")


def _convert_row(row: dict[str, Any], convert: Any) -> dict[str, Any]:
    """Return a copy of row with every time column's moment passed through `convert`."""
    row = dict(row)
    for column in TIME_COLUMNS:
        moment = parse(row.get(column))
        if moment is not None:
            row[column] = convert(moment)
    return row


def _converted(rows: list[dict[str, Any]], convert: Any) -> list[dict[str, Any]]:
    """Return copies of rows with every time column's moment passed through `convert`."""
    return [_convert_row(row, convert) for row in rows]


def csv_rows(rows: Iterable[dict[str, Any]], zone: ZoneInfo) -> Iterator[dict[str, Any]]:
    """Yield rows one by one with their times as ISO 8601 in the event's zone (streamed)."""
    for row in rows:
        yield _convert_row(row, lambda m: local_iso(m, zone))


def excel_times(rows: list[dict[str, Any]], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Return rows with their times as the event's local date-times (Excel cells)."""
    return _converted(rows, lambda m: wall_clock(m, zone))


def report_for_excel(report: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """Return the attendance report with Excel date-times (the event's wall clock)."""
    return {**report, "participants": excel_times(report["participants"], zone),
            "totals": excel_times(report["totals"], zone)}
