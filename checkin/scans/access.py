"""Where an actor may scan and whose people it may see, as checkin.security.permissions says."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.scans.sql import rows
from checkin.security.permissions import (
    ALL,
    CHECKPOINTS,
    PEOPLE,
    Actor,
    Forbidden,
    is_organiser,
    organiser_actor,
    scope,
)
from checkin.security.permissions import may_scan_at as may_scan

__all__ = ["Actor", "Forbidden", "actor_ref", "checkpoints", "may_scan", "organiser_actor",
           "roster_excursion", "visible_checkpoints"]


def actor_ref(actor: Actor) -> str:
    """Return what the scan log stores as the scan's device: the device id or the organiser."""
    if is_organiser(actor):
        return "organiser:" + actor["name"]
    return actor["id"]


def checkpoints(db: Database) -> dict[str, dict[str, Any]]:
    """Return every checkpoint by id, in the event's order."""
    return {row["id"]: row for row in rows(db,
        "SELECT id, kind, name, capacity, ref FROM checkpoints ORDER BY position, id")}


def visible_checkpoints(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Return the checkpoints the actor may list: all, or those it may scan at (CHECKPOINTS)."""
    found = list(checkpoints(db).values())
    if scope(actor, CHECKPOINTS) != ALL:
        found = [row for row in found if may_scan(actor, row)]
    return [{k: row[k] for k in ("id", "kind", "name", "capacity")} for row in found]


def roster_excursion(db: Database, actor: Actor) -> str | None:
    """Return the excursion whose people the actor may see (PEOPLE); None means all.

    Raises Forbidden for roles that never look people up (displays, kiosks).
    """
    reach = scope(actor, PEOPLE)
    if reach is None:
        raise Forbidden("forbidden.lookup")
    if reach == ALL:
        return None
    row = db.execute("SELECT ref FROM checkpoints WHERE id = ? AND kind = 'excursion'",
                     [actor["checkpoint"]]).fetchone()
    if row is None:
        raise Forbidden("forbidden.no_excursion")
    return row[0]
