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
from bisect import bisect_right
from datetime import timedelta
from typing import IO, Any

from sqlite_utils import Database

from checkin.core.cells import spreadsheet_cell
from checkin.core.clock import clock_text, now_iso, to_utc
from checkin.core.event import event_info, event_zone
from checkin.rollcall import record as rollcall_record
from checkin.scans.readmodel import (
    all_excursion_states,
    day_window,
    excursion_outcome,
    group_attendance,
    in_venue,
    outside_day,
    split_by_day,
    timelines,
)
from checkin.scans.scanlist import log_totals

PARTICIPANT_COLUMNS = ("id", "first_name", "last_name", "organisation", "organisation_type",
                       "city", "role", "arrived_at", "working_group", "working_group_attended",
                       "excursion", "excursion_status", "walk_in")
GROUP_COLUMNS = ("kind", "id", "title", "expected", "attended", "no_shows", "walk_ons",
                 "departed_at", "returned_at")


def attendance(db: Database) -> dict[str, Any]:
    """Return per-participant attendance rows and per working group and excursion totals."""
    timeline = timelines(db)
    attended = group_attendance(db, timeline)
    groups = {g["id"]: g for g in db.query("SELECT * FROM working_groups ORDER BY id")}
    excursions = {s["excursion"]["id"]: s for s in all_excursion_states(db)}
    on_excursion: dict[int, tuple[str, str]] = {}
    for xid, state in excursions.items():
        for r in state["roster"]:
            if r["assigned"]:
                on_excursion[r["id"]] = xid, excursion_outcome(r, state["excursion"]["status"])
    people = []
    for p in db.query("SELECT * FROM participants ORDER BY last_name, first_name, id"):
        scans = timeline.get(p["id"], [])
        excursion, outcome = on_excursion.get(p["id"], ("", ""))
        people.append({
            "id": p["id"], "first_name": p["first_name"], "last_name": p["last_name"],
            "organisation": p["organisation"], "organisation_type": p["organisation_type"],
            "city": p["city"], "role": p["role"],
            "arrived_at": scans[0]["sort_at"] if scans else None,
            "working_group": p["working_group"] or "",
            "working_group_attended": attended.get(p["id"], ""),
            "excursion": excursion, "excursion_status": outcome,
            "walk_in": "yes" if p.get("walk_in_at") else "",
        })
    totals = []
    for gid, g in groups.items():
        mine = [r for r in people if r["working_group"] == gid]
        totals.append({"kind": "working_group", "id": gid, "title": g["title"],
                       "expected": len(mine),
                       "attended": sum(r["working_group_attended"] == "yes" for r in mine),
                       "no_shows": None, "walk_ons": None, "departed_at": None,
                       "returned_at": None})
    for xid, state in excursions.items():
        x, counts = state["excursion"], state["counts"]
        # Nobody is a no-show before the bus has left.
        totals.append({"kind": "excursion", "id": xid, "title": x["title"],
                       "expected": counts["expected"], "attended": counts["confirmed"],
                       "no_shows": None if x["status"] == "boarding" else counts["missing"],
                       "walk_ons": counts["walk_ons"],
                       "departed_at": x["departed_at"], "returned_at": x["returned_at"]})
    return {"participants": people, "totals": totals}


# One function neutralises formulas in every export (issue 8).
_cell = spreadsheet_cell


def write_csv(rows: list[dict[str, Any]], columns: tuple[str, ...], out: IO[str]) -> int:
    """Write rows as CSV with a header line; return how many rows were written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return len(rows)


def csv_text(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Return rows as CSV text (UTF-8 with BOM added by the caller for Excel)."""
    out = io.StringIO()
    write_csv(rows, columns, out)
    return out.getvalue()


def xlsx_bytes(report: dict[str, Any]) -> bytes:
    """Return the report as an Excel workbook: participants, then groups and excursions."""
    from openpyxl import Workbook

    wb = Workbook()
    sheets = ((wb.active, "Participants", report["participants"], PARTICIPANT_COLUMNS),
              (wb.create_sheet(), "Groups and excursions", report["totals"], GROUP_COLUMNS))
    for ws, title, rows, columns in sheets:
        ws.title = title
        ws.append(list(columns))
        for row in rows:
            ws.append([_cell(row[c]) for c in columns])
        ws.freeze_panes = "A2"
        for n, col in enumerate(columns, 1):
            width = max([len(col)] + [len(str(r[col] or "")) for r in rows[:500]])
            ws.column_dimensions[ws.cell(1, n).column_letter].width = min(width + 2, 50)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def over_the_day(db: Database, step_minutes: int = 15) -> list[dict[str, Any]]:
    """Return, per time slot of the event's day, how many had arrived and were in the venue."""
    timeline = timelines(db)
    zone = event_zone(db)
    # The shown day only (the event's, in its time zone; see day_window): a test scan weeks
    # before must not stretch the chart over weeks.
    window = day_window(db, [s["sort_at"] for scans in timeline.values() for s in scans])
    if window is not None:
        timeline = {pid: [s for s in scans if window[0] <= s["sort_at"] < window[1]]
                    for pid, scans in timeline.items()}
        timeline = {pid: scans for pid, scans in timeline.items() if scans}
    if not timeline:
        return []
    times = [s["sort_at"] for scans in timeline.values() for s in scans]
    step = timedelta(minutes=step_minutes)
    first = to_utc(min(times))
    start = first.replace(minute=first.minute - first.minute % step_minutes, second=0,
                          microsecond=0)
    end = to_utc(max(times)) + step
    slots = []
    moment = start
    keys = {pid: [s["sort_at"] for s in scans] for pid, scans in timeline.items()}
    while moment <= end and len(slots) < 200:
        stamp = now_iso(moment)
        arrived = inside = 0
        for pid, scans in timeline.items():
            n = bisect_right(keys[pid], stamp)
            if n:
                arrived += 1
                inside += in_venue(scans[n - 1]["kind"], scans[n - 1]["direction"])
        slots.append({"at": stamp, "label": clock_text(moment, zone),
                      "arrived": arrived, "inside": inside})
        moment += step
    return slots


def summary(db: Database) -> dict[str, Any]:
    """Return the numbers of the one-page summary: people, groups, excursions, delegations,
    organisation types and attendance over the day."""
    report = attendance(db)
    people = report["participants"]

    def breakdown(key: str) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for p in people:
            item = out.setdefault(p[key] or "", {"name": p[key] or "", "registered": 0,
                                                 "arrived": 0})
            item["registered"] += 1
            item["arrived"] += p["arrived_at"] is not None
        return sorted(out.values(), key=lambda i: (-i["registered"], i["name"]))

    arrivals, outside = split_by_day(db, sorted(p["arrived_at"] for p in people
                                                if p["arrived_at"]))
    info = event_info(db) or {}
    return {
        "event": info,
        "registered": len(people),
        "arrived": len(arrivals) + len(outside),
        "first_arrival": arrivals[0] if arrivals else None,
        "last_arrival": arrivals[-1] if arrivals else None,
        "delegations": breakdown("city"),
        "organisation_types": breakdown("organisation_type"),
        "working_groups": [t for t in report["totals"] if t["kind"] == "working_group"],
        "excursions": [t for t in report["totals"] if t["kind"] == "excursion"],
        "over_the_day": over_the_day(db),
        # Scans far outside the event's day: listed apart, they never stretch an axis.
        "outside_day": outside_day(db),
        "scans": log_totals(db)["scans"],
        "timezone": str(event_zone(db)),
        "rollcalls": rollcall_record(db),
    }
