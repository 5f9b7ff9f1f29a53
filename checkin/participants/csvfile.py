"""Reading participant files (CSV as Excel writes it, or .xlsx), and writing them back out."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import IO, Any

from flask_babel import gettext as _
from sqlite_utils import Database

from checkin.core.cells import spreadsheet_cell
from checkin.core.errors import say
from checkin.core.event import event_info
from checkin.participants.columns import Mapping, Values, apply_mapping, build_mapping
from checkin.participants.records import (
    COLUMNS,
    SHOWN_PROBLEMS,
    Checked,
    Problem,
    _Matcher,
    check_rows,
    save_rows,
)
from checkin.participants.workbook import (
    HEADER_SEARCH,
    FileError,
    Table,
    UnsupportedFormat,
    check_header,
    find_header,
    is_workbook,
    read_workbook,
)
from checkin.scans.readmodel import day_assignments, day_conflicts

MAX_BYTES = 10 * 1024 * 1024
# The first rows as they will be imported, shown before importing.
PREVIEW_ROWS = 5

CSVFileError = FileError  # the name callers have used since CSV was the only format


def decode(data: bytes) -> str:
    """Decode UTF-16 with its byte-order mark (Excel's "Unicode text"), UTF-8 (with or
    without BOM), else Windows-1252 as Excel writes it in DE and NL; refuse binary data."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CSVFileError("file.broken_utf16") from exc
    elif b"\x00" in data:
        zeros = sorted((data[0::2].count(0), data[1::2].count(0)))
        if zeros[1] > len(data) // 4 and zeros[0] <= len(data) // 64:
            # Every other byte zero: UTF-16 text that lost its byte-order mark.
            raise CSVFileError("file.utf16_without_bom")
        raise CSVFileError("file.binary")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise CSVFileError("file.encoding") from exc
    if "\x00" in text:
        raise CSVFileError("file.binary")
    return text


def _delimiter(lines: list[str]) -> str:
    """Pick the separator the first lines use most: comma, semicolon or tab."""
    counts = {d: sum(line.count(d) for line in lines) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise CSVFileError("file.no_separator")
    return best


def read_csv(data: bytes, overrides: dict[str, str] | None = None) -> Table:
    """Parse CSV bytes into a table of text with the line number of every row."""
    text = decode(data)
    if not text.strip():
        raise CSVFileError("file.empty")
    first_lines = [line for line in text.splitlines() if line.strip()][:HEADER_SEARCH]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_lines),
                        strict=True)
    records: list[tuple[int, list[str]]] = []
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                records.append((reader.line_num, record))
    except csv.Error as exc:
        raise CSVFileError("file.broken_csv", line=reader.line_num, error=str(exc)) from exc
    if not records:
        raise CSVFileError("file.no_header")
    at = find_header(records, overrides)
    header_line, header = records[at]
    check_header(header)
    table = Table(header_line, [c.strip() for c in header], [])
    if at:
        table.warnings.append(_("lines %(first)d to %(last)d above the header were skipped",
                                first=records[0][0], last=records[at - 1][0]))
    for line, record in records[at + 1:]:
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            table.problems.append(Problem(line, say("row.extra_cells")))
            continue
        table.rows.append((line, record))
    return table


@dataclass
class Reading:
    """A participants file read, mapped and checked: what importing it would take in."""

    table: Table
    mapping: Mapping
    checked: Checked
    warnings: list[str]
    preview: list[dict[str, Any]]

    @property
    def problems(self) -> list[Problem]:
        """Every problem, by line."""
        return self.checked.problems


def read_table(data: bytes, sheet: str | None = None,
               overrides: dict[str, str] | None = None) -> Table:
    """Read a participants file, workbook or CSV, as a table of text."""
    if len(data) > MAX_BYTES:
        raise CSVFileError("file.too_large", n=MAX_BYTES // (1024 * 1024))
    if data[:4] == b"\xd0\xcf\x11\xe0":
        # Both are OLE compound files; only Excel can tell them apart.
        raise UnsupportedFormat("file.xls")
    if is_workbook(data):
        return read_workbook(data, sheet, overrides)
    if sheet is not None:
        raise CSVFileError("file.sheet_of_csv")
    return read_csv(data, overrides)


def read_file(db: Database, data: bytes, sheet: str | None = None,
              overrides: dict[str, str] | None = None) -> Reading:
    """Read, map and check a participants file against the event, changing nothing."""
    table = read_table(data, sheet, overrides)
    info = event_info(db) or {}
    first_language = (info.get("languages") or ["en"])[0]
    mapping = build_mapping(table.header, overrides, first_language)
    problems = list(table.problems)
    problems.extend(Problem(table.header_line, m) for m in mapping.problems)
    warnings = list(table.warnings)
    if mapping.unplaced:
        warnings.append(_("column(s) %(columns)s were not recognised and are not imported; "
                          "assign them to a field or ignore them",
                          columns=", ".join(map(repr, mapping.unplaced))))
    bad_lines = {p.line for p in problems}
    rows = apply_mapping(mapping, Values(db, first_language),
                         [r for r in table.rows if r[0] not in bad_lines])
    checked = check_rows(db, [] if mapping.problems else rows)
    checked.problems.extend(problems)
    checked.problems.sort(key=lambda p: p.line)
    warnings.extend(str(w) for w in checked.warnings[:SHOWN_PROBLEMS])
    if len(checked.warnings) > SHOWN_PROBLEMS:
        warnings.append(_("… and %(n)d more lines like these",
                          n=len(checked.warnings) - SHOWN_PROBLEMS))
    preview = [{"line": line, **row} for line, row in rows[:PREVIEW_ROWS]]
    return Reading(table, mapping, checked, warnings, preview)


def import_file(db: Database, data: bytes, dry_run: bool = False, sheet: str | None = None,
                overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Import a participants file all-or-nothing; with problems or dry_run, change nothing."""
    reading = read_file(db, data, sheet, overrides)
    checked = reading.checked
    result: dict[str, Any] = {"rows": len(reading.table.rows),
                              "problems": [str(p) for p in checked.problems],
                              "warnings": reading.warnings, "mapping": reading.mapping,
                              "defaults": reading.mapping.defaults,
                              "preview": reading.preview,
                              "created": 0, "updated": 0, "unchanged": 0}
    if checked.problems:
        return result
    result["day_wins"] = day_wins(db, checked)
    result["warnings"] = reading.warnings + result["day_wins"]
    result.update(save_rows(db, [row for _line, row in checked.rows], dry_run=dry_run))
    return result


def day_wins(db: Database, checked: Checked) -> list[str]:
    """Say, by line, where the file's plan contradicts a walk-on of the day (the day wins)."""
    if not day_assignments(db):
        return []
    matcher = _Matcher(db)
    by_line = dict(checked.rows)
    planned = []
    for line, row in checked.rows:
        old = matcher.find({c: row[c] for c in COLUMNS})
        if old is not None:
            planned.append((line, old["id"], row["excursion"]))
    out = []
    for c in day_conflicts(db, planned):
        row = by_line[c["line"]]
        name = row["first_name"] + " " + row["last_name"]
        out.append(_("line %(line)s: %(name)s was added to the excursion %(day)s on the day; "
                     "the file says %(plan)s. The day wins: the person stays on %(day)s.",
                     line=c["line"], name=name, day=repr(c["day"]), plan=repr(c["plan"] or "")))
    return out


def export_participants(db: Database, out: IO[str]) -> int:
    """Write every participant in the import's columns plus `code`; return how many."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, "code"])
    n = 0
    for row in db.query("SELECT * FROM participants ORDER BY last_name, first_name, id"):
        writer.writerow([spreadsheet_cell(row[c]) for c in (*COLUMNS, "code")])
        n += 1
    return n
