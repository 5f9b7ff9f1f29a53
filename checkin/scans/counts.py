"""Headcounts and where a person is now, read from the projections (`tallies`, `location`).

Every count here is one row of `tallies` (checkin.scans.projections keeps them on write), so
a headcount costs the same at 60 people and at 5,000, whatever the log's length.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.scans.day import excursion_statuses, has_returned
from checkin.scans.log import checkpoints, in_venue
from checkin.scans.sql import rows
from checkin.scans.tallies import tallies_of, tally

# --------------------------------------------------------------------------- presence

def _keys(checkpoint: dict[str, Any]) -> tuple[tuple[str, str], tuple[str, str]] | None:
    """Return the tally keys of a checkpoint's "inside" and "expected" counts: the venue and
    everyone, a room's and its groups', a bus's confirmed and expected people (None: the
    checkpoint counts nobody, such as a roll call's assembly point)."""
    ref = checkpoint["ref"] or ""
    return {"entrance": (("venue", ""), ("registered", "")),
            "room": (("inside", checkpoint["id"]), ("room_expected", ref)),
            "excursion": (("confirmed", ref), ("expected", ref))}.get(checkpoint["kind"])


def _counts(checkpoint: dict[str, Any], counts: dict[str, dict[str, int]],
            returned: bool) -> tuple[int, int]:
    """Return (inside, expected) of a checkpoint from the tallies; nobody is on a bus that
    has returned."""
    keys = _keys(checkpoint)
    if keys is None:
        return 0, 0
    (what, key), (expect, of) = keys
    return (0 if returned else counts.get(what, {}).get(key, 0),
            counts.get(expect, {}).get(of, 0))


_COUNTS = ("venue", "inside", "confirmed", "registered", "room_expected", "expected")


def _of(db: Database, checkpoint: dict[str, Any]) -> tuple[int, int]:
    """Return one checkpoint's (inside, expected), two lookups in the tallies."""
    keys = _keys(checkpoint)
    if keys is None:
        return 0, 0
    counts: dict[str, dict[str, int]] = {}
    for what, key in keys:
        counts.setdefault(what, {})[key] = tally(db, what, key)
    returned = checkpoint["kind"] == "excursion" and has_returned(db, checkpoint["ref"])
    return _counts(checkpoint, counts, returned)


def inside(db: Database, checkpoint: dict[str, Any]) -> int:
    """Count the people inside a checkpoint (a checkpoints row) now."""
    return _of(db, checkpoint)[0]


def venue_count(db: Database) -> int:
    """Count the people in the venue now (entrance in, or in or out of a room)."""
    return tally(db, "venue")


def expected(db: Database, checkpoint: dict[str, Any]) -> int:
    """Count the people expected at a checkpoint: all, the room's groups, the excursion's."""
    return _of(db, checkpoint)[1]


def checkpoint_headcount(db: Database, checkpoint_id: str) -> dict[str, Any] | None:
    """Return one checkpoint's headcount (checkpoint, inside, expected, capacity)."""
    found = rows(db, "SELECT id, kind, name, capacity, ref FROM checkpoints WHERE id = ?",
                 [checkpoint_id])
    if not found:
        return None
    cp = found[0]
    now, expect = _of(db, cp)
    return {"checkpoint": cp["id"], "inside": now, "expected": expect,
            "capacity": cp["capacity"]}


def headcounts(db: Database) -> dict[str, Any]:
    """Return every checkpoint's headcount, how many arrived and how many are registered."""
    counts = tallies_of(db, *_COUNTS, "arrived")
    statuses = excursion_statuses(db)
    out = []
    for cp in checkpoints(db).values():
        returned = cp["kind"] == "excursion" and \
            statuses.get(cp["ref"] or "", {}).get("status") == "returned"
        now, expect = _counts(cp, counts, returned)
        out.append({"id": cp["id"], "kind": cp["kind"], "name": cp["name"], "inside": now,
                    "expected": expect, "capacity": cp["capacity"]})
    return {"checkpoints": out, "arrived": counts["arrived"].get("", 0),
            "registered": counts["registered"].get("", 0)}


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
