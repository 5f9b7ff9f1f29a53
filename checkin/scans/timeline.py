"""The day over time: arrivals, the day the charts show, scans outside it, group attendance."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from checkin.core.clock import day_span, local, now_iso
from checkin.core.event import event_day, event_zone
from checkin.scans.dayline import day_of, scans_outside
from checkin.scans.log import effective_sql
from checkin.scans.sql import rows

# --------------------------------------------------------------------------- arrivals

def arrivals_by_person(db: Database) -> dict[int, str]:
    """Return each arrived person's arrival time (their first effective scan), from the
    `attendance` projection."""
    return dict(db.execute("SELECT participant_id, arrived_at FROM attendance").fetchall())


def arrival_times(db: Database) -> list[str]:
    """Return every arrived person's arrival time, sorted."""
    return sorted(arrivals_by_person(db).values())


def _window(day: date, zone: ZoneInfo) -> tuple[str, str]:
    """Return a local calendar day as [start, end) UTC log strings."""
    start, end = day_span(day, zone)
    return now_iso(start), now_iso(end)


def day_window(db: Database, times: list[str] | None = None) -> tuple[str, str] | None:
    """Return the day that charts and the summary show, as [start, end) UTC log strings.

    The event's date in its time zone; if nothing of `times` lies on it (a rehearsal
    played on another date), the local day holding most of `times`. None: no date at all.
    """
    zone = event_zone(db)
    day = event_day(db)
    window = _window(day, zone) if day is not None else None
    if times and (window is None or not any(window[0] <= t < window[1] for t in times)):
        days: dict[date, int] = defaultdict(int)
        for t in times:
            days[local(t, zone).date()] += 1
        window = _window(max(sorted(days), key=lambda d: days[d]), zone)
    return window


def split_by_day(db: Database, times: list[str]) -> tuple[list[str], list[str]]:
    """Split log times into those on the shown day (see day_window) and those outside it."""
    window = day_window(db, times)
    if window is None:
        return list(times), []
    on = [t for t in times if window[0] <= t < window[1]]
    return on, [t for t in times if not window[0] <= t < window[1]]



def outside_day(db: Database, limit: int = 20) -> dict[str, Any]:
    """Return how many effective scans lie outside the shown day, and the first `limit`."""
    window = day_window(db, arrival_times(db))
    if window is None:
        return {"count": 0, "scans": []}
    # Effective scans only, as every other count: rejected and voided ones count nowhere.
    # The count comes from the per-day projection; the log is read only to list them.
    count = scans_outside(db, day_of(window[0], event_zone(db)))
    if not count:
        return {"count": 0, "scans": []}
    # A move changes no time, so the window narrows the raw scans. Those before the window
    # come first, then those after it: each part read in the log's time order (index
    # scans_sort) only as far as the list needs, never the whole log.
    found: list[dict[str, Any]] = []
    for part in ("s.sort_at < :at", "s.sort_at >= :at"):
        if len(found) >= limit:
            break
        outside = effective_sql(part, kind=False)
        found += rows(
            db, "SELECT e.id, e.sort_at, e.checkpoint, e.direction, e.participant_id, "  # noqa: S608
                "p.first_name || ' ' || p.last_name AS participant_name "
                f"FROM ({outside}) e LEFT JOIN participants p ON p.id = e.participant_id "
                "ORDER BY e.sort_at, e.seq LIMIT :limit",
            {"at": window[0] if part.endswith("< :at") else window[1],
             "limit": limit - len(found)})
    return {"count": count, "scans": found}

# --------------------------------------------------------------------------- working groups

def attended_group(scans: list[dict[str, Any]], room: str, starts: str | None,
                   ends: str | None) -> bool:
    """Say whether a person's effective scans put them in `room` during [starts, ends)."""
    for n, scan in enumerate(scans):
        if scan["kind"] != "room" or scan["ref"] != room or scan["direction"] != "in":
            continue
        if starts is None or ends is None:
            return True
        left = scans[n + 1]["sort_at"] if n + 1 < len(scans) else None
        if scan["sort_at"] < ends and (left is None or left > starts):
            return True
    return False


def group_attendance(db: Database) -> dict[int, str]:
    """Return per person whether they attended their working group: 'yes', 'no' or ''.

    '' without a group or without a room for it; the rest from the `attendance` projection.
    """
    return dict(db.execute(
        "SELECT p.id, CASE WHEN w.room IS NULL THEN '' WHEN a.attended THEN 'yes' ELSE 'no' END "
        "FROM participants p LEFT JOIN working_groups w ON w.id = p.working_group "
        "LEFT JOIN attendance a ON a.participant_id = p.id").fetchall())
