"""Where an actor may scan and whose people it may see, as checkin.core.permissions says."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.core.permissions import (
    ALL,
    CHECKPOINTS,
    PEOPLE,
    Actor,
    Forbidden,
    is_organiser,
    organiser_actor,
    scope,
)
from checkin.core.permissions import may_scan_at as may_scan
from checkin.scans.sql import rows

__all__ = ["Actor", "Forbidden", "actor_ref", "checkpoints", "may_scan", "organiser_actor",
           "roster_excursion", "visible_checkpoints"]


def actor_ref(actor: Actor) -> str:
    """Return what the scan log stores as the scan's device: the device id or the organiser."""
    if is_organiser(actor):
        return "organiser:" + actor["name"]
    return actor["id"]


def checkpoints(db: Database, ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Return every checkpoint by id, in the event's order; with `ids`, only those of them.

    A batch of scans names one or two checkpoints: reading only those keeps a scan's cost
    independent of how many rooms and excursions the event has.
    """
    if ids is None:
        return {row["id"]: row for row in rows(db,
            "SELECT id, kind, name, capacity, ref FROM checkpoints ORDER BY position, id")}
    return {row["id"]: row for row in rows(db,
        "SELECT id, kind, name, capacity, ref FROM checkpoints WHERE id IN "  # noqa: S608
        f"({', '.join('?' * len(ids))}) ORDER BY position, id", ids)}


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
