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

def _inside(kind: str, checkpoint_id: str, ref: str | None, counts: dict[str, dict[str, int]],
            returned: bool) -> int:
    """Count who is inside a checkpoint from the tallies (`counts`: what -> key -> n)."""
    if kind == "entrance":
        return counts["venue"].get("", 0)
    if kind == "room":
        return counts["inside"].get(checkpoint_id, 0)
    # On the bus now: confirmed (expected, latest scan there 'in') while it has not returned.
    return 0 if returned else counts["confirmed"].get(ref or "", 0)


def _expected(kind: str, ref: str | None, counts: dict[str, dict[str, int]]) -> int:
    """Count who is expected at a checkpoint from the tallies: all, the room's, the bus's."""
    if kind == "entrance":
        return counts["registered"].get("", 0)
    return counts["room_expected" if kind == "room" else "expected"].get(ref or "", 0)


_COUNTS = ("venue", "inside", "confirmed", "registered", "room_expected", "expected")


def _of(db: Database, checkpoint: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Return the tallies one checkpoint's counts need."""
    out: dict[str, dict[str, int]] = {w: {} for w in _COUNTS}
    kind, ref = checkpoint["kind"], checkpoint["ref"] or ""
    what = {"entrance": ("venue", ""), "room": ("inside", checkpoint["id"]),
            "excursion": ("confirmed", ref)}.get(kind)
    expect = {"entrance": ("registered", ""), "room": ("room_expected", ref),
              "excursion": ("expected", ref)}.get(kind)
    for w, k in (what, expect):
        out[w][k] = tally(db, w, k)
    return out


def _returned(db: Database, checkpoint: dict[str, Any]) -> bool:
    return checkpoint["kind"] == "excursion" and has_returned(db, checkpoint["ref"])


def inside(db: Database, checkpoint: dict[str, Any]) -> int:
    """Count the people inside a checkpoint (a checkpoints row) now."""
    return _inside(checkpoint["kind"], checkpoint["id"], checkpoint["ref"], _of(db, checkpoint),
                   _returned(db, checkpoint))


def venue_count(db: Database) -> int:
    """Count the people in the venue now (entrance in, or in or out of a room)."""
    return tally(db, "venue")


def expected(db: Database, checkpoint: dict[str, Any]) -> int:
    """Count the people expected at a checkpoint: all, the room's groups, the excursion's."""
    return _expected(checkpoint["kind"], checkpoint["ref"], _of(db, checkpoint))


def checkpoint_headcount(db: Database, checkpoint_id: str) -> dict[str, Any] | None:
    """Return one checkpoint's headcount (checkpoint, inside, expected, capacity)."""
    found = rows(db, "SELECT id, kind, name, capacity, ref FROM checkpoints WHERE id = ?",
                 [checkpoint_id])
    if not found:
        return None
    cp = found[0]
    counts = _of(db, cp)
    return {"checkpoint": cp["id"],
            "inside": _inside(cp["kind"], cp["id"], cp["ref"], counts, _returned(db, cp)),
            "expected": _expected(cp["kind"], cp["ref"], counts), "capacity": cp["capacity"]}


def headcounts(db: Database) -> dict[str, Any]:
    """Return every checkpoint's headcount, how many arrived and how many are registered."""
    counts = tallies_of(db, *_COUNTS, "arrived")
    statuses = excursion_statuses(db)
    out = []
    for cp in checkpoints(db).values():
        returned = statuses.get(cp["ref"] or "", {}).get("status") == "returned"
        out.append({"id": cp["id"], "kind": cp["kind"], "name": cp["name"],
                    "inside": _inside(cp["kind"], cp["id"], cp["ref"], counts, returned),
                    "expected": _expected(cp["kind"], cp["ref"], counts),
                    "capacity": cp["capacity"]})
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
