"""Reading participant CSV files as Excel writes them, and writing them back out."""

from __future__ import annotations

import csv
import io
from typing import IO, Any

from flask_babel import gettext as _
from sqlite_utils import Database

from checkin.participants.records import COLUMNS, Checked, Problem, check_rows, save_rows
from checkin.security.cells import spreadsheet_cell

MAX_BYTES = 10 * 1024 * 1024
ALIASES = {"firstname": "first_name", "first": "first_name", "lastname": "last_name",
           "last": "last_name", "e-mail": "email", "mail": "email", "organization": "organisation",
           "organization_type": "organisation_type", "group": "working_group",
           "workinggroup": "working_group"}


class CSVFileError(ValueError):
    """The file cannot be read as a participants CSV at all."""


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), else Windows-1252 as Excel writes it in DE and NL."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CSVFileError(_("the file is neither UTF-8 nor Windows-1252 text")) from exc


def _delimiter(header: str) -> str:
    """Pick the separator the header line uses: comma, semicolon or tab."""
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise CSVFileError(_("the header line has no comma, semicolon or tab separator"))
    return best


def _column(name: str) -> str:
    key = name.strip().lower().replace(" ", "_")
    return ALIASES.get(key, key)


def read_rows(data: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Parse CSV bytes into (line, row) pairs; return them with warnings about the file."""
    if len(data) > MAX_BYTES:
        raise CSVFileError(_("the file is larger than %(n)d MB", n=MAX_BYTES // (1024 * 1024)))
    if b"\x00" in data:
        raise CSVFileError(_("the file is binary, not CSV (is it an .xlsx? save it as CSV)"))
    text = decode(data)
    if not text.strip():
        raise CSVFileError(_("the file is empty"))
    header_line = text.lstrip("\r\n").splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(header_line),
                        strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    warnings: list[str] = []
    try:
        header: list[str] | None = None
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [_column(c) for c in record]
                missing = [c for c in ("first_name", "last_name") if c not in header]
                if missing:
                    raise CSVFileError(_(
                        "line %(line)d: the header has no %(missing)s column (found: %(found)s)",
                        line=reader.line_num, missing=" / ".join(missing),
                        found=", ".join(record)))
                dupes = {c for c in header if header.count(c) > 1}
                if dupes:
                    raise CSVFileError(_("line %(line)d: column(s) %(columns)s appear twice",
                                         line=reader.line_num, columns=", ".join(sorted(dupes))))
                unknown = [c for c in header if c not in COLUMNS and c != "code"]
                if unknown:
                    warnings.append(_("ignored column(s): %(columns)s", columns=", ".join(unknown)))
                continue
            if len(record) > len(header):
                rows.append((reader.line_num, {"__extra__": "yes"}))
                continue
            rows.append((reader.line_num, dict(zip(header, record, strict=False))))
    except csv.Error as exc:
        raise CSVFileError(_("line %(line)d: broken CSV (%(error)s)", line=reader.line_num,
                             error=str(exc))) from exc
    if header is None:
        raise CSVFileError(_("the file has no header line"))
    return rows, warnings


def check_file(db: Database, data: bytes) -> tuple[Checked, list[str]]:
    """Read and check a participants file against the event without changing anything."""
    rows, warnings = read_rows(data)
    extra = [line for line, row in rows if "__extra__" in row]
    checked = check_rows(db, [(line, row) for line, row in rows if "__extra__" not in row])
    checked.problems.extend(Problem(line, _("more cells than the header has columns"))
                            for line in extra)
    checked.problems.sort(key=lambda p: p.line)
    return checked, warnings


def import_file(db: Database, data: bytes, dry_run: bool = False) -> dict[str, Any]:
    """Import a participants file all-or-nothing; with problems or dry_run, change nothing."""
    checked, warnings = check_file(db, data)
    result: dict[str, Any] = {"rows": len(checked.rows) + len({p.line for p in checked.problems}),
                              "problems": [str(p) for p in checked.problems],
                              "warnings": warnings, "created": 0, "updated": 0, "unchanged": 0}
    if checked.problems:
        return result
    result.update(save_rows(db, [row for _line, row in checked.rows], dry_run=dry_run))
    return result


def export_participants(db: Database, out: IO[str]) -> int:
    """Write every participant in the import's columns plus `code`; return how many."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, "code"])
    n = 0
    for row in db.query("SELECT * FROM participants ORDER BY last_name, first_name, id"):
        writer.writerow([spreadsheet_cell(row[c]) for c in (*COLUMNS, "code")])
        n += 1
    return n
