"""Headcounts and where a person is now, read from the `location` projection and the log."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlite_utils import Database

from checkin.scans.day import (
    ASSIGNED_EXCURSION,
    assignments,
    excursion_members,
    excursion_statuses,
)
from checkin.scans.log import (
    AT_CHECKPOINT,
    LATEST,
    at_buses,
    checkpoints,
    effective_sql,
    in_venue,
)
from checkin.scans.sql import rows

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
        f"SELECT count(*) FROM (SELECT participant_id, direction, {LATEST} FROM ("  # noqa: S608
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
        if cp["kind"] == "assembly":
            continue  # a roll call's assembly point holds nobody (checkin.scans.rollcall)
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
