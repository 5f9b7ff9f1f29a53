"""Attendance reports: the CSV and Excel files (command and downloads) and the summary page,
checked against counts made here from a known day."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from checkin.cli import cli
from checkin.excursions import record_event
from checkin.scans import organiser_actor, record_scans, undo_scan

ORGA = organiser_actor("orga")


def scan(db, person: int, checkpoint: str, direction: str, at: str) -> str:
    scan_id = str(uuid.uuid4())
    record_scans(db, ORGA, [{"id": scan_id, "participant": person, "checkpoint": checkpoint,
                             "direction": direction, "at": f"2019-11-12T{at}:00.000+00:00"}])
    return scan_id


def people_in(db, group: str) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM participants WHERE working_group = ? "
                                     "ORDER BY id", [group])]


@pytest.fixture
def day(db):
    """A known day. Working groups meet 10:30-12:30 Amsterdam time = 09:30-11:30 UTC."""
    a, b, c = people_in(db, "bibliotheken")[:3]           # room kamer-a
    d, e = people_in(db, "obdachlosigkeit")[:2]           # room kamer-b
    never = people_in(db, "abfall")[0]                     # never comes
    scan(db, a, "entrance", "in", "08:00")
    scan(db, a, "room:kamer-a", "in", "09:35")
    scan(db, a, "room:kamer-a", "out", "11:25")             # attended
    scan(db, b, "entrance", "in", "08:10")
    scan(db, b, "room:kamer-a", "in", "11:40")             # after the group's end: no
    scan(db, c, "room:kamer-a", "in", "08:00")             # first scan in the room, stays: yes
    scan(db, d, "entrance", "in", "07:50")
    scan(db, d, "room:kamer-b", "in", "08:00")
    scan(db, d, "room:kamer-b", "out", "09:00")            # left before it began: no
    scan(db, e, "entrance", "in", "09:00")
    scan(db, e, "room:kamer-a", "in", "10:00")             # another group's room: no

    forum = [r[0] for r in db.execute("SELECT id FROM participants WHERE excursion = 'forum' "
                                      "AND id NOT IN (?, ?, ?, ?, ?) ORDER BY id",
                                      [a, b, c, d, e])]
    walker = db.execute("SELECT id FROM participants WHERE excursion = 'avebe' AND id NOT IN "
                        "(?, ?, ?, ?, ?) ORDER BY id", [a, b, c, d, e]).fetchone()[0]
    scan(db, forum[0], "excursion:forum", "in", "13:10")   # confirmed
    voided = scan(db, forum[1], "excursion:forum", "in", "13:12")
    undo_scan(db, ORGA, voided)                            # undone: a no-show after all
    scan(db, walker, "excursion:forum", "in", "13:20")
    record_event(db, "forum", {"id": "walk-on-1", "action": "walk_on", "participant": walker,
                               "at": "2019-11-12T13:21:00Z"})
    record_event(db, "forum", {"id": "depart-1", "action": "depart",
                               "at": "2019-11-12T13:30:00Z"})
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "never": never, "forum": forum,
            "walker": walker}


def expected_rows(db, day, excel: bool = False) -> dict[int, dict[str, str]]:
    """What the participant rows must say, from the day above and nothing else."""
    attended = {day["a"]: "yes", day["b"]: "no", day["c"]: "yes", day["d"]: "no",
                day["e"]: "no"}
    arrival = {day["a"]: "08:00", day["b"]: "08:10", day["c"]: "08:00", day["d"]: "07:50",
               day["e"]: "09:00", day["forum"][0]: "13:10", day["walker"]: "13:20"}
    out = {}
    for pid, group, excursion in db.execute(
            "SELECT id, working_group, excursion FROM participants"):
        status = ""
        if pid == day["walker"]:
            excursion = "forum"  # the day's walk-on wins over the plan
        if excursion == "forum":
            status = "walk-on" if pid == day["walker"] else \
                "confirmed" if pid == day["forum"][0] else "no-show"
        elif excursion:
            status = "not departed yet"  # still boarding: nobody is a no-show yet
        out[pid] = {
            # Exports speak the event's time (Amsterdam, +01:00 in November): CSV as ISO 8601
            # with the offset, Excel as a real date-time on that wall clock.
            "arrived_at": (local(arrival[pid], excel) if pid in arrival else ""),
            "working_group_attended": attended.get(pid, "no") if group else "",
            "excursion": excursion or "", "excursion_status": status}
    return out


def local(utc_hhmm: str, excel: bool) -> str:
    """The export's text for 2019-11-12 at `utc_hhmm` UTC, in the event's time zone."""
    hour, minute = utc_hhmm.split(":")
    wall = f"{int(hour) + 1:02d}:{minute}:00"
    return f"2019-11-12 {wall}" if excel else f"2019-11-12T{wall}+01:00"


def check_participants(rows: list[dict[str, str]], expected: dict[int, dict[str, str]]) -> None:
    assert len(rows) == len(expected) == 60
    for row in rows:
        want = expected[int(row["id"])]
        got = {k: (row[k] or "") for k in want}
        assert got == want, row


def expected_totals(db, day) -> dict[tuple[str, str], dict[str, int]]:
    out = {}
    for gid, n in db.execute("SELECT working_group, count(*) FROM participants "
                             "GROUP BY working_group"):
        out[("working_group", gid)] = {"expected": n, "attended": 0}
    out[("working_group", "bibliotheken")]["attended"] = 2          # a and c
    for xid, n in db.execute("SELECT excursion, count(*) FROM participants "
                             "WHERE excursion IS NOT NULL GROUP BY excursion"):
        out[("excursion", xid)] = {"expected": n, "attended": 0}
    out[("excursion", "forum")]["attended"] = 2                     # forum[0] and the walker
    out[("excursion", "forum")]["expected"] += 1                    # the walker, from avebe:
    out[("excursion", "avebe")]["expected"] -= 1                    # the day wins over the plan
    return out


def check_totals(rows: list[dict[str, str]], expected) -> None:
    assert len(rows) == len(expected) == 12
    for row in rows:
        want = expected[(row["kind"], row["id"])]
        assert (int(row["expected"]), int(row["attended"])) == \
            (want["expected"], want["attended"]), row
        if row["kind"] == "excursion" and row["id"] == "forum":
            assert int(row["no_shows"]) == want["expected"] - 2
            assert int(row["walk_ons"]) == 1
            assert row["departed_at"].replace(" ", "T").startswith("2019-11-12T14:30")


def test_export_attendance_csv(db, db_path, day, tmp_path):
    out = tmp_path / "attendance.csv"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "export", "attendance", "-o",
                                      str(out)])
    assert result.exit_code == 0, result.output
    assert "60 participant(s)" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    check_participants(rows, expected_rows(db, day))
    groups = tmp_path / "attendance-groups.csv"
    totals = list(csv.DictReader(io.StringIO(groups.read_text(encoding="utf-8-sig"))))
    check_totals(totals, expected_totals(db, day))


def test_export_attendance_xlsx(db, db_path, day, tmp_path):
    out = tmp_path / "attendance.xlsx"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "export", "attendance", "-o",
                                      str(out)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["Participants", "Groups and excursions"]

    def rows(ws) -> list[dict[str, str]]:
        values = list(ws.iter_rows(values_only=True))
        return [{h: ("" if v is None else str(v)) for h, v in zip(values[0], r, strict=True)}
                for r in values[1:]]

    # Real date-times, not text.
    arrived = [r[7] for r in wb["Participants"].iter_rows(min_row=2, values_only=True) if r[7]]
    assert arrived and all(isinstance(v, datetime) for v in arrived)
    check_participants(rows(wb["Participants"]), expected_rows(db, day, excel=True))
    check_totals(rows(wb["Groups and excursions"]), expected_totals(db, day))


def test_downloads_are_for_organisers(organiser, db, day):
    for path in ("/reports/attendance.csv", "/reports/attendance-groups.csv",
                 "/reports/attendance.xlsx", "/reports/summary"):
        anonymous = organiser.application.test_client().get(path)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    response = organiser.get("/reports/attendance.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    check_participants(rows, expected_rows(db, day))
    groups = organiser.get("/reports/attendance-groups.csv").get_data().decode("utf-8-sig")
    check_totals(list(csv.DictReader(io.StringIO(groups))), expected_totals(db, day))
    xlsx = organiser.get("/reports/attendance.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_summary_page(organiser, db, day):
    html = organiser.get("/reports/summary").get_data(as_text=True)

    def number(ident: str) -> int:
        match = re.search(rf'id="{ident}">(\d+)<', html)
        assert match, ident
        return int(match.group(1))

    arrived = db.execute("SELECT count(DISTINCT participant_id) FROM scans WHERE status != "
                         "'rejected' AND participant_id IS NOT NULL AND id NOT IN "
                         "(SELECT scan_id FROM corrections WHERE action = 'void')").fetchone()[0]
    assert number("n-registered") == 60
    assert number("n-arrived") == arrived == 7
    assert number("n-absent") == 53
    assert html.count("<svg") == 3 and 'role="img"' in html
    forum = re.search(r'<tr data-id="forum">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="num">(\d+)</td>', forum)
    expected = db.execute("SELECT count(*) FROM participants WHERE excursion = 'forum'"
                          ).fetchone()[0] + 1  # the walk-on from avebe
    assert cells == [str(expected), "2", str(expected - 2), "1"]
    assert "14:30" in forum  # departed 13:30 UTC = 14:30 in Groningen
    library = re.search(r'<tr data-id="bibliotheken">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', library) == ["10", "2"]
    # Delegations and organisation types add up to everyone.
    section = html.split('id="delegations"')[1].split("</table>")[0]
    assert sum(int(n) for n in re.findall(r'<td class="num">(\d+)</td>', section)[::2]) == 60
    assert "@media print" in organiser.get("/static/css/reports.css").get_data(as_text=True)



def test_outside_the_day_counts_only_effective_scans(organiser, db, day):
    """Scans outside the event's day are counted as every other number: a voided or rejected
    scan there is no scan (the count once read every row of the log)."""
    from checkin.core.clock import now_iso

    # The server accepts times near its own clock, which lie outside the demo's day.
    person = day["never"]
    kept = f"late-{uuid.uuid4()}"
    voided = f"late-{uuid.uuid4()}"
    at = now_iso()
    record_scans(db, ORGA, [
        {"id": kept, "participant": person, "checkpoint": "entrance", "direction": "in",
         "at": at},
        {"id": voided, "participant": person, "checkpoint": "entrance", "direction": "out",
         "at": at},
        {"id": f"late-{uuid.uuid4()}", "code": "UNKNOWN-CODE-1", "checkpoint": "entrance",
         "direction": "in", "at": at}])
    undo_scan(db, ORGA, voided)
    assert db.execute("SELECT count(*) FROM scans WHERE id LIKE 'late-%'").fetchone()[0] == 3
    html = organiser.get("/reports/summary").get_data(as_text=True)
    footnote = re.search(r'<p class="footnote" id="outside-day">(.*?)</p>', html, re.S).group(1)
    assert footnote.startswith("1 scans lie outside")
    assert footnote.count("<time") == 1

def test_spreadsheet_formulas_are_defused(db, tmp_path):
    from checkin.reports import csv_pieces

    text = "".join(csv_pieces([{"a": "=HYPERLINK(1)", "b": "-2+3", "c": "plain"}],
                              ("a", "b", "c")))
    assert text.splitlines()[1] == "'=HYPERLINK(1),'-2+3,plain"


@pytest.mark.browser
@pytest.mark.server
def test_summary_in_the_browser_and_as_one_pdf_page(live_server, browser, db_path):
    from pypdf import PdfReader

    from checkin.core.db import connect
    from tests.conftest import ARTIFACTS, axe_violations, browser_login

    db = connect(db_path)
    for n, pid in enumerate(r[0] for r in db.execute("SELECT id FROM participants LIMIT 40")):
        scan(db, pid, "entrance", "in", f"0{7 + n // 20}:{n % 20 * 3:02d}")
    db.conn.close()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, live_server.url)
    page.goto(live_server.url + "/reports/summary")
    assert page.locator("#n-arrived").text_content() == "40"
    assert page.locator("svg[role=img]").count() == 3
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "summary.png"), full_page=True)
    page.emulate_media(media="print")
    pdf = ARTIFACTS / "summary.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    assert len(PdfReader(pdf).pages) == 1
