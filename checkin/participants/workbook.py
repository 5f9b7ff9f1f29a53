"""Reading participant lists from Excel workbooks (.xlsx), as organisers keep them."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from flask_babel import gettext as _

from checkin.core.errors import DomainError, say
from checkin.participants.columns import ALIASES, key
from checkin.participants.records import MAX_LENGTH, Problem

MAX_ROWS = 100_000
# A hundred thousand people with ten columns each; more takes openpyxl minutes and gigabytes.
MAX_CELLS = 1_000_000
# A cell's start tag in a worksheet's XML, with or without a namespace prefix: <c r="A1" ...>.
CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,31}:)?c[\s/>]")
# Longer than any match of CELL_TAG: how far back from a block's end a tag may have begun.
CELL_TAG_SPAN = 64
# More columns than any participants list has; the Upload page takes this many assignments.
MAX_COLUMNS = 200
MAX_UNPACKED = 200 * 1024 * 1024
# The header is looked for in the first rows: lists often start with a title line or two.
HEADER_SEARCH = 10


class FileError(DomainError, ValueError):
    """The file cannot be read as a participants list at all: a catalogue entry (422, or 415
    for a format we do not read), worded in the reader's language and in English for the
    server's log (`in_english`). `detail` is the technical cause, for the log only.
    """

    def __init__(self, key: str, /, detail: str = "", **params: Any):
        super().__init__(key, **params)
        self.detail = detail

    def in_english(self) -> str:
        """The message in English, with the technical detail if there is one."""
        text = self.text.render("en")
        return f"{text} [{self.detail}]" if self.detail else text


class UnsupportedFormat(FileError):
    """The file is of a kind we do not read (.ods, .numbers, .xls, any other zip)."""


@contextmanager
def damaged_workbook() -> Iterator[None]:
    """Turn any failure of the zip and XML readers on untrusted bytes into a FileError.

    A corrupt file makes zipfile, zlib, lxml and openpyxl fail in dozens of ways (zlib.error,
    XMLSyntaxError, IndexError, TypeError, NotImplementedError...): each is the file's fault,
    never the server's, and the organiser needs the same advice for all of them.
    """
    try:
        yield
    except FileError:
        raise
    except Exception as exc:
        raise FileError("file.damaged_workbook", detail=_cause(exc)) from exc


def _cause(exc: Exception) -> str:
    """The technical cause of a failed read, for the log: with its message where that names
    only parts and positions (zip, zlib, XML syntax); else its type alone, as a value
    converter's message may quote a cell, and the log holds no personal data."""
    if isinstance(exc, zipfile.BadZipFile | zlib.error | SyntaxError | NotImplementedError):
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return type(exc).__name__


@dataclass
class Table:
    """A participants file read as text: its header, its rows, and what was wrong with cells."""

    header_line: int
    header: list[str]
    rows: list[tuple[int, list[str]]]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)


def is_workbook(data: bytes) -> bool:
    """Say whether the bytes are a zip container, as .xlsx workbooks are."""
    # A member's header, an empty archive's end record, or a split archive's marker.
    return data[:2] == b"PK" and data[2:4] in (b"\x03\x04", b"\x05\x06", b"\x07\x08")


def count_cells(archive: zipfile.ZipFile) -> int:
    """Count the cells of the archive's worksheets, reading them as a stream; stop counting
    past MAX_CELLS.

    openpyxl builds an object per cell for every sheet (28 s and 700 MB for a 2.4 MB file
    of a million cells): a workbook that holds too many is refused before it is parsed.
    """
    count = 0
    for info in archive.infolist():
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        with archive.open(info) as member:
            tail = b""
            while chunk := member.read(1 << 20):
                block = tail + chunk
                # Up to the last "<" near the end: a cell's tag is never split between two
                # blocks, and the tail carried over stays short.
                cut = block.rfind(b"<", max(0, len(block) - CELL_TAG_SPAN))
                cut = len(block) if cut < 0 else cut
                count += len(CELL_TAG.findall(block, 0, cut))
                tail = block[cut:]
                if count > MAX_CELLS:
                    return count
            count += len(CELL_TAG.findall(tail))
    return count


def check_container(data: bytes) -> None:
    """Refuse a zip file that unpacks into too much, or that is not an .xlsx workbook, saying
    what it is."""
    with damaged_workbook(), zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > MAX_UNPACKED:
            # A small file that unpacks into gigabytes would take the server's memory. The
            # sizes are the archive's own claims, but zipfile stops reading a member at its
            # claimed size (and then fails its checksum), so a lie cannot unpack more.
            raise FileError("file.unpacks_too_large", n=MAX_UNPACKED // (1024 * 1024))
        names = {info.filename for info in infos}
        if count_cells(archive) > MAX_CELLS:
            raise FileError("file.too_many_cells", n=MAX_CELLS)
        mimetype = b""
        if "mimetype" in names:
            with archive.open("mimetype") as member:
                mimetype = member.read(100)
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        raise UnsupportedFormat("file.ods")
    if "Index.zip" in names or any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
        raise UnsupportedFormat("file.numbers")
    if "xl/workbook.bin" in names:
        raise UnsupportedFormat("file.xlsb")
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise UnsupportedFormat("file.zip")


def check_header(cells: list[str]) -> int:
    """Refuse a header no participants list has: too many columns, or a name as long as a
    paragraph (binary data read as text, or a file without a header); return its width (up
    to its last named column)."""
    width = max((i + 1 for i, c in enumerate(cells) if c.strip()), default=0)
    if width > MAX_COLUMNS:
        raise FileError("file.header_columns", n=MAX_COLUMNS)
    for i, cell in enumerate(cells[:width]):
        if len(cell.strip()) > MAX_LENGTH:
            raise FileError("file.long_header_name", n=i + 1, max=MAX_LENGTH)
    return width


def find_header(rows: list[tuple[int, list[str]]], overrides: dict[str, str] | None = None
                ) -> int:
    """Index of the header among the first rows: the first with two recognised column names
    (or names the organiser assigned); else the first row."""
    known = {key(k) for k in overrides or {}}
    for i, (_line, cells) in enumerate(rows[:HEADER_SEARCH]):
        if sum(1 for c in cells if key(c) in ALIASES or (c.strip() and key(c) in known)) >= 2:
            return i
    return 0


def _text(value: Any) -> str:
    """A cell's value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # postcodes and numbers typed as numbers: 26122, not 26122.0
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def read_workbook(data: bytes, sheet: str | None = None,
                  overrides: dict[str, str] | None = None) -> Table:
    """Read the first sheet (or the named one) of an .xlsx workbook as a table of text.

    Formula cells, error cells and merged cells in the list are problems of their row:
    their value is not what the organiser sees, or not in every cell it seems to be in.
    """
    # Imported here: openpyxl takes a quarter of a second to import, which every server
    # start would pay, while workbooks are read a few times per event.
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    # openpyxl warns about what it skips in a file (extensions, invalid relationships,
    # styles): nothing an organiser can act on, and the server's terminal gets one line per
    # refused upload only. Set on each read (an identical filter replaces itself), as the
    # filters may have been reset since the last one (pytest does, per test).
    warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")
    check_container(data)
    with damaged_workbook():
        book = load_workbook(io.BytesIO(data), data_only=False)
    # Worksheets only: a chart sheet has no cells to read.
    names = [ws.title for ws in book.worksheets]
    if not names:
        raise FileError("file.no_sheets")
    if sheet is not None and sheet not in names:
        raise FileError("file.no_such_sheet", sheet=repr(sheet), sheets=", ".join(names))
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    if ws.max_row > MAX_ROWS:
        raise FileError("file.too_many_rows", n=MAX_ROWS)
    if ws.max_column > MAX_COLUMNS:
        # Reading makes a cell object for every row and column: a value in column XFD
        # would make a 100,000-row sheet 1.6 billion of them.
        raise FileError("file.too_many_columns", n=MAX_COLUMNS)
    raw: list[tuple[int, list[Any]]] = []
    for row in ws.iter_rows():
        raw.append((row[0].row if row else len(raw) + 1, list(row)))
    texts = [(line, [_text(c.value) for c in cells]) for line, cells in raw]
    filled = [(line, cells) for line, cells in texts if any(c.strip() for c in cells)]
    if not filled:
        raise FileError("file.empty_sheet", sheet=repr(ws.title))
    at = find_header(filled, overrides)
    header_line, header_cells = filled[at]
    width = check_header(header_cells)
    last_data = max(line for line, _cells in filled)
    table = Table(header_line, [], [], sheet=ws.title, sheets=names)
    if at:
        table.warnings.append(_("rows %(first)d to %(last)d above the header were skipped",
                                first=filled[0][0], last=filled[at - 1][0]))
    empty: list[int] = []
    cells_by_line = dict(raw)
    for line, cells in texts:
        if line <= header_line:
            continue
        if not any(c.strip() for c in cells):
            if line < last_data:
                empty.append(line)
            continue
        extra = [get_column_letter(i + 1) for i, c in enumerate(cells[width:], width)
                 if c.strip()]
        if extra:
            table.problems.append(Problem(line, say(
                "row.cells_without_header", cells=", ".join(f"{col}{line}" for col in extra))))
        for cell in cells_by_line[line][:width]:
            if cell.data_type == "f":
                table.problems.append(Problem(line, say(
                    "row.formula_cell", cell=cell.coordinate, formula=_text(cell.value)[:60])))
            elif cell.data_type == "e":
                table.problems.append(Problem(line, say(
                    "row.error_cell", cell=cell.coordinate, error=_text(cell.value))))
        table.rows.append((line, cells[:width]))
    table.header = [c.strip() or _("(column %(letter)s)", letter=get_column_letter(i + 1))
                    for i, c in enumerate(header_cells[:width])]
    for merged in ws.merged_cells.ranges:
        if merged.max_row >= header_line and merged.min_col <= width:
            table.problems.append(Problem(max(merged.min_row, header_line), say(
                "row.merged", range=merged.coord)))
    if empty:
        table.warnings.append(_("empty row(s) %(rows)s were skipped",
                                rows=", ".join(map(str, empty[:20]))
                                + (" …" if len(empty) > 20 else "")))
    if len(names) > 1:
        table.warnings.append(_("read the sheet %(sheet)s; the workbook also has %(others)s",
                                sheet=repr(ws.title),
                                others=", ".join(repr(n) for n in names if n != ws.title)))
    return table
