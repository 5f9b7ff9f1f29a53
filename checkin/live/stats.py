"""Read-only numbers for the dashboard and the overview: arrivals over time and by group,
who has not arrived, recent scans, one person's day. Plain functions over the database.

Every count comes from the read model (checkin.scans.readmodel): "arrived" means a row in
the `location` projection (at least one effective scan), the arrival time is the earliest
effective scan.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from checkin.core.clock import clock_text, local, now_iso, to_utc
from checkin.core.event import event_info, event_zone  # noqa: F401 (event_zone: used by callers)
from checkin.scans.corrections import corrections_of
from checkin.scans.people import BY_NAME, name_matches, people, people_by, people_count, person
from checkin.scans.readmodel import (  # noqa: F401 (arrival_times: the dashboard's name)
    arrival_times,
    split_by_day,
    where_now,
)
from checkin.scans.scanlist import (  # noqa: F401 (latest_seq: the live layer's name)
    latest_seq,
    scan_rows_by_seq,
    scan_rows_of,
    scan_rows_since,
)

# The chart's bars: a quarter of an hour each, wider when the day's arrivals span long.
BUCKET_MINUTES = (15, 30, 60, 120, 240)
MAX_BUCKETS = 48
RECENT_SCANS = 30


def arrivals_timeline(db: Database) -> dict[str, Any]:
    """Return arrivals per time slot (local labels) and the running total, for the chart."""
    zone = event_zone(db)
    # The axis keeps to the event's day in its time zone; arrivals far outside it (a
    # rehearsal on another date, a device with a wrong clock) are counted apart.
    on_day, outside = split_by_day(db, arrival_times(db))
    times = [to_utc(t) for t in on_day]
    if not times:
        return {"bucket_minutes": BUCKET_MINUTES[0], "buckets": [], "total": 0,
                "outside_day": len(outside)}
    first, last = local(times[0], zone), local(times[-1], zone)
    span = (last - first).total_seconds() / 60
    minutes = next((m for m in BUCKET_MINUTES if span / m < MAX_BUCKETS), BUCKET_MINUTES[-1])
    # Slots start on the local clock's round numbers (09:00, 09:15, ...).
    start = first.replace(minute=first.minute - first.minute % minutes if minutes < 60 else 0,
                          second=0, microsecond=0)
    if minutes > 60:
        start = start.replace(hour=start.hour - start.hour % (minutes // 60))
    step = timedelta(minutes=minutes)
    count = int((last - start) / step) + 1
    if count > MAX_BUCKETS:
        # Stragglers from days before (a device that kept scans offline for long): the chart
        # shows the last MAX_BUCKETS slots and counts earlier arrivals in the first one.
        start = start + step * (count - MAX_BUCKETS)
        count = MAX_BUCKETS
    counts = [0] * count
    for moment in times:
        index = max(0, int((local(moment, zone) - start) / step))
        counts[min(index, count - 1)] += 1
    buckets, total = [], 0
    for n, c in enumerate(counts):
        total += c
        slot = start + step * n
        buckets.append({"start": now_iso(slot, "seconds"),
                        "label": clock_text(slot, zone), "count": c, "total": total})
    return {"bucket_minutes": minutes, "buckets": buckets, "total": total,
            "outside_day": len(outside)}


def arrivals_by(db: Database, column: str) -> list[dict[str, Any]]:
    """Return registered and arrived people per value of a participants column, largest first."""
    # The people view's excursion is the one a person is on today (walk-ons over the plan).
    return people_by(db, column)


def arrivals(db: Database) -> dict[str, Any]:
    """Return what the dashboard charts: arrivals over time, by delegation, by organisation type."""
    return {"timeline": arrivals_timeline(db), "by_city": arrivals_by(db, "city"),
            "by_type": arrivals_by(db, "organisation_type")}


def overview_numbers(db: Database) -> dict[str, Any]:
    """Return arrived against registered overall, per delegation, type, working group, excursion."""
    registered, arrived = people_count(db), people_count(db, "v.arrived")
    groups = {r["id"]: r for r in db.query(
        "SELECT w.id, w.title, w.area, w.room AS room_id, r.name AS room FROM working_groups w "
        "LEFT JOIN rooms r ON r.id = w.room")}
    excursions = {r["id"]: r for r in db.query("SELECT id, title FROM excursions")}
    by_group = []
    for row in arrivals_by(db, "working_group"):
        group = groups.get(row["key"])
        by_group.append({**row, "title": group["title"] if group else "",
                         "area": group["area"] if group else "",
                         "room": group["room"] if group else "",
                         "room_id": group["room_id"] if group else None})
    by_excursion = []
    for row in arrivals_by(db, "excursion"):
        excursion = excursions.get(row["key"])
        by_excursion.append({**row, "title": excursion["title"] if excursion else ""})
    return {"registered": registered, "arrived": arrived,
            "by_city": arrivals_by(db, "city"), "by_type": arrivals_by(db, "organisation_type"),
            "by_group": sorted(by_group, key=lambda r: (r["title"] == "", r["area"], r["title"])),
            "by_excursion": sorted(by_excursion, key=lambda r: (r["title"] == "", r["title"]))}


def not_arrived(db: Database, q: str = "", limit: int = 200) -> tuple[list[dict[str, Any]], int]:
    """Return people without any valid scan matching every word of `q`, and how many match."""
    where, params = name_matches(q.split()[:5],
                                 ("first_name", "last_name", "organisation", "city"))
    where.insert(0, "NOT v.arrived")
    found = people(db, " AND ".join(where), params, BY_NAME, limit)
    return found, people_count(db, " AND ".join(where), params)


def _scan_row(row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Shape one of the read model's scan rows as the `scans` event and the overview carry it."""
    device = row["device_name"] or ""
    if device.startswith("organiser:"):
        device = device.split(":", 1)[1]
    return {
        "id": row["id"], "seq": row["seq"], "time": row["sort_at"],
        "received_at": row["received_at"],
        "participant": row["participant_id"], "participant_name": row["participant_name"],
        "checkpoint": row["checkpoint"],
        "checkpoint_name": row["checkpoint_name"] or row["checkpoint"],
        "direction": row["direction"], "device": row["device_id"], "device_name": device,
        "source": row["source"], "status": row["status"], "reason": row["reason"],
        "detail": json.loads(row["detail"]) if row["detail"] else {},
        "voided": bool(row["voided"]), "moved_to": row["moved_to"],
        "moved_to_name": names.get(row["moved_to"] or "", row["moved_to"]),
    }


def _checkpoint_names(db: Database) -> dict[str, str]:
    return dict(db.execute("SELECT id, name FROM checkpoints").fetchall())


def scans_by_seq(db: Database, seqs: list[int]) -> list[dict[str, Any]]:
    """Return the given scans (by seq) as organisers see them, oldest first."""
    found = scan_rows_by_seq(db, seqs)
    names = _checkpoint_names(db) if found else {}
    return [_scan_row(r, names) for r in found]


def scans_since(db: Database, since: int, limit: int = 200) -> list[dict[str, Any]]:
    """Return the scans stored after seq `since` (the newest `limit` of them), oldest first."""
    names = _checkpoint_names(db)
    return [_scan_row(r, names) for r in scan_rows_since(db, since, limit)]


def recent_scans(db: Database, limit: int = RECENT_SCANS) -> list[dict[str, Any]]:
    """Return the newest scans, newest first."""
    return list(reversed(scans_since(db, 0, limit)))


def participant_day(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Return one person's day: every scan (with its corrections) and where they are now."""
    found = person(db, participant_id)
    if found is None:
        return None
    names = _checkpoint_names(db)
    scans = [_scan_row(r, names) for r in scan_rows_of(db, participant_id)]
    corrections = corrections_of(db, [scan["id"] for scan in scans])
    for scan in scans:
        scan["corrections"] = corrections.get(scan["id"], [])
    where = where_now(db, participant_id)
    return {"participant": found, "scans": scans, "location": where}
