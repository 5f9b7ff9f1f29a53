"""Issue 20: no 5xx from any upload.

Every broken participants file is a clear 4xx on the Upload page, in the reader's language,
and one line from `checkin import`; nothing is imported. Hypothesis fuzzes the upload with
bytes, mutated and truncated real workbooks and CSVs made here from a good file, and random
zip members (CHECKIN_FUZZ_UPLOADS sets the number of examples). The real server logs one
line per refused upload and no traceback.
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkin.cli import cli
from checkin.participants.columns import FIELDS
from checkin.participants.workbook import count_cells
from tests.conftest import csrf_token
from tests.test_import_columns import xlsx
from tests.test_live import _organiser_session

EXAMPLES = int(os.environ.get("CHECKIN_FUZZ_UPLOADS", "400"))
HEADER = ["Vorname", "Nachname", "E-Mail", "Stadt", "Sprache"]
ROWS = [["Jürgen", "Kröger", "jk@example.de", "Bremen", "Deutsch"],
        ["Marijke", "van der Veen", "mv@example.nl", "Groningen", "Nederlands"]]
GOOD_XLSX = xlsx([HEADER, *ROWS])
GOOD_CSV = "\r\n".join(";".join(r) for r in [HEADER, *ROWS]).encode("utf-8") + b"\r\n"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def members(data: bytes) -> dict[str, bytes]:
    """The parts of a zip file by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip file of `parts`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


PARTS = members(GOOD_XLSX)
# Stored, not deflated: a flipped byte lands in the XML instead of failing the checksum.
GOOD_STORED = zipped(PARTS, zipfile.ZIP_STORED)
# By name, so that hypothesis's reports do not print the files.
GOOD = {"xlsx": GOOD_XLSX, "stored": GOOD_STORED, "csv": GOOD_CSV}


def good(name: str) -> bytes:
    """The good file of that name."""
    return GOOD[name]


def sheet_xml(rows: str) -> bytes:
    """A worksheet part holding `rows` (<row> elements)."""
    return f'<worksheet {NS}><sheetData>{rows}</sheetData></worksheet>'.encode()


def bomb() -> bytes:
    """A workbook of under 1 MB that unpacks into more than 200 MB."""
    return zipped({**PARTS, "xl/worksheets/sheet1.xml": b" " * (201 * 1024 * 1024)})


# name, file, status, what the page says (English), what `checkin import` says
BROKEN = [
    ("empty", "leer.csv", lambda: b"", 422, "the file is empty", None),
    ("not a zip", "x.xlsx", lambda: b"PK\x03\x04 not a zip at all", 422,
     "damaged or incomplete", None),
    ("zip without workbook parts", "x.xlsx", lambda: zipped({"notes.txt": b"hello"}), 415,
     "a zip archive, not an Excel workbook", None),
    ("workbook part missing", "x.xlsx", lambda: zipped(
        {k: v for k, v in PARTS.items() if k != "xl/workbook.xml"}), 422,
     "damaged or incomplete", None),
    ("truncated", "x.xlsx", lambda: GOOD_XLSX[:len(GOOD_XLSX) // 2], 422,
     "damaged or incomplete", None),
    ("workbook XML empty", "x.xlsx", lambda: zipped({**PARTS, "xl/workbook.xml": b""}), 422,
     "damaged or incomplete", None),
    ("sheet XML broken", "x.xlsx", lambda: zipped(
        {**PARTS, "xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row"}), 422,
     "damaged or incomplete", None),
    ("zip bomb", "x.xlsx", bomb, 422, "unpacks to more than 200 MB", None),
    ("too many rows", "x.xlsx", lambda: zipped({**PARTS, "xl/worksheets/sheet1.xml": sheet_xml(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Vorname</t></is></c></row>'
        '<row r="100001"><c r="A100001"><v>1</v></c></row>')}), 422,
     "more than 100000 rows", None),
    ("a million cells", "x.xlsx", lambda: zipped({
        **PARTS, "xl/worksheets/sheet1.xml": sheet_xml('<row r="1">' + "<c/>" * 1_000_001
                                                       + "</row>")}), 422,
     "more than 1000000 cells in use", None),
    ("a cell in column XFD", "x.xlsx", lambda: zipped({
        **PARTS, "xl/worksheets/sheet1.xml": sheet_xml(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>Vorname</t></is></c>'
            '<c r="XFD1"><v>1</v></c></row>')}), 422, "more than 200 columns", None),
    ("over the upload limit", "x.csv", lambda: GOOD_CSV + b"x" * (10 * 1024 * 1024), 413,
     "The file is too large (the limit is 10 MB)", "larger than 10 MB"),
    (".xls", "x.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, 415,
     "an old Excel file (.xls)", None),
    (".ods", "x.ods", lambda: zipped({
        "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
        "content.xml": b"<office:document-content/>"}, zipfile.ZIP_STORED), 415,
     "an OpenDocument spreadsheet (.ods)", None),
    (".numbers", "x.numbers", lambda: zipped({"Index/Document.iwa": b"\x00\x01",
                                              "Metadata/Properties.plist": b"x"}), 415,
     "an Apple Numbers file", None),
    (".xlsb", "x.xlsb", lambda: zipped({"[Content_Types].xml": b"<Types/>",
                                        "xl/workbook.bin": b"\x83\x01"}), 415,
     "a binary Excel workbook (.xlsb)", None),
    ("UTF-16 without byte-order mark", "x.csv",
     lambda: GOOD_CSV.decode().encode("utf-16-le"), 422, "UTF-16 text without a byte-order",
     None),
    ("binary garbage", "x.csv", lambda: bytes(range(256)) * 8, 422, "the file is binary", None),
    ("NUL bytes in a CSV", "x.csv", lambda: GOOD_CSV.replace(b"Bremen", b"Bre\x00men"), 422,
     "the file is binary", None),
    ("not Windows-1252 either", "x.csv", lambda: GOOD_CSV + b"\x81\x8d\x8f\x90\x9d\r\n", 422,
     "neither UTF-8 nor Windows-1252", None),
    ("one huge line", "x.csv", lambda: GOOD_CSV + b"Ada;" + b"L" * 200_000 + b"\r\n", 422,
     "line 4: broken CSV", None),
    ("a paragraph for a header", "x.csv", lambda: b"x" * 300 + b";Nachname\r\nAda;L\r\n", 422,
     "has a name of more than 200 characters", None),
    ("300 columns", "x.csv", lambda: b";".join(b"c%d" % i for i in range(300)) + b"\r\n", 422,
     "the header has more than 200 columns", None),
]


def broken(name: str) -> Any:
    """The function making the broken file of that name."""
    return next(make for case, _file, make, *_rest in BROKEN if case == name)


TRANSLATED = {  # a refusal in each language, as the page says it
    "de": ("beschädigt oder unvollständig", "OpenDocument-Tabelle (.ods)",
           "Die Datei ist zu groß"),
    "nl": ("beschadigd of onvolledig", "OpenDocument-spreadsheet (.ods)",
           "Het bestand is te groot"),
}


def snapshot(db) -> list[tuple[Any, ...]]:
    """Every participant and every code, as stored."""
    return [tuple(r) for r in db.execute("SELECT * FROM participants ORDER BY id")] + \
        [tuple(r) for r in db.execute("SELECT * FROM codes ORDER BY rowid")]


def upload(client, data: bytes, name: str, **headers: str):
    token = csrf_token(client, "/participants/upload")
    return client.post("/participants/upload", content_type="multipart/form-data",
                       headers=headers, data={"csrf_token": token,
                                              "file": (io.BytesIO(data), name)})


def page_token(page: str) -> str | None:
    found = re.search(r'name="token" value="([^"]+)"', page)
    return found.group(1) if found else None


@pytest.mark.parametrize("case", BROKEN, ids=[c[0] for c in BROKEN])
def test_every_broken_file_is_a_clear_4xx_and_one_line_from_checkin_import(
        case, organiser, db, db_path, tmp_path):
    _name, filename, make, status, said, cli_said = case
    data = make()
    before = snapshot(db)
    response = upload(organiser, data, filename)
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    assert said in page and 'id="upload-error"' in page
    assert snapshot(db) == before
    path = tmp_path / filename
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["--db", str(db_path), "import", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}: "), result.stderr
    assert (cli_said or said) in lines[0]
    assert snapshot(db) == before


@pytest.mark.parametrize("lang", sorted(TRANSLATED))
def test_refusals_speak_the_readers_language(lang, organiser, db):
    damaged, ods, large = TRANSLATED[lang]
    for name, status, said in (("workbook XML empty", 422, damaged), (".ods", 415, ods),
                               ("over the upload limit", 413, large)):
        response = upload(organiser, broken(name)(), "x", **{"Accept-Language": lang})
        assert response.status_code == status
        assert said in response.get_data(as_text=True), name


def test_markup_and_invisible_characters_in_names_are_problems_of_their_line(organiser, db):
    before = snapshot(db)
    data = GOOD_CSV + "<b>Ada</b>;Lovelace;;Bremen;\r\nAnouk;Bijl;;\u202eGroningen;\r\n".encode()
    response = upload(organiser, data, "x.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    # The fields are named as the page labels them.
    assert re.search(r'<td class="line">4</td><td>First name contains &lt; or &gt;', page)
    assert re.search(r'<td class="line">5</td><td>City \(delegation\) contains an invisible or '
                     r'text-direction character \(U\+202E', page)
    token = page_token(page)
    confirm = organiser.post("/participants/upload/confirm", data={
        "token": token, "csrf_token": csrf_token(organiser, "/participants/upload")})
    assert confirm.status_code == 409
    assert snapshot(db) == before


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_a_good_csv_in_any_of_excels_encodings_is_read_alike(encoding, organiser, db):
    data = GOOD_CSV.decode().encode(encoding)
    response = upload(organiser, data, "Teilnehmer.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Kröger" in page and "van der Veen" in page


@pytest.mark.parametrize(("unit", "cells"), [
    (b'<c r="A1" s="3"/>', 1), (b'<x:c r="A1"><x:v>1</x:v></x:c>', 1),
    (b"<cols><col/></cols><c>1</c>", 1), (b'<row r="1"><c/><c t="s"><v>0</v></c></row>', 2)])
def test_cells_are_counted_exactly_across_the_blocks_read(unit, cells):
    # 2-7 MB of XML: read in 1 MB blocks, with tags cut at every block's end.
    archive = zipfile.ZipFile(io.BytesIO(zipped({"xl/worksheets/sheet1.xml": unit * 200_003})))
    assert count_cells(archive) == cells * 200_003


def test_the_log_line_holds_no_cell_of_the_file(organiser, caplog):
    # openpyxl's message for a number cell holding text quotes the text: a name.
    data = zipped({**PARTS, "xl/worksheets/sheet1.xml": sheet_xml(
        '<row r="1"><c r="A1" t="n"><v>Jürgen Kröger</v></c></row>')})
    with caplog.at_level(logging.WARNING, logger="checkin"):
        # A terminal escape in the name reaches the log escaped.
        response = upload(organiser, data, "\x1b[31mTeilnehmer.xlsx")
    assert response.status_code == 422
    assert [r.getMessage() for r in caplog.records] == [
        f"upload refused (422): '\\x1b[31mTeilnehmer.xlsx', {len(data)} bytes: the file cannot be "
        "read as an Excel workbook (.xlsx): it is damaged or incomplete; open it in Excel and "
        "save it again [ValueError]"]


@st.composite
def mutated(draw: Any, original: str | bytes) -> bytes:
    """A good file (by its name in GOOD, or its bytes) with a few bytes changed, inserted or
    removed at random offsets."""
    data = bytearray(GOOD[original] if isinstance(original, str) else original)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        what = draw(st.sampled_from(["flip", "insert", "delete"]))
        if what == "flip":
            data[at] = draw(st.integers(0, 255))
        elif what == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at:at + draw(st.integers(1, 64))]
    return bytes(data)


cell_value = st.one_of(st.text(max_size=12), st.integers().map(str),
                       st.sampled_from(["1e999", "-", "TRUE", "#REF!", "2019-11-12", "0x1"]))


@st.composite
def random_sheet(draw: Any) -> bytes:
    """A worksheet part of random cells: types and values a sheet should not hold, too."""
    rows = []
    for r in draw(st.lists(st.integers(0, 200), max_size=6)):
        cells = "".join(
            f'<c r="{col}{r}" t="{kind}"><v>{value}</v></c>'
            for col, kind, value in draw(st.lists(st.tuples(
                st.sampled_from(["A", "B", "C", "AA", "ZZ", "1", ""]),
                st.sampled_from(["n", "s", "b", "e", "str", "d", "inlineStr", "x"]),
                cell_value.map(lambda v: v.replace("&", "&amp;").replace("<", "&lt;"))),
                max_size=5)))
        rows.append(f'<row r="{r}">{cells}</row>')
    return sheet_xml("".join(rows))


@st.composite
def random_members(draw: Any) -> bytes:
    """The good workbook's parts, some dropped, replaced, truncated, and others added."""
    parts = dict(PARTS)
    for name in draw(st.lists(st.sampled_from(sorted(PARTS)), max_size=3)):
        parts[name] = draw(st.one_of(
            st.just(b""), st.binary(max_size=200), random_sheet(),
            st.integers(0, len(PARTS[name])).map(lambda n, name=name: PARTS[name][:n])))
    for name in draw(st.lists(st.sampled_from(sorted(PARTS)), max_size=2)):
        parts.pop(name, None)
    # Any name zipfile can write: not empty once it drops what follows a NUL and leading "/".
    names = st.text(alphabet=st.characters(exclude_characters="\x00/\\"), min_size=1,
                    max_size=20)
    for name in draw(st.lists(st.one_of(names, st.sampled_from(
            ["mimetype", "xl/sharedStrings.xml", "xl/worksheets/sheet2.xml",
             "Index/Document.iwa"])), max_size=2)):
        parts[name] = draw(st.one_of(st.binary(max_size=100), random_sheet()))
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    return zipped(parts, method)


@st.composite
def any_csv(draw: Any) -> bytes:
    """A CSV of random cells in one of the encodings Excel writes, or a broken one."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    rows = [HEADER, *draw(st.lists(st.lists(st.text(max_size=10), max_size=6), max_size=5))]
    text = "\r\n".join(sep.join(r) for r in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le",
                                     "latin-1"]))
    data = text.encode(encoding, errors="replace")
    return draw(st.one_of(st.just(data), mutated(data) if data else st.just(data)))


files = st.one_of(
    st.tuples(st.just("x.csv"), st.binary(max_size=2000)),
    st.tuples(st.just("x.xlsx"), st.one_of(mutated("xlsx"), mutated("stored"))),
    st.tuples(st.just("x.xlsx"), st.integers(0, len(GOOD_STORED)).map(
        lambda n: GOOD_STORED[:n])),
    st.tuples(st.just("x.csv"), st.integers(0, len(GOOD_CSV)).map(lambda n: GOOD_CSV[:n])),
    st.tuples(st.just("x.xlsx"), random_members()),
    st.tuples(st.just("x.csv"), any_csv()),
    st.tuples(st.sampled_from(["Teilnehmer.xlsx", "<b>x</b>.xlsx", "a\u202ex.xlsx"]),
              st.sampled_from(["xlsx", "stored"]).map(good)),
)


@pytest.mark.slow
def test_fuzz_uploads_never_a_5xx_and_nothing_imported_unless_valid(organiser, db,
                                                                      record_property):
    statuses: Counter[int | str] = Counter()
    csrf = csrf_token(organiser, "/participants/upload")

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(files, st.data())
    def one_upload(file: tuple[str, bytes], data: st.DataObject) -> None:
        name, content = file
        statuses["examples"] += 1
        before = snapshot(db)
        response = organiser.post("/participants/upload", content_type="multipart/form-data",
                                  data={"csrf_token": csrf, "file": (io.BytesIO(content), name)})
        statuses[response.status_code] += 1
        page = response.get_data(as_text=True)
        assert response.status_code < 500, page
        assert response.status_code in (200, 413, 415, 422), response.status_code
        # A preview changes nothing, whatever the file.
        assert snapshot(db) == before
        token = page_token(page)
        if token is None:
            return
        status = response.status_code
        if data.draw(st.booleans()):
            # Check again with another sheet and other columns, as the organiser may choose.
            chosen = data.draw(st.lists(st.tuples(
                st.one_of(st.sampled_from([*HEADER, "Name", ""]), st.text(max_size=8)),
                st.sampled_from([*FIELDS, "ignore", "bogus"])), max_size=4))
            again = organiser.post("/participants/upload/columns", data={
                "csrf_token": csrf, "token": token,
                "sheet": data.draw(st.one_of(st.sampled_from(["", "Teilnehmer", "Sheet"]),
                                             st.text(max_size=10))),
                "column": [c for c, _f in chosen], "field": [f for _c, f in chosen]})
            statuses[again.status_code] += 1
            assert again.status_code in (200, 415, 422), again.get_data(as_text=True)
            assert snapshot(db) == before
            status = again.status_code
        confirm = organiser.post("/participants/upload/confirm",
                                 data={"csrf_token": csrf, "token": token})
        statuses[confirm.status_code] += 1
        assert confirm.status_code < 500, confirm.get_data(as_text=True)
        if status == 200:
            assert confirm.status_code == 302  # a valid file is imported
        else:
            # A file with problems is not, not even in part.
            assert confirm.status_code in (409, 422)
            assert snapshot(db) == before

    one_upload()
    record_property("upload_statuses", dict(statuses))
    assert statuses["examples"] >= EXAMPLES, statuses
    assert not [s for s in statuses if isinstance(s, int) and s >= 500], statuses
    # The fuzzing reaches both the refusals and the real import.
    assert statuses[422] and statuses[200] and statuses[302], statuses
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_checkin_import_prints_one_line_and_no_traceback(db_path, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(zipped({**PARTS, "xl/workbook.xml": b""}))
    done = subprocess.run([sys.executable, "-m", "checkin.cli", "--db", str(db_path), "import",
                           str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{path}: the file cannot be read as an Excel workbook (.xlsx): it is damaged or "
        "incomplete; open it in Excel and save it again"]


@pytest.mark.server
def test_the_server_logs_one_line_per_refused_upload_and_no_traceback(live_server):
    session = _organiser_session(live_server.url)

    def send(name: str, data: bytes) -> int:
        html = session.get(live_server.url + "/participants/upload", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        return session.post(live_server.url + "/participants/upload", timeout=30,
                            data={"csrf_token": token},
                            files={"file": (name, data)}).status_code

    sizes = []
    for i, (case, filename, make, status, _said, _cli) in enumerate(BROKEN):
        data = make()
        sizes.append(len(data))
        assert send(f"{i}-{filename}", data) == status, case
    assert send("good.csv", GOOD_CSV) == 200
    log = live_server.log_path.read_text()
    assert "Traceback" not in log, log
    lines = [line for line in log.splitlines() if "upload refused" in line]
    assert len(lines) == len(BROKEN), log
    for i, (line, size, (_case, filename, _make, status, said, _cli)) in enumerate(
            zip(lines, sizes, BROKEN, strict=True)):
        assert f"upload refused ({status}): " in line, line
        if status == 413:  # a body over the limit is not read, so neither is its name
            assert line.endswith("bytes: over the limit of 10 MB"), line
        else:
            assert f"'{i}-{filename}', {size} bytes: " in line and said in line, line
    # The technical cause, for whoever reads the terminal.
    empty = lines[[case for case, *_rest in BROKEN].index("workbook XML empty")]
    assert "save it again [XMLSyntaxError: Document is empty" in empty, empty
