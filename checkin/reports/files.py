"""The organiser's report outputs as a pool worker makes them (checkin.core.pool): the
attendance CSV streamed in pieces, the Excel workbook written to a file, the summary's
numbers and charts. Module-level functions of the database path, so that they can run in
another process; the command line calls the same ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from checkin.core.db import connect
from checkin.core.event import event_zone
from checkin.desk import walk_in_count
from checkin.reports import (
    GROUP_COLUMNS,
    PARTICIPANT_COLUMNS,
    attendance,
    csv_pieces,
    summary,
    write_csv,
    write_xlsx,
)
from checkin.reports.charts import bar_chart, line_chart
from checkin.reports.times import csv_rows, report_for_excel

#: The two CSV files of the attendance report: its part and the columns it shows.
CSV_PARTS = {"participants": PARTICIPANT_COLUMNS, "totals": GROUP_COLUMNS}
# Excel reads UTF-8 only with a byte order mark.
BOM = "\ufeff"


@contextmanager
def _csv_rows(db_path: str, part: str) -> Iterator[Iterator[dict[str, Any]]]:
    """Give one attendance CSV's rows, times in the event's zone, on a connection of its own."""
    db = connect(db_path)
    try:
        yield csv_rows(attendance(db)[part], event_zone(db))
    finally:
        db.conn.close()


def attendance_csv(db_path: str, part: str) -> Iterator[bytes]:
    """Yield one attendance CSV ("participants" or "totals") as UTF-8 pieces, BOM first."""
    with _csv_rows(db_path, part) as rows:
        yield BOM.encode()
        for piece in csv_pieces(rows, CSV_PARTS[part]):
            yield piece.encode()


def write_attendance_csv(db_path: str, part: str, out: IO[str]) -> int:
    """Write one attendance CSV to a text file piece by piece; return how many rows."""
    with _csv_rows(db_path, part) as rows:
        return write_csv(rows, CSV_PARTS[part], out)


def attendance_xlsx(output: str, db_path: str) -> int:
    """Write the attendance workbook to `output`; return how many participant rows it has."""
    db = connect(db_path)
    try:
        report = report_for_excel(attendance(db), event_zone(db))
    finally:
        db.conn.close()
    write_xlsx(report, output)
    return len(report["participants"])


def summary_parts(db_path: str, words: dict[str, Any]) -> dict[str, Any]:
    """Return the summary's numbers, its three charts and the walk-in count.

    `words` holds the charts' texts in the page's language (the worker has no request):
    the series' and titles' words and the organisation types' labels.
    """
    db = connect(db_path)
    try:
        numbers = summary(db)
        walk_ins = walk_in_count(db)
    finally:
        db.conn.close()
    day, types = numbers["over_the_day"], words["types"]

    def pairs(rows: list[dict[str, Any]], label: Any, title: str) -> dict[str, Any]:
        return bar_chart([label(r["name"]) for r in rows], [r["registered"] for r in rows],
                         [r["arrived"] for r in rows], title=title,
                         legend=(words["registered"], words["arrived"]))

    charts = {
        "day": line_chart([s["label"] for s in day],
                          [(words["arrived_so_far"], [s["arrived"] for s in day], "arrived"),
                           (words["inside"], [s["inside"] for s in day], "inside")],
                          title=words["day"]),
        "delegations": pairs(numbers["delegations"], lambda n: n or words["none"],
                             words["delegations"]),
        "types": pairs(numbers["organisation_types"], lambda n: types.get(n, n),
                       words["types_title"]),
    }
    return {"numbers": numbers, "charts": charts, "walk_ins": walk_ins}
