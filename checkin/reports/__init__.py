"""Attendance reports: who arrived when, who attended their working group and excursion, and
the numbers an organiser writes in the report afterwards. Plain functions over the database.

Definitions (documented in the report's header too):
- arrival time: the earliest valid, non-voided scan of the person anywhere (entrance, room
  or excursion), the same rule as "arrived" in the headcounts.
- working group attended: the person was inside their group's room during some part of the
  group's time (an "in" scan there, until their next scan, overlaps starts_at..ends_at).
  A group without times counts any "in" scan in its room. A person without a group: "".
- excursion: "confirmed" (confirmed at the excursion's checkpoint), "walk-on" (added on the
  spot and confirmed), "no-show" (assigned but never confirmed), "" (no excursion).
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from sqlite_utils import Database

from checkin.event import event_info, event_zone
from checkin.excursions import all_excursion_states
from checkin.scans.presence import EFFECTIVE, in_venue
from checkin.security.cells import spreadsheet_cell

PARTICIPANT_COLUMNS = ("id", "first_name", "last_name", "organisation", "organisation_type",
                       "city", "role", "arrived_at", "working_group", "working_group_attended",
                       "excursion", "excursion_status")
GROUP_COLUMNS = ("kind", "id", "title", "expected", "attended", "no_shows", "walk_ons",
                 "departed_at", "returned_at")


def _timeline(db: Database) -> dict[int, list[dict[str, Any]]]:
    """Every person's effective scans, in the order they happened."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in db.query("SELECT * FROM (" + EFFECTIVE + ") ORDER BY sort_at, seq"):  # noqa: S608
        out[row["participant_id"]].append(row)
    return out


def _attended(scans: list[dict[str, Any]], room_checkpoint: str, starts: str | None,
              ends: str | None) -> bool:
    """Say whether the scans put the person in the room during some part of [starts, ends)."""
    for n, scan in enumerate(scans):
        if scan["checkpoint"] != room_checkpoint or scan["direction"] != "in":
            continue
        if starts is None or ends is None:
            return True
        left = scans[n + 1]["sort_at"] if n + 1 < len(scans) else None
        if scan["sort_at"] < ends and (left is None or left > starts):
            return True
    return False


def attendance(db: Database) -> dict[str, Any]:
    """Return per-participant attendance rows and per working group and excursion totals."""
    timeline = _timeline(db)
    groups = {g["id"]: g for g in db.query("SELECT * FROM working_groups ORDER BY id")}
    excursions = {s["excursion"]["id"]: s for s in all_excursion_states(db)}
    roster_status = {}
    for state in excursions.values():
        for r in state["roster"]:
            if r["assigned"]:
                roster_status[r["id"]] = ("walk-on" if r["walk_on"] and r["status"] == "confirmed"
                                          else "confirmed" if r["status"] == "confirmed"
                                          else "no-show")
    people = []
    for p in db.query("SELECT * FROM participants ORDER BY last_name, first_name, id"):
        scans = timeline.get(p["id"], [])
        group = groups.get(p["working_group"])
        attended = ""
        if group and group["room"]:
            attended = "yes" if _attended(scans, f"room:{group['room']}", group["starts_at"],
                                          group["ends_at"]) else "no"
        people.append({
            "id": p["id"], "first_name": p["first_name"], "last_name": p["last_name"],
            "organisation": p["organisation"], "organisation_type": p["organisation_type"],
            "city": p["city"], "role": p["role"],
            "arrived_at": min((s["sort_at"] for s in scans), default=None),
            "working_group": p["working_group"] or "",
            "working_group_attended": attended,
            "excursion": p["excursion"] or "",
            "excursion_status": roster_status.get(p["id"], "") if p["excursion"] else "",
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
        totals.append({"kind": "excursion", "id": xid, "title": x["title"],
                       "expected": counts["expected"], "attended": counts["confirmed"],
                       "no_shows": counts["missing"], "walk_ons": counts["walk_ons"],
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


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def over_the_day(db: Database, step_minutes: int = 15) -> list[dict[str, Any]]:
    """Return, per time slot of the day, how many had arrived and how many were in the venue."""
    timeline = _timeline(db)
    zone = event_zone(db)
    day = (event_info(db) or {}).get("date")
    # The event's own day only (in its time zone): a test scan weeks before must not
    # stretch the chart over weeks. Without any scan on that day, the whole log.
    on_day = {pid: [s for s in scans if _parse(s["sort_at"]).astimezone(zone).date()
                    .isoformat() == day] for pid, scans in timeline.items()}
    if any(on_day.values()):
        timeline = {pid: scans for pid, scans in on_day.items() if scans}
    if not timeline:
        return []
    times = [s["sort_at"] for scans in timeline.values() for s in scans]
    step = timedelta(minutes=step_minutes)
    first = _parse(min(times)).astimezone(UTC)
    start = first.replace(minute=first.minute - first.minute % step_minutes, second=0,
                          microsecond=0)
    end = _parse(max(times)) + step
    slots = []
    moment = start
    keys = {pid: [s["sort_at"] for s in scans] for pid, scans in timeline.items()}
    while moment <= end and len(slots) < 200:
        stamp = moment.isoformat(timespec="milliseconds")
        arrived = inside = 0
        for pid, scans in timeline.items():
            n = bisect_right(keys[pid], stamp)
            if n:
                arrived += 1
                inside += in_venue(scans[n - 1]["checkpoint"], scans[n - 1]["direction"])
        slots.append({"at": stamp, "label": moment.astimezone(zone).strftime("%H:%M"),
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

    arrivals = sorted(p["arrived_at"] for p in people if p["arrived_at"])
    info = event_info(db) or {}
    return {
        "event": info,
        "registered": len(people),
        "arrived": len(arrivals),
        "first_arrival": arrivals[0] if arrivals else None,
        "last_arrival": arrivals[-1] if arrivals else None,
        "delegations": breakdown("city"),
        "organisation_types": breakdown("organisation_type"),
        "working_groups": [t for t in report["totals"] if t["kind"] == "working_group"],
        "excursions": [t for t in report["totals"] if t["kind"] == "excursion"],
        "over_the_day": over_the_day(db),
        "scans": db.execute("SELECT count(*) FROM scans").fetchone()[0],
        "timezone": str(event_zone(db)),
    }


def local_time(db: Database, value: str | None) -> str:
    """Return a stored UTC time as the event's local HH:MM, or '' for None."""
    if not value:
        return ""
    return _parse(value).astimezone(event_zone(db)).strftime("%H:%M")
