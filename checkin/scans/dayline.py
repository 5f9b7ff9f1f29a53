"""The day over time as projections: per person and local day, and where the venue changed.

Two tables, kept by checkin.scans.projections with every other projection:

- `person_days`: per person and local day (the event's time zone) their first and last
  effective scan that day and how many they have;
- `venue_steps`: a person's effective scans where "in the venue" changes (their first scan
  is always one), so that their state at any moment is that of their latest step.

From them the summary's chart over the day, the shown day and the count of scans outside it
cost the day's people and their steps, not the log (docs/counting.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from checkin.core.clock import local, now_iso, to_utc
from checkin.core.event import event_day, event_zone
from checkin.scans.log import in_venue

DAY_INSERT = ("INSERT INTO person_days (participant_id, day, first_at, last_at, scans) "
              "VALUES (?, ?, ?, ?, ?) ON CONFLICT(day, participant_id) DO UPDATE SET "
              "first_at = min(first_at, excluded.first_at), "
              "last_at = max(last_at, excluded.last_at), scans = scans + excluded.scans")
STEP_INSERT = "INSERT INTO venue_steps (participant_id, sort_at, seq, venue) VALUES (?, ?, ?, ?)"


def day_of(sort_at: str, zone: ZoneInfo) -> str:
    """Return the local calendar day (YYYY-MM-DD) a log time falls on in the event's zone."""
    found = local(sort_at, zone)
    assert found is not None
    return found.date().isoformat()


def day_rows(participant_id: int, scans: Iterable[dict[str, Any]], zone: ZoneInfo
             ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Return a person's `person_days` and `venue_steps` rows from their whole effective log."""
    days: dict[str, list[Any]] = {}
    steps = []
    before = None
    for scan in scans:
        day = days.setdefault(day_of(scan["sort_at"], zone), [scan["sort_at"], None, 0])
        day[1], day[2] = scan["sort_at"], day[2] + 1
        venue = in_venue(scan["kind"], scan["direction"])
        if venue != before:
            steps.append((participant_id, scan["sort_at"], scan["seq"], int(venue)))
            before = venue
    return [(participant_id, d, *v) for d, v in days.items()], steps


def rewrite_days(db: Database, participant_id: int, scans: list[dict[str, Any]]) -> None:
    """Replace a person's day rows with those of their whole effective log."""
    days, steps = day_rows(participant_id, scans, event_zone(db))
    db.execute("DELETE FROM person_days WHERE participant_id = ?", [participant_id])
    db.execute("DELETE FROM venue_steps WHERE participant_id = ?", [participant_id])
    db.conn.executemany(DAY_INSERT, days)
    db.conn.executemany(STEP_INSERT, steps)


def append_day(db: Database, participant_id: int, scan: dict[str, Any],
               before: dict[str, Any] | None) -> None:
    """Add a person's new latest effective scan to their day rows (`before`: the latest one
    until now, with its kind)."""
    db.execute(DAY_INSERT, [participant_id, day_of(scan["sort_at"], event_zone(db)),
                            scan["sort_at"], scan["sort_at"], 1])
    venue = in_venue(scan["kind"], scan["direction"])
    if before is None or venue != in_venue(before["kind"], before["direction"]):
        db.execute(STEP_INSERT, [participant_id, scan["sort_at"], scan["seq"], int(venue)])


# --------------------------------------------------------------------------- reads

def shown_day(db: Database) -> str | None:
    """Return the local day the chart shows: the event's, else the day with most scans."""
    counts = dict(db.execute("SELECT day, sum(scans) FROM person_days GROUP BY day "
                             "ORDER BY day").fetchall())
    day = event_day(db)
    if day is not None and (not counts or counts.get(day.isoformat())):
        return day.isoformat()
    return max(counts, key=lambda d: counts[d]) if counts else None


def scans_outside(db: Database, day: str) -> int:
    """Count the effective scans that lie outside a local day."""
    return db.execute("SELECT coalesce(sum(scans), 0) FROM person_days WHERE day != ?",
                      [day]).fetchone()[0]


def venue_over_day(db: Database, step_minutes: int) -> list[tuple[str, int, int]]:
    """Return (slot time, arrived, in the venue) per slot of the shown day, counting only
    that day's scans: a person arrives with their first scan of the day."""
    day = shown_day(db)
    people = db.execute("SELECT participant_id, first_at, last_at FROM person_days "
                        "WHERE day = ?", [day]).fetchall()
    if not people:
        return []
    # Changes of the two counts over the day: +1 arrived at a person's first scan of the day;
    # in the venue from then on as their latest step says (steps come in order per person).
    arrivals: dict[str, int] = defaultdict(int)
    changes: dict[str, int] = defaultdict(int)
    first = {pid: first_at for pid, first_at, _last in people}
    for first_at in first.values():
        arrivals[first_at] += 1
    pid_now, now, began = None, 0, ""
    for pid, at, venue in db.execute(
            "SELECT v.participant_id, v.sort_at, v.venue FROM venue_steps v JOIN person_days d "
            "ON d.participant_id = v.participant_id AND d.day = ? WHERE v.sort_at <= d.last_at "
            "ORDER BY v.participant_id, v.sort_at, v.seq", [day]):
        if pid != pid_now:
            pid_now, now, began = pid, 0, first[pid]
        # Before the first scan of the day a step only sets the state the day begins with.
        if venue != now:
            changes[max(at, began)] += venue - now
            now = venue
    step = timedelta(minutes=step_minutes)
    opening = to_utc(min(first.values()))
    moment = opening.replace(minute=opening.minute - opening.minute % step_minutes, second=0,
                             microsecond=0)
    end = to_utc(max(p[2] for p in people)) + step
    order = sorted(set(arrivals) | set(changes))
    slots, n, arrived, inside = [], 0, 0, 0
    while moment <= end and len(slots) < 200:
        stamp = now_iso(moment)
        while n < len(order) and order[n] <= stamp:
            arrived += arrivals.get(order[n], 0)
            inside += changes.get(order[n], 0)
            n += 1
        slots.append((stamp, arrived, inside))
        moment += step
    return slots
