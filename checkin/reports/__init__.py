"""Attendance reports: who arrived when, who attended their working group and excursion, and
the numbers an organiser writes in the report afterwards. Plain functions over the database.

Every number comes from the read model (checkin.scans.readmodel, docs/counting.md):
- arrival time: the person's earliest effective scan, the same rule as "arrived" everywhere.
- working group attended: "yes"/"no" by the read model's rule; "" without a group or room.
- excursion: the one the person is on today (a walk-on wins over the plan); its status
  "confirmed", "walk-on" (added on the spot and confirmed), "no-show" (expected, not
  confirmed, the excursion departed), "not departed yet" (expected, not confirmed, still
  boarding), "" (no excursion). The per-group totals count the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

from sqlite_utils import Database

from checkin.core.cells import spreadsheet_cell
from checkin.core.clock import clock_text, to_utc
from checkin.core.event import event_info, event_zone
from checkin.core.pool import progress
from checkin.rollcall import record as rollcall_record
from checkin.scans.dayline import venue_over_day
from checkin.scans.readmodel import (
    arrival_times,
    arrivals_by_person,
    excursion_counts,
    excursion_outcomes,
    excursion_statuses,
    group_attendance,
    outside_day,
    split_by_day,
)
from checkin.scans.scanlist import log_totals
from checkin.scans.tallies import tallies_of

PARTICIPANT_COLUMNS = ("id", "first_name", "last_name", "organisation", "organisation_type",
                       "city", "role", "arrived_at", "working_group", "working_group_attended",
                       "excursion", "excursion_status", "walk_in")
GROUP_COLUMNS = ("kind", "id", "title", "expected", "attended", "no_shows", "walk_ons",
                 "departed_at", "returned_at")


def attendance(db: Database) -> dict[str, Any]:
    """Return per-participant attendance rows and per working group and excursion totals."""
    arrived = arrivals_by_person(db)
    attended = group_attendance(db)
    on_excursion = excursion_outcomes(db)
    people = []
    for p in db.query("SELECT * FROM participants ORDER BY last_name, first_name, id"):
        excursion, outcome = on_excursion.get(p["id"], ("", ""))
        people.append({
            "id": p["id"], "first_name": p["first_name"], "last_name": p["last_name"],
            "organisation": p["organisation"], "organisation_type": p["organisation_type"],
            "city": p["city"], "role": p["role"],
            "arrived_at": arrived.get(p["id"]),
            "working_group": p["working_group"] or "",
            "working_group_attended": attended.get(p["id"], ""),
            "excursion": excursion, "excursion_status": outcome,
            "walk_in": "yes" if p.get("walk_in_at") else "",
        })
    return {"participants": people, "totals": attendance_totals(db)}


def attendance_totals(db: Database) -> list[dict[str, Any]]:
    """Return the per working group and per excursion totals, from the tallies alone."""
    got = tallies_of(db, "group", "attended")
    totals = []
    for g in db.query("SELECT id, title FROM working_groups ORDER BY id"):
        totals.append({"kind": "working_group", "id": g["id"], "title": g["title"],
                       "expected": got["group"].get(g["id"], 0),
                       "attended": got["attended"].get(g["id"], 0),
                       "no_shows": None, "walk_ons": None, "departed_at": None,
                       "returned_at": None})
    statuses = excursion_statuses(db)
    titles = dict(db.execute("SELECT id, title FROM excursions").fetchall())
    for xid, counts in excursion_counts(db).items():
        status = statuses[xid]
        # Nobody is a no-show before the bus has left.
        totals.append({"kind": "excursion", "id": xid, "title": titles[xid],
                       "expected": counts["expected"], "attended": counts["confirmed"],
                       "no_shows": None if status["status"] == "boarding"
                       else counts["missing"], "walk_ons": counts["walk_ons"],
                       "departed_at": status["departed_at"],
                       "returned_at": status["returned_at"]})
    return totals


# One function neutralises formulas in every export (issue 8).
_cell = spreadsheet_cell


# Rows per piece of a streamed CSV: big enough for few writes, small enough for flat memory.
CSV_PIECE_ROWS = 200


def csv_pieces(rows: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> Iterator[str]:
    """Yield rows as CSV text with a header line, a few hundred rows at a time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow([_cell(row[c]) for c in columns])
        if n % CSV_PIECE_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def write_csv(rows: Iterable[dict[str, Any]], columns: tuple[str, ...], out: IO[str]) -> int:
    """Write rows as CSV with a header line, piece by piece; return how many rows."""
    counted = _Counted(rows)
    for piece in csv_pieces(counted, columns):
        out.write(piece)
    return counted.n


class _Counted:
    """An iterable that counts the items it hands out."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items, self.n = items, 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.n += 1
            yield item


def write_xlsx(report: dict[str, Any], target: str | IO[bytes]) -> None:
    """Write the report as an Excel workbook (participants, then groups and excursions) to a
    path or binary file, in openpyxl's write-only mode: rows go out as they are appended."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    sheets = (("Participants", report["participants"], PARTICIPANT_COLUMNS),
              ("Groups and excursions", report["totals"], GROUP_COLUMNS))
    total = len(report["participants"]) + len(report["totals"])
    done = 0
    for title, rows, columns in sheets:
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        # Write-only sheets take their column widths before the first row.
        for n, col in enumerate(columns, 1):
            width = max([len(col)] + [len(str(r[col] or "")) for r in rows[:500]])
            ws.column_dimensions[get_column_letter(n)].width = min(width + 2, 50)
        ws.append(list(columns))
        for row in rows:
            ws.append([_cell(row[c]) for c in columns])
            done += 1
            if done % 500 == 0:
                progress(done, total)
    wb.save(target)
    progress(total, total)


def over_the_day(db: Database, step_minutes: int = 15) -> list[dict[str, Any]]:
    """Return, per time slot of the shown day (the event's in its time zone, see
    checkin.scans.dayline.shown_day), how many had arrived and were in the venue."""
    zone = event_zone(db)
    return [{"at": at, "label": clock_text(to_utc(at), zone), "arrived": arrived,
             "inside": inside} for at, arrived, inside in venue_over_day(db, step_minutes)]


def summary(db: Database) -> dict[str, Any]:
    """Return the numbers of the one-page summary: people, groups, excursions, delegations,
    organisation types and attendance over the day."""
    got = tallies_of(db, "registered", "arrived", "city", "city_arrived", "organisation_type",
                     "organisation_type_arrived")

    def breakdown(key: str) -> list[dict[str, Any]]:
        out = [{"name": name, "registered": n, "arrived": got[key + "_arrived"].get(name, 0)}
               for name, n in got[key].items()]
        return sorted(out, key=lambda i: (-i["registered"], i["name"]))

    arrivals, _outside = split_by_day(db, arrival_times(db))
    totals = attendance_totals(db)
    info = event_info(db) or {}
    return {
        "event": info,
        "registered": got["registered"].get("", 0),
        "arrived": got["arrived"].get("", 0),
        "first_arrival": arrivals[0] if arrivals else None,
        "last_arrival": arrivals[-1] if arrivals else None,
        "delegations": breakdown("city"),
        "organisation_types": breakdown("organisation_type"),
        "working_groups": [t for t in totals if t["kind"] == "working_group"],
        "excursions": [t for t in totals if t["kind"] == "excursion"],
        "over_the_day": over_the_day(db),
        # Scans far outside the event's day: listed apart, they never stretch an axis.
        "outside_day": outside_day(db),
        "scans": log_totals(db)["scans"],
        "timezone": str(event_zone(db)),
        "rollcalls": rollcall_record(db),
    }
