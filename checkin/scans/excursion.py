"""An excursion's state: its status, its roster (confirmed, missing, not on the list), counts."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from checkin.core.places import place_state
from checkin.scans.day import assignments, day_assignments, excursion_members, excursion_statuses
from checkin.scans.log import at_buses, checkpoint_of_excursion, latest_scans_at
from checkin.scans.sql import rows


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
    return {"excursion": excursion, "roster": roster, "counts": counts,
            "seats": seats(len(roster), excursion["capacity"])}


def seats(people: int, capacity: int | None) -> dict[str, Any]:
    """Return how full a bus is: everyone expected or aboard against its seats (places.py)."""
    return {"people": people, "capacity": capacity, "state": place_state(people, capacity)}


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
