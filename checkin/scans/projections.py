"""The read model's projections, kept current on write: a person's rows, and the tallies.

Every write that changes what a person counts as (a scan, a correction or undo, a walk-on, a
re-import of their plan) calls `refresh_person` inside its own transaction, and only that
person's rows change:

- `location`: their latest effective scan (checkin.scans.presence);
- `attendance`: arrived_at (their earliest effective scan) and attended (1: their scans put
  them in their working group's room during its time) — a row only for people who arrived;
- `aboard`: per excursion checkpoint where their latest effective scan is 'in', its time;
- `person_days`, `venue_steps`: the day over time (checkin.scans.dayline);
- `counted`: the tally keys (what, key) the person counts in now; `tallies` holds how many
  people count in each key. The difference between the keys stored and the keys now is
  added to `tallies`, so a tally is never recounted from the log or from all people.

A new scan that is the person's latest (every live scan is) is folded into their rows as
they were: only what it can change is read (their bus, the scans around their group's time).
Anything else (a late offline scan that falls before others, a correction, a walk-on, a
change of the plan) re-reads the person's effective log: O(their log) with the
scans_participant index. Depart and return events change no person's rows: "returned" is
read from the excursion's events when a count is shown. The log stays the truth:
checkin.scans.rebuild recomputes all of this (`checkin rebuild`) with person_rows() and
day_rows(), the functions the writes use, and erasure changes none of it (ids, times and
counts; the city stays in the erased participant's row too).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, groupby
from typing import Any

from sqlite_utils import Database

from checkin.core.db import writing
from checkin.core.event import event_zone
from checkin.scans.dayline import DAY_INSERT, STEP_INSERT, append_day, day_rows, rewrite_days
from checkin.scans.log import (
    NEWEST,
    effective_scans,
    effective_sql,
    history_before,
    in_venue,
)
from checkin.scans.presence import LOCATION_INSERT, store_location
from checkin.scans.sql import rows
from checkin.scans.timeline import attended_group

# The plan of people as their tallies need it: group, its room and times, city, type, the
# excursion of the plan and of the day's latest walk-on (the partial walk-on index finds it).
_PLAN = """
SELECT p.id, p.working_group, w.room, w.starts_at, w.ends_at, p.city, p.organisation_type,
  p.excursion, (SELECT e.excursion FROM excursion_events e WHERE e.participant_id = p.id
                AND e.action = 'walk_on' ORDER BY e.seq DESC LIMIT 1) AS walk_on
FROM participants p LEFT JOIN working_groups w ON w.id = p.working_group
"""
ABOARD_INSERT = ("INSERT INTO aboard (checkpoint, participant_id, excursion, sort_at) "
                 "VALUES (?, ?, ?, ?)")
PROJECTIONS = ("location", "attendance", "aboard", "counted", "tallies", "person_days",
               "venue_steps")


@dataclass
class PersonRows:
    """What one person's effective scans and plan make of them in every projection."""

    latest: dict[str, Any] | None
    arrived_at: str | None
    attended: bool
    aboard: dict[str, tuple[str, str]]
    keys: set[tuple[str, str]] = field(default_factory=set)


def _aboard(scans: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Return, per excursion checkpoint, (excursion, time) where the person's latest
    effective scan there is 'in' (`scans` in the order they happened, with kind and ref)."""
    aboard: dict[str, tuple[str, str]] = {}
    for scan in scans:
        if scan["kind"] == "excursion":
            aboard.pop(scan["checkpoint"], None)
            if scan["direction"] == "in":
                aboard[scan["checkpoint"]] = (scan["ref"], scan["sort_at"])
    return aboard


def _attended(plan: dict[str, Any], scans: list[dict[str, Any]]) -> bool:
    """Say whether these effective scans put the person in their group's room in its time."""
    return bool(plan["working_group"] and plan["room"]) and attended_group(
        scans, plan["room"], plan["starts_at"], plan["ends_at"])


def with_keys(plan: dict[str, Any], found: PersonRows) -> PersonRows:
    """Fill in the tally keys a person counts in, from their plan and projection rows."""
    group, latest = plan["working_group"], found.latest
    excursion = plan["walk_on"] if plan["walk_on"] is not None else plan["excursion"]
    keys = {("registered", ""), ("city", plan["city"]),
            ("organisation_type", plan["organisation_type"])}
    if group:
        keys.add(("group", group))
    if plan["room"]:
        keys.add(("room_expected", plan["room"]))
    if excursion:
        keys.add(("expected", excursion))
    if plan["walk_on"] is not None:
        keys.add(("walk_ons", plan["walk_on"]))
    if found.attended:
        keys.add(("attended", group))
    for ref, _at in found.aboard.values():
        keys.add(("confirmed" if ref == excursion else "not_on_list", ref))
    if latest is not None:
        keys |= {("arrived", ""), ("city_arrived", plan["city"]),
                 ("organisation_type_arrived", plan["organisation_type"])}
        if in_venue(latest["kind"], latest["direction"]):
            keys.add(("venue", ""))
        if latest["kind"] == "room" and latest["direction"] == "in":
            keys.add(("inside", latest["checkpoint"]))
    found.keys = keys
    return found


def person_rows(plan: dict[str, Any], scans: list[dict[str, Any]]) -> PersonRows:
    """Return a person's projection rows from their plan (a _PLAN row) and whole effective log
    (what the rebuild does; a new latest scan is folded in by _appended)."""
    return with_keys(plan, PersonRows(scans[-1] if scans else None,
                                      scans[0]["sort_at"] if scans else None,
                                      _attended(plan, scans), _aboard(scans)))


def _appended(db: Database, plan: dict[str, Any], participant_id: int, old: PersonRows,
              scan: dict[str, Any]) -> PersonRows:
    """Return a person's rows after a new effective scan that is now their latest, from their
    rows before it.

    Only what the scan can change is read again, each part bounded by an index: the group's
    time (if the scan falls before its end) and the scan's excursion checkpoint.
    """
    arrived_at = old.arrived_at or scan["sort_at"]
    attended = old.attended
    if plan["room"] and not (plan["ends_at"] and scan["sort_at"] >= plan["ends_at"]):
        attended = _attended(plan, _around_group(db, plan, participant_id))
    aboard = dict(old.aboard)
    if scan["kind"] == "excursion":
        aboard.pop(scan["checkpoint"], None)
        last = next(history_before(db, participant_id, NEWEST, scan["checkpoint"]), None)
        if last is not None and last["direction"] == "in":
            aboard[scan["checkpoint"]] = (scan["ref"], last["sort_at"])
    return with_keys(plan, PersonRows(scan, arrived_at, attended, aboard))


def _around_group(db: Database, plan: dict[str, Any], participant_id: int
                  ) -> list[dict[str, Any]]:
    """Return the effective scans that decide whether a person attended their group.

    Only a stay that began at the group's start or before it (the last such scan) or during
    its time can overlap it; a scan after its end never changes "attended". A group without
    times counts any 'in' scan in its room: the whole log.
    """
    if not (plan["starts_at"] and plan["ends_at"]):
        return effective_scans(db, participant_id)
    before = next(history_before(db, participant_id, plan["starts_at"]), None)
    during = rows(db, effective_sql(
        "s.participant_id = :pid AND s.sort_at > :starts AND s.sort_at < :ends",
        "ORDER BY e.sort_at, e.seq"), {"pid": participant_id, "starts": plan["starts_at"],
                                       "ends": plan["ends_at"]})
    return ([before] if before else []) + during


def _stored(db: Database, participant_id: int) -> tuple[PersonRows, set[tuple[str, str]]]:
    """Return a person's rows as the projections hold them now, and their tally keys."""
    old = PersonRows(None, None, False, {})
    stored: set[tuple[str, str]] = set()
    for table, a, b, c, d, e, f in db.execute(_OLD, {"pid": participant_id}):
        if table == "location":
            old.latest = {"seq": a, "checkpoint": b, "direction": c, "sort_at": d, "kind": e,
                          "ref": f}
        elif table == "attendance":
            old.arrived_at, old.attended = a, bool(b)
        elif table == "aboard":
            old.aboard[a] = (b, c)
        else:
            stored.add((a, b))
    return old, stored


# A person's rows in every projection, in one read.
_OLD = """
SELECT 'location', l.scan_seq, l.checkpoint, l.direction, l.sort_at, c.kind, c.ref
  FROM location l LEFT JOIN checkpoints c ON c.id = l.checkpoint WHERE l.participant_id = :pid
UNION ALL SELECT 'attendance', arrived_at, attended, NULL, NULL, NULL, NULL
  FROM attendance WHERE participant_id = :pid
UNION ALL SELECT 'aboard', checkpoint, excursion, sort_at, NULL, NULL, NULL
  FROM aboard WHERE participant_id = :pid
UNION ALL SELECT 'counted', what, key, NULL, NULL, NULL, NULL
  FROM counted WHERE participant_id = :pid
"""


def refresh_person(db: Database, participant_id: int,
                   appended: dict[str, Any] | None = None) -> None:
    """Recompute one person's projection rows and their share of the tallies from the log.

    `appended`: the new scan (a stored scans row) when that is all that changed: if the
    effective log has it as the person's latest (every live scan is), only what it can
    change is read again. Otherwise (a late offline scan, a correction, a
    walk-on, a change of the plan) the person's whole log is read.
    """
    with writing(db):
        plan = rows(db, _PLAN + " WHERE p.id = ?", [participant_id])
        if not plan:
            return
        old, stored = _stored(db, participant_id)
        # The scan is folded in only if the effective log says it is now the person's latest
        # (not voided, not one the log leaves out, not placed before others).
        latest = None if appended is None else next(
            history_before(db, participant_id, NEWEST), None)
        if latest is not None and latest["seq"] == appended["seq"]:
            new = _appended(db, plan[0], participant_id, old, latest)
            append_day(db, participant_id, latest, old.latest)
        else:
            # A scan sent late that falls before others, a correction, a walk-on, a change
            # of the plan: the person's whole log.
            scans = effective_scans(db, participant_id)
            new = person_rows(plan[0], scans)
            rewrite_days(db, participant_id, scans)
        store_location(db, participant_id, new.latest)
        if (new.arrived_at, new.attended) == (old.arrived_at, old.attended):
            pass  # most scans change neither the arrival nor the group: no write
        elif new.arrived_at is not None:
            db.execute("INSERT INTO attendance (participant_id, arrived_at, attended) "
                       "VALUES (?, ?, ?) ON CONFLICT(participant_id) DO UPDATE SET "
                       "arrived_at = excluded.arrived_at, attended = excluded.attended",
                       [participant_id, new.arrived_at, int(new.attended)])
        else:
            db.execute("DELETE FROM attendance WHERE participant_id = ?", [participant_id])
        if old.aboard != new.aboard:
            db.execute("DELETE FROM aboard WHERE participant_id = ?", [participant_id])
            db.conn.executemany(ABOARD_INSERT, [(cp, participant_id, x, at)
                                                for cp, (x, at) in new.aboard.items()])
        # Only the difference touches the tallies: a scan that changes nothing counted
        # writes no tally at all.
        gained, lost = new.keys - stored, stored - new.keys
        db.conn.executemany("INSERT INTO counted (participant_id, what, key) VALUES (?, ?, ?)",
                            [(participant_id, w, k) for w, k in gained])
        db.conn.executemany("DELETE FROM counted WHERE participant_id = ? AND what = ? "
                            "AND key = ?", [(participant_id, w, k) for w, k in lost])
        db.conn.executemany("INSERT INTO tallies (what, key, n) VALUES (?, ?, ?) "
                            "ON CONFLICT(what, key) DO UPDATE SET n = n + excluded.n",
                            [(w, k, 1) for w, k in gained] + [(w, k, -1) for w, k in lost])


def refresh_people(db: Database, participant_ids: Iterable[int]) -> None:
    """Recompute the projection rows of several people (an import of the plan) in one go."""
    with writing(db):
        for pid in sorted(set(participant_ids)):
            refresh_person(db, pid)


def _logs_by_person(db: Database) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Yield (person, their effective scans in order) for everyone with a scan, by person id,
    holding one person's scans at a time (a million scans must not fill the memory)."""
    cursor = db.conn.execute(effective_sql(outer="ORDER BY e.participant_id, e.sort_at, e.seq"))
    keys = [d[0] for d in cursor.description]
    try:
        for pid, found in groupby((dict(zip(keys, r, strict=True)) for r in cursor),
                                  key=lambda scan: scan["participant_id"]):
            yield pid, list(found)
    finally:
        cursor.close()


def rebuild_people(db: Database) -> dict[str, int]:
    """Recompute every projection from the log and the plan (one read of each); rows per table.

    The same person_rows() and day_rows() as the writes, over the effective log read once,
    person by person.
    """
    with writing(db):
        for table in PROJECTIONS:
            db.execute(f"DELETE FROM {table}")  # noqa: S608
        plans = {plan["id"]: plan for plan in rows(db, _PLAN)}
        logs = dict.fromkeys(plans, [])
        zone = event_zone(db)
        out: dict[str, list[tuple[Any, ...]]] = {t: [] for t in PROJECTIONS}
        for pid, scans in chain(_logs_by_person(db), ((p, []) for p in list(plans))):
            if pid not in logs:
                continue  # done (a person with scans comes first), or no such person
            del logs[pid]
            new = person_rows(plans[pid], scans)
            if new.latest is not None:
                out["location"].append((pid, new.latest["seq"], new.latest["checkpoint"],
                                        new.latest["direction"], new.latest["sort_at"]))
                out["attendance"].append((pid, new.arrived_at, int(new.attended)))
            out["aboard"].extend((cp, pid, x, at) for cp, (x, at) in new.aboard.items())
            out["counted"].extend((pid, what, key) for what, key in new.keys)
            days, steps = day_rows(pid, scans, zone)
            out["person_days"].extend(days)
            out["venue_steps"].extend(steps)
        for table, sql in (("location", LOCATION_INSERT),
                           ("attendance", "INSERT INTO attendance (participant_id, arrived_at, "
                                          "attended) VALUES (?, ?, ?)"),
                           ("aboard", ABOARD_INSERT),
                           ("counted", "INSERT INTO counted (participant_id, what, key) "
                                       "VALUES (?, ?, ?)"),
                           ("person_days", DAY_INSERT), ("venue_steps", STEP_INSERT)):
            db.conn.executemany(sql, out[table])
        db.execute("INSERT INTO tallies (what, key, n) SELECT what, key, count(*) "
                   "FROM counted GROUP BY what, key")
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                for t in PROJECTIONS}
