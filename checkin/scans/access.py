"""Who may scan where and see what: organisers, scanners, guides and displays."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.errors import DomainError
from checkin.scans.sql import rows

#: An actor is a device as returned by checkin.devices.authenticate (id, name, role,
#: checkpoint), or an organiser made by organiser_actor().
Actor = dict[str, Any]


class Forbidden(DomainError, PermissionError):
    """The actor's role or checkpoint does not allow this."""

    status = 403

    def __init__(self, message: str):
        super().__init__("forbidden", message)


def organiser_actor(username: str) -> Actor:
    """Return the actor for a signed-in organiser."""
    return {"id": None, "name": username, "role": "organiser", "checkpoint": None}


def actor_ref(actor: Actor) -> str:
    """Return what the scan log stores as the scan's device: the device id or the organiser."""
    if actor["role"] == "organiser":
        return "organiser:" + actor["name"]
    return actor["id"]


def may_scan(actor: Actor, checkpoint: dict[str, Any]) -> bool:
    """Say whether the actor may record scans at `checkpoint` (a checkpoints row)."""
    role = actor["role"]
    if role == "organiser":
        return True
    if role == "guide":
        return checkpoint["id"] == actor["checkpoint"]
    if role == "kiosk":
        return checkpoint["kind"] == "entrance"
    if role in ("scanner", "desk"):
        if actor["checkpoint"]:
            return checkpoint["id"] == actor["checkpoint"]
        return checkpoint["kind"] in ("entrance", "room")
    return False


def checkpoints(db: Database) -> dict[str, dict[str, Any]]:
    """Return every checkpoint by id, in the event's order."""
    return {row["id"]: row for row in rows(db,
        "SELECT id, kind, name, capacity, ref FROM checkpoints ORDER BY position, id")}


def visible_checkpoints(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Return the checkpoints the actor may scan at (displays and organisers: all)."""
    found = list(checkpoints(db).values())
    if actor["role"] not in ("display", "organiser"):
        found = [row for row in found if may_scan(actor, row)]
    return [{k: row[k] for k in ("id", "kind", "name", "capacity")} for row in found]


def roster_excursion(db: Database, actor: Actor) -> str | None:
    """Return the excursion whose people a guide may see; refuse displays; None means all."""
    if actor["role"] in ("display", "kiosk"):
        # A kiosk stands in public: it never shows a list of people.
        raise Forbidden("A display or kiosk does not look people up.")
    if actor["role"] != "guide":
        return None
    row = db.execute("SELECT ref FROM checkpoints WHERE id = ? AND kind = 'excursion'",
                     [actor["checkpoint"]]).fetchone()
    if row is None:
        raise Forbidden("This guide device has no excursion.")
    return row[0]
