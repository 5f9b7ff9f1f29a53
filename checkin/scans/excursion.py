"""An excursion's state: its status, its roster (confirmed, missing, not on the list), counts."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.core.places import place_state
from checkin.scans.day import excursion_statuses
from checkin.scans.log import checkpoint_of_excursion
from checkin.scans.sql import rows
from checkin.scans.tallies import tallies_of


def _sort_key(p: dict[str, Any]) -> tuple[str, str, int]:
    return p["last_name"].casefold(), p["first_name"].casefold(), p["id"]


def excursion_state(db: Database, excursion_id: str,
                    statuses: dict[str, dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """Return an excursion with its status, roster and counts; None if there is none.

    Roster rows have status 'confirmed', 'missing' (both expected) or 'not_on_list'. Read
    from the projections: who is expected (and through a walk-on) from `counted`, who is
    aboard from `aboard`, so it costs the roster's length, never the log's. `statuses` (see
    all_excursion_states) saves work when asked for all.
    """
    found = rows(db, "SELECT id, title, departure_place, departs_at, returns_at, capacity, "
                     "guide FROM excursions WHERE id = ?", [excursion_id])
    if not found:
        return None
    excursion = found[0]
    excursion.update((statuses or excursion_statuses(db)).get(
        excursion_id, {"status": "boarding", "departed_at": None, "returned_at": None}))
    checkpoint = checkpoint_of_excursion(db, excursion_id) or f"excursion:{excursion_id}"
    roster = [{
        "id": p["id"], "name": f"{p['first_name']} {p['last_name']}",
        "first_name": p["first_name"], "last_name": p["last_name"],
        "organisation": p["organisation"], "city": p["city"],
        "status": ("confirmed" if p["confirmed_at"] else "missing") if p["assigned"]
        else "not_on_list",
        "walk_on": bool(p["assigned"] and p["walk_on"]),
        "assigned": bool(p["assigned"]),
        "confirmed_at": p["confirmed_at"],
    } for p in sorted(rows(db, _ROSTER, {"x": excursion_id, "cp": checkpoint}), key=_sort_key)]
    counts = {
        "expected": sum(r["assigned"] for r in roster),
        "confirmed": sum(r["status"] == "confirmed" for r in roster),
        "missing": sum(r["status"] == "missing" for r in roster),
        "not_on_list": sum(r["status"] == "not_on_list" for r in roster),
        "walk_ons": sum(r["walk_on"] for r in roster),
    }
    return {"excursion": excursion, "roster": roster, "counts": counts,
            "seats": seats(len(roster), excursion["capacity"])}


# An excursion's roster: who is expected (counted 'expected', with 'walk_ons' marking those
# added on the day) and who is aboard at its checkpoint (latest scan there 'in').
_ROSTER = """
SELECT p.id, p.first_name, p.last_name, p.organisation, p.city,
  EXISTS (SELECT 1 FROM counted e WHERE e.what = 'expected' AND e.key = :x
          AND e.participant_id = p.id) AS assigned,
  EXISTS (SELECT 1 FROM counted w WHERE w.what = 'walk_ons' AND w.key = :x
          AND w.participant_id = p.id) AS walk_on,
  (SELECT a.sort_at FROM aboard a WHERE a.checkpoint = :cp AND a.participant_id = p.id)
    AS confirmed_at
FROM participants p WHERE p.id IN (
  SELECT participant_id FROM counted WHERE what = 'expected' AND key = :x
  UNION SELECT participant_id FROM aboard WHERE checkpoint = :cp)
"""


def seats(people: int, capacity: int | None) -> dict[str, Any]:
    """Return how full a bus is: everyone expected or aboard against its seats (places.py)."""
    return {"people": people, "capacity": capacity, "state": place_state(people, capacity)}


def all_excursion_states(db: Database) -> list[dict[str, Any]]:
    """Return the state of every excursion, in order of departure."""
    statuses = excursion_statuses(db)
    ids = [r[0] for r in db.execute(BY_DEPARTURE).fetchall()]
    return [s for s in (excursion_state(db, i, statuses) for i in ids)
            if s is not None]


BY_DEPARTURE = "SELECT id FROM excursions ORDER BY departs_at IS NULL, departs_at, title"


def excursion_counts(db: Database) -> dict[str, dict[str, int]]:
    """Return every excursion's counts (as in excursion_state) from the tallies alone, in
    order of departure."""
    got = tallies_of(db, "expected", "confirmed", "not_on_list", "walk_ons")
    return {x: {"expected": got["expected"].get(x, 0),
                "confirmed": got["confirmed"].get(x, 0),
                "missing": got["expected"].get(x, 0) - got["confirmed"].get(x, 0),
                "not_on_list": got["not_on_list"].get(x, 0),
                "walk_ons": got["walk_ons"].get(x, 0)}
            for (x,) in db.execute(BY_DEPARTURE).fetchall()}


def excursion_outcomes(db: Database) -> dict[int, tuple[str, str]]:
    """Return, per person with an excursion today, its id and what it means for the report."""
    statuses = excursion_statuses(db)
    mine = {(pid, what): x for pid, what, x in db.execute(
        "SELECT participant_id, what, key FROM counted WHERE what IN "
        "('expected', 'confirmed', 'walk_ons')").fetchall()}
    out = {}
    for (pid, what), x in mine.items():
        if what == "expected":
            row = {"status": "confirmed" if (pid, "confirmed") in mine else "missing",
                   "walk_on": (pid, "walk_ons") in mine}
            out[pid] = x, excursion_outcome(row, statuses.get(x, {}).get("status", "boarding"))
    return out


def excursion_outcome(row: dict[str, Any], status: str) -> str:
    """Say what an expected person's roster row means for the report, given the status."""
    if row["status"] == "confirmed":
        return "walk-on" if row["walk_on"] else "confirmed"
    return "not departed yet" if status == "boarding" else "no-show"
