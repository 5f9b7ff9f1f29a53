"""The one read model of the day: every number in checkin is computed here from the logs.

The logs are append-only: `scans` (what devices saw), `corrections` (an organiser voids a
scan or moves it to another checkpoint) and `excursion_events` (departures, returns and
walk-ons). The plan is `participants` (from the event file and the CSV). Definitions:

- effective scan log: scans that are not rejected, belong to a person and were not voided,
  each at the checkpoint its latest 'move' correction gave it (else where it was made), with
  that checkpoint's `kind` and `ref` joined from `checkpoints`. Ordered by (sort_at, seq).
- assigned excursion: the latest walk-on of the person (a day event), else the plan's
  `participants.excursion`. The day always wins over the plan.
- where a person is: their latest effective scan. entrance in -> in the venue; room X in ->
  in room X; room X out -> in the venue, in no room; entrance out -> left; excursion X in ->
  on excursion X until X returns, then back from it (not in the venue until scanned there).
- arrived: has at least one effective scan; arrival time: the earliest one.
- excursion: expected = assigned to it; confirmed = expected and their latest effective scan
  at its checkpoint is 'in'; missing = expected - confirmed; not_on_list = latest scan there
  'in' but not expected (never counted as confirmed); walk_ons = expected through a walk-on.
  On the excursion now = confirmed while it has not returned.
- working group attended: an 'in' scan in the group's room whose stay (until the person's
  next effective scan) overlaps the group's time; without times, any 'in' scan there.

See docs/counting.md. The `location` table (checkin.scans.presence) is this model's
projection of "where a person is", kept current inside every write so the door stays fast.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from checkin.event import event_info, event_zone
from checkin.scans.sql import rows

# --------------------------------------------------------------------------- the effective log

# What corrections make of the scan `s`: voided, or moved (the latest move wins).
VOIDED = "EXISTS (SELECT 1 FROM corrections v WHERE v.scan_id = s.id AND v.action = 'void')"
MOVED_TO = ("(SELECT m.checkpoint FROM corrections m WHERE m.scan_id = s.id "
            "AND m.action = 'move' ORDER BY m.seq DESC LIMIT 1)")
_VALID = f"s.status != 'rejected' AND s.participant_id IS NOT NULL AND NOT {VOIDED}"
# Scans made at :cp or moved there: with the index on scans(checkpoint) SQLite reads only these.
AT_CHECKPOINT = ("(s.checkpoint = :cp OR s.id IN (SELECT scan_id FROM corrections "
                 "WHERE action = 'move' AND checkpoint = :cp))")


def effective_sql(where: str = "", outer: str = "", kind: bool = True) -> str:
    """Return the SQL of the effective scan log, narrowed by `where` on the raw scans `s`.

    Columns: seq, id, participant_id, direction, sort_at, checkpoint and (with `kind`) the
    checkpoint's kind and ref. `outer` (a WHERE/ORDER BY clause over the columns of `e`, and
    of the checkpoint `c` with `kind`) is appended last.
    """
    inner = (f"SELECT s.seq, s.id, s.participant_id, s.direction, s.sort_at, "  # noqa: S608
             f"coalesce({MOVED_TO}, s.checkpoint) AS checkpoint FROM scans s "
             f"WHERE {_VALID}" + (f" AND {where}" if where else ""))
    if not kind:
        # Where the checkpoint is known already, the join would only cost time.
        return f"SELECT e.* FROM ({inner}) e " + outer  # noqa: S608
    return (f"SELECT e.seq, e.id, e.participant_id, e.direction, e.sort_at, "  # noqa: S608
            f"e.checkpoint, c.kind, c.ref FROM ({inner}) e "
            f"LEFT JOIN checkpoints c ON c.id = e.checkpoint " + outer)


def correction_state(db: Database, scan_id: str) -> dict[str, Any]:
    """Return whether corrections voided a scan and where moves put it (None: not moved)."""
    found = db.execute(f"SELECT {VOIDED}, {MOVED_TO} FROM scans s WHERE s.id = ?",  # noqa: S608
                       [scan_id]).fetchone()
    return {"voided": bool(found and found[0]), "moved_to": found[1] if found else None}


def effective_scans(db: Database, participant_id: int | None = None) -> list[dict[str, Any]]:
    """Return the effective scan log (one person's, or everyone's) in the order it happened."""
    if participant_id is None:
        return rows(db, effective_sql(outer="ORDER BY e.sort_at, e.seq"))
    return rows(db, effective_sql("s.participant_id = :pid", "ORDER BY e.sort_at, e.seq"),
                {"pid": participant_id})


def timelines(db: Database) -> dict[int, list[dict[str, Any]]]:
    """Return every person's effective scans, in the order they happened."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for scan in effective_scans(db):
        out[scan["participant_id"]].append(scan)
    return out


def history_before(db: Database, participant_id: int, sort_at: str,
                   checkpoint: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield a person's effective scans no later than `sort_at`, latest first, lazily.

    With `checkpoint`, only those (effectively) at that checkpoint. Callers usually need the
    last one or two, so rows are read one at a time instead of the whole history.
    """
    where = "s.participant_id = :pid AND s.sort_at <= :at"
    outer = "ORDER BY e.sort_at DESC, e.seq DESC"
    if checkpoint is not None:
        where += " AND " + AT_CHECKPOINT
        outer = "WHERE e.checkpoint = :cp " + outer
    cursor = db.conn.execute(effective_sql(where, outer, kind=checkpoint is None),
                             {"pid": participant_id, "at": sort_at, "cp": checkpoint})
    keys = [d[0] for d in cursor.description]
    try:
        for row in cursor:
            yield dict(zip(keys, row, strict=True))
    finally:
        cursor.close()


def latest_scan(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Return a person's latest effective scan (where they are), or None."""
    found = rows(db, effective_sql("s.participant_id = :pid",
                                   "ORDER BY e.sort_at DESC, e.seq DESC LIMIT 1", kind=False),
                 {"pid": participant_id})
    return found[0] if found else None


# The latest of a group's scans: SQLite takes the bare columns next to max() from the row
# holding the maximum (twice as fast here as a window function).
_LATEST = "max(sort_at || '#' || printf('%015d', seq))"


def latest_scans_at(db: Database, checkpoint: str) -> dict[int, dict[str, Any]]:
    """Return, per person, their latest effective scan at `checkpoint`."""
    found = db.execute(
        f"SELECT participant_id, direction, sort_at, seq, {_LATEST} FROM ("  # noqa: S608
        + effective_sql(AT_CHECKPOINT, "WHERE e.checkpoint = :cp", kind=False)
        + ") GROUP BY participant_id",
        {"cp": checkpoint}).fetchall()
    return {r[0]: {"direction": r[1], "sort_at": r[2], "seq": r[3]} for r in found}


# Scans made at an excursion checkpoint or moved to one (the scans_checkpoint index finds them).
_AT_BUSES = ("(s.checkpoint IN (SELECT id FROM checkpoints WHERE kind = 'excursion') "
             "OR s.id IN (SELECT scan_id FROM corrections WHERE action = 'move' AND "
             "checkpoint IN (SELECT id FROM checkpoints WHERE kind = 'excursion')))")


def at_buses(db: Database) -> dict[str, dict[int, str]]:
    """Return, per excursion checkpoint, who has 'in' as their latest effective scan there
    (person id -> that scan's time)."""
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for pid, checkpoint, direction, sort_at, _latest in db.execute(
            f"SELECT participant_id, checkpoint, direction, sort_at, {_LATEST} FROM ("  # noqa: S608
            + effective_sql(_AT_BUSES, "WHERE c.kind = 'excursion'")
            + ") GROUP BY participant_id, checkpoint").fetchall():
        if direction == "in":
            out[checkpoint][pid] = sort_at
    return out


def in_venue(kind: str | None, direction: str) -> bool:
    """Say whether a latest scan of this checkpoint kind and direction means 'in the venue'."""
    return (kind == "entrance" and direction == "in") or kind == "room"


# --------------------------------------------------------------------------- checkpoints

def checkpoints(db: Database) -> dict[str, dict[str, Any]]:
    """Return every checkpoint row by id, in display order."""
    return {c["id"]: c for c in rows(db, "SELECT id, kind, name, capacity, ref FROM "
                                         "checkpoints ORDER BY position, id")}


def checkpoint_of_excursion(db: Database, excursion_id: str) -> str | None:
    """Return the id of the checkpoint where people are confirmed for an excursion."""
    found = db.execute("SELECT id FROM checkpoints WHERE kind = 'excursion' AND ref = ?",
                       [excursion_id]).fetchone()
    return found[0] if found else None


# --------------------------------------------------------------------------- plan and day

# A person's excursion: the day's latest walk-on, else the plan. For SQL over `p`.
ASSIGNED_EXCURSION = ("coalesce((SELECT w.excursion FROM excursion_events w "
                      "WHERE w.participant_id = p.id AND w.action = 'walk_on' "
                      "ORDER BY w.seq DESC LIMIT 1), p.excursion)")


def day_assignments(db: Database) -> dict[int, str]:
    """Return the excursion each walked-on person was added to last (the day's events)."""
    return dict(db.execute("SELECT participant_id, excursion FROM excursion_events "
                           "WHERE action = 'walk_on' ORDER BY seq").fetchall())


def assigned_excursion(db: Database, participant_id: int) -> str | None:
    """Return the excursion a person is on: the day's latest walk-on, else the plan's."""
    found = db.execute(f"SELECT {ASSIGNED_EXCURSION} FROM participants p "  # noqa: S608
                       "WHERE p.id = ?", [participant_id]).fetchone()
    return found[0] if found else None


def excursion_members(db: Database, excursion_id: str) -> dict[int, bool]:
    """Return who is expected on an excursion: person id -> added on the day (walk-on)."""
    day = day_assignments(db)
    members = {pid: False for (pid,) in db.execute(
        "SELECT id FROM participants WHERE excursion = ?", [excursion_id]).fetchall()
        if pid not in day}
    # A walk-on back onto the planned excursion is still a walk-on: the guide added them.
    members.update((pid, True) for pid, excursion in day.items() if excursion == excursion_id)
    return members


def assignments(db: Database) -> dict[int, str]:
    """Return every assigned person's excursion: the plan with the day's walk-ons over it."""
    plan = dict(db.execute("SELECT id, excursion FROM participants "
                           "WHERE excursion IS NOT NULL").fetchall())
    plan.update(day_assignments(db))
    return plan


def day_conflicts(db: Database, planned: Iterable[tuple[int, int, str | None]]
                  ) -> list[dict[str, Any]]:
    """Return where a plan (line, person id, excursion) contradicts a walk-on of the day."""
    day = day_assignments(db)
    return [{"line": line, "participant_id": pid, "plan": excursion, "day": day[pid]}
            for line, pid, excursion in planned if pid in day and day[pid] != excursion]


# --------------------------------------------------------------------------- excursions

def excursion_statuses(db: Database) -> dict[str, dict[str, Any]]:
    """Return every excursion's status ('boarding', 'departed', 'returned') and its times."""
    out = {x: {"status": "boarding", "departed_at": None, "returned_at": None}
           for (x,) in db.execute("SELECT id FROM excursions").fetchall()}
    for excursion, action, at in db.execute(
            "SELECT excursion, action, at FROM excursion_events WHERE action IN "
            "('depart', 'return') ORDER BY seq").fetchall():
        state = out.setdefault(excursion, {"status": "boarding", "departed_at": None,
                                           "returned_at": None})
        if action == "depart" and state["departed_at"] is None:
            state["departed_at"] = at
            if state["status"] == "boarding":
                state["status"] = "departed"
        elif action == "return" and state["returned_at"] is None:
            state["returned_at"] = at
            state["status"] = "returned"
    return out


def _sort_key(p: dict[str, Any]) -> tuple[str, str, int]:
    return p["last_name"].casefold(), p["first_name"].casefold(), p["id"]


def excursion_state(db: Database, excursion_id: str,
                    statuses: dict[str, dict[str, Any]] | None = None,
                    shared: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Return an excursion with its status, roster and counts; None if there is none.

    Roster rows have status 'confirmed', 'missing' (both expected) or 'not_on_list'.
    `statuses` and `shared` (see all_excursion_states) save work when asked for all.
    """
    found = rows(db, "SELECT id, title, departure_place, departs_at, returns_at, capacity, "
                     "guide FROM excursions WHERE id = ?", [excursion_id])
    if not found:
        return None
    excursion = found[0]
    excursion.update((statuses or excursion_statuses(db))[excursion_id])
    checkpoint = checkpoint_of_excursion(db, excursion_id) or f"excursion:{excursion_id}"
    if shared is None:
        here = {pid: s["sort_at"] for pid, s in latest_scans_at(db, checkpoint).items()
                if s["direction"] == "in"}
        members = excursion_members(db, excursion_id)
    else:
        here = shared["buses"].get(checkpoint, {})
        members = {pid: pid in shared["day"] for pid, x in shared["assigned"].items()
                   if x == excursion_id}
    people = rows(db, "SELECT id, first_name, last_name, organisation, city FROM participants "
                      "WHERE id IN (SELECT value FROM json_each(?))",
                  [json.dumps(sorted(set(members) | set(here)))])
    roster = []
    for p in sorted(people, key=_sort_key):
        expected = p["id"] in members
        scan = here.get(p["id"])
        roster.append({
            "id": p["id"], "name": f"{p['first_name']} {p['last_name']}",
            "first_name": p["first_name"], "last_name": p["last_name"],
            "organisation": p["organisation"], "city": p["city"],
            "status": ("confirmed" if scan else "missing") if expected else "not_on_list",
            "walk_on": expected and members[p["id"]],
            "assigned": expected,
            "confirmed_at": scan,
        })
    counts = {
        "expected": len(members),
        "confirmed": sum(r["status"] == "confirmed" for r in roster),
        "missing": sum(r["status"] == "missing" for r in roster),
        "not_on_list": sum(r["status"] == "not_on_list" for r in roster),
        "walk_ons": sum(r["walk_on"] for r in roster),
    }
    return {"excursion": excursion, "roster": roster, "counts": counts}


def all_excursion_states(db: Database) -> list[dict[str, Any]]:
    """Return the state of every excursion, in order of departure."""
    statuses = excursion_statuses(db)
    shared = {"buses": at_buses(db), "assigned": assignments(db), "day": day_assignments(db)}
    ids = [r[0] for r in db.execute(
        "SELECT id FROM excursions ORDER BY departs_at IS NULL, departs_at, title").fetchall()]
    return [s for s in (excursion_state(db, i, statuses, shared) for i in ids)
            if s is not None]


def excursion_outcome(row: dict[str, Any], status: str) -> str:
    """Say what an expected person's roster row means for the report, given the status."""
    if row["status"] == "confirmed":
        return "walk-on" if row["walk_on"] else "confirmed"
    return "not departed yet" if status == "boarding" else "no-show"


# --------------------------------------------------------------------------- presence

def _on_excursion(db: Database, statuses: dict[str, dict[str, Any]],
                  cps: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Count, per excursion checkpoint, who is on the excursion now (confirmed, not back)."""
    assigned = assignments(db)
    here = at_buses(db)
    return {cp["id"]: 0 if statuses.get(cp["ref"], {}).get("status") == "returned"
            else sum(1 for pid in here.get(cp["id"], ()) if assigned.get(pid) == cp["ref"])
            for cp in cps.values() if cp["kind"] == "excursion"}


def inside(db: Database, checkpoint: dict[str, Any]) -> int:
    """Count the people inside a checkpoint (a checkpoints row) now."""
    if checkpoint["kind"] == "entrance":
        return venue_count(db)
    if checkpoint["kind"] == "room":
        return db.execute("SELECT count(*) FROM location WHERE checkpoint = ? "
                          "AND direction = 'in'", [checkpoint["id"]]).fetchone()[0]
    # On the bus now: expected there, latest scan there 'in', and the bus not back yet.
    return db.execute(
        f"SELECT count(*) FROM (SELECT participant_id, direction, {_LATEST} FROM ("  # noqa: S608
        + effective_sql(AT_CHECKPOINT, "WHERE e.checkpoint = :cp", kind=False)
        + ") GROUP BY "  # noqa: S608
        f"participant_id) l JOIN participants p ON p.id = l.participant_id "
        f"WHERE l.direction = 'in' AND {ASSIGNED_EXCURSION} = :ref AND NOT EXISTS (SELECT 1 "
        "FROM excursion_events r WHERE r.excursion = :ref AND r.action = 'return')",
        {"cp": checkpoint["id"], "ref": checkpoint["ref"]}).fetchone()[0]


def venue_count(db: Database) -> int:
    """Count the people in the venue now (entrance in, or in or out of a room)."""
    # Two index lookups per checkpoint on location(checkpoint, direction): this runs per scan.
    return db.execute(
        "SELECT (SELECT count(*) FROM location WHERE checkpoint IN (SELECT id FROM checkpoints "
        "WHERE kind = 'room')) + (SELECT count(*) FROM location WHERE direction = 'in' AND "
        "checkpoint IN (SELECT id FROM checkpoints WHERE kind = 'entrance'))").fetchone()[0]


def expected(db: Database, checkpoint: dict[str, Any]) -> int:
    """Count the people expected at a checkpoint: all, the room's groups, the excursion's."""
    if checkpoint["kind"] == "entrance":
        return db.execute("SELECT count(*) FROM participants").fetchone()[0]
    if checkpoint["kind"] == "room":
        return db.execute(
            "SELECT count(*) FROM participants WHERE working_group IN "
            "(SELECT id FROM working_groups WHERE room = ?)", [checkpoint["ref"]]).fetchone()[0]
    return len(excursion_members(db, checkpoint["ref"]))


def checkpoint_headcount(db: Database, checkpoint_id: str) -> dict[str, Any] | None:
    """Return one checkpoint's headcount (checkpoint, inside, expected, capacity)."""
    found = rows(db, "SELECT id, kind, name, capacity, ref FROM checkpoints WHERE id = ?",
                 [checkpoint_id])
    if not found:
        return None
    cp = found[0]
    return {"checkpoint": cp["id"], "inside": inside(db, cp), "expected": expected(db, cp),
            "capacity": cp["capacity"]}


def headcounts(db: Database) -> dict[str, Any]:
    """Return every checkpoint's headcount, how many arrived and how many are registered."""
    cps = checkpoints(db)
    by_location = {(cp, d): n for cp, d, n in db.execute(
        "SELECT checkpoint, direction, count(*) FROM location GROUP BY 1, 2").fetchall()}
    by_room = dict(db.execute(
        "SELECT w.room, count(*) FROM participants p JOIN working_groups w "
        "ON w.id = p.working_group GROUP BY w.room").fetchall())
    by_excursion: dict[str, int] = defaultdict(int)
    for excursion in assignments(db).values():
        by_excursion[excursion] += 1
    registered = db.execute("SELECT count(*) FROM participants").fetchone()[0]
    venue = sum(n for (cp, d), n in by_location.items()
                if in_venue(cps.get(cp, {}).get("kind"), d))
    on_excursion = _on_excursion(db, excursion_statuses(db), cps)
    out = []
    for cp in cps.values():
        if cp["kind"] == "entrance":
            counts = venue, registered
        elif cp["kind"] == "room":
            counts = by_location.get((cp["id"], "in"), 0), by_room.get(cp["ref"], 0)
        else:
            counts = on_excursion.get(cp["id"], 0), by_excursion.get(cp["ref"], 0)
        out.append({"id": cp["id"], "kind": cp["kind"], "name": cp["name"],
                    "inside": counts[0], "expected": counts[1], "capacity": cp["capacity"]})
    # Everyone with at least one effective scan has exactly one row in `location`.
    arrived = db.execute("SELECT count(*) FROM location").fetchone()[0]
    return {"checkpoints": out, "arrived": arrived, "registered": registered}


def where_now(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Return where a person is now: `state` is 'in_room', 'in_venue', 'left',
    'on_excursion' or 'back_from_excursion' (None: not arrived), with checkpoint and times."""
    loc = rows(db, "SELECT l.checkpoint, l.direction, l.sort_at, c.kind, c.ref, c.name "
                   "FROM location l LEFT JOIN checkpoints c ON c.id = l.checkpoint "
                   "WHERE l.participant_id = ?", [participant_id])
    if not loc:
        return None
    where = loc[0]
    where["checkpoint_name"] = where.pop("name") or where["checkpoint"]
    where["in_venue"] = in_venue(where["kind"], where["direction"])
    where["returned_at"] = None
    if where["kind"] == "excursion":
        status = excursion_statuses(db).get(where["ref"], {})
        if where["direction"] == "in" and status.get("status") == "returned":
            where["state"], where["returned_at"] = "back_from_excursion", status["returned_at"]
        else:
            where["state"] = "on_excursion" if where["direction"] == "in" else "left"
    elif where["kind"] == "room" and where["direction"] == "in":
        where["state"] = "in_room"
    else:
        where["state"] = "in_venue" if where["in_venue"] else "left"
    return where


# --------------------------------------------------------------------------- arrivals

# The first effective scan of each person who arrived (= has a row in `location`). Moves
# change no time, so only voids matter; per person the (participant_id, sort_at) index finds
# the first scan at once: this runs on every arrival.
_ARRIVALS = """
SELECT l.participant_id, (SELECT min(s.sort_at) FROM scans s
        WHERE s.participant_id = l.participant_id AND s.status != 'rejected'
          AND s.id NOT IN (SELECT scan_id FROM corrections WHERE action = 'void'))
FROM location l
"""


def arrivals_by_person(db: Database) -> dict[int, str]:
    """Return each arrived person's arrival time (their first effective scan)."""
    return dict(db.execute(_ARRIVALS).fetchall())


def arrival_times(db: Database) -> list[str]:
    """Return every arrived person's arrival time, sorted."""
    return sorted(arrivals_by_person(db).values())


def _window(day: str, zone: ZoneInfo) -> tuple[str, str]:
    """Return a local calendar day as [start, end) UTC log strings."""
    start = datetime.fromisoformat(day).replace(tzinfo=zone)
    end = datetime.combine(start.date() + timedelta(days=1), start.time(), tzinfo=zone)
    return (start.astimezone(UTC).isoformat(timespec="milliseconds"),
            end.astimezone(UTC).isoformat(timespec="milliseconds"))


def day_window(db: Database, times: list[str] | None = None) -> tuple[str, str] | None:
    """Return the day that charts and the summary show, as [start, end) UTC log strings.

    The event's date in its time zone; if nothing of `times` lies on it (a rehearsal
    played on another date), the local day holding most of `times`. None: no date at all.
    """
    zone = event_zone(db)
    day = (event_info(db) or {}).get("date")
    window = None
    if day:
        try:
            window = _window(day, zone)
        except ValueError:
            window = None
    if times and (window is None or not any(window[0] <= t < window[1] for t in times)):
        days: dict[str, int] = defaultdict(int)
        for t in times:
            days[datetime.fromisoformat(t).astimezone(zone).date().isoformat()] += 1
        window = _window(max(sorted(days), key=lambda d: days[d]), zone)
    return window


def split_by_day(db: Database, times: list[str]) -> tuple[list[str], list[str]]:
    """Split log times into those on the shown day (see day_window) and those outside it."""
    window = day_window(db, times)
    if window is None:
        return list(times), []
    on = [t for t in times if window[0] <= t < window[1]]
    return on, [t for t in times if not window[0] <= t < window[1]]


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


def group_attendance(db: Database, timeline: dict[int, list[dict[str, Any]]] | None = None
                     ) -> dict[int, str]:
    """Return per person whether they attended their working group: 'yes', 'no' or ''."""
    timeline = timelines(db) if timeline is None else timeline
    groups = {g["id"]: g for g in rows(db, "SELECT id, room, starts_at, ends_at "
                                           "FROM working_groups")}
    out = {}
    for pid, group_id in db.execute("SELECT id, working_group FROM participants").fetchall():
        group = groups.get(group_id)
        if not group or not group["room"]:
            out[pid] = ""
            continue
        out[pid] = "yes" if attended_group(timeline.get(pid, []), group["room"],
                                           group["starts_at"], group["ends_at"]) else "no"
    return out
