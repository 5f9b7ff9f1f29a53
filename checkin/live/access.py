"""Who may listen to what on /live: plain functions, testable without Flask or Socket.IO.

Rooms: "headcounts" (displays, scanners, organisers), "excursion:<id>" (that excursion's
guide), "organisers" (organisers only: recent scans, alerts, and every excursion's state).
An organiser who joins an excursion's room is sent its state but not put in it: the room
carries what a guide may read (no names once the group has returned), and organisers hear
every change of every excursion in "organisers" anyway.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin import devices

HEADCOUNTS = "headcounts"
ORGANISERS = "organisers"
EXCURSION_PREFIX = "excursion:"
#: Whom an excursion's room reaches, as security.policy sees an actor: its guide's phones.
EXCURSION_AUDIENCE: dict[str, Any] = {"role": "guide"}


def identify(db: Database, auth: Any, organiser: str | None) -> dict[str, Any] | None:
    """Return who connects: the device holding auth["token"], else the signed-in organiser.

    An identity is {"role", "name", "device", "checkpoint"}; None means refuse.
    """
    token = auth.get("token") if isinstance(auth, dict) else None
    if token:
        device = devices.authenticate(db, token)
        if device is not None:
            return {"role": device["role"], "name": device["name"], "device": device["id"],
                    "checkpoint": device["checkpoint"]}
    if organiser:
        return {"role": "organiser", "name": organiser, "device": None, "checkpoint": None}
    return None


def excursion_room(excursion_id: str) -> str:
    """Return the room that carries one excursion's state."""
    return EXCURSION_PREFIX + excursion_id


def rooms_for(identity: dict[str, Any]) -> list[str]:
    """Return the rooms a client joins on connecting."""
    role = identity["role"]
    if role == "organiser":
        return [HEADCOUNTS, ORGANISERS]
    if role == "guide":
        checkpoint = identity.get("checkpoint") or ""
        # A guide's checkpoint id "excursion:<id>" is also its room's name.
        return [checkpoint] if checkpoint.startswith(EXCURSION_PREFIX) else []
    if role in ("display", "scanner"):
        return [HEADCOUNTS]
    return []


def may_join(identity: dict[str, Any], room: Any) -> bool:
    """Say whether a client may join `room` later (organisers: any excursion; others: their own)."""
    if not isinstance(room, str):
        return False
    if identity["role"] == "organiser":
        return room in (HEADCOUNTS, ORGANISERS) or room.startswith(EXCURSION_PREFIX)
    return room in rooms_for(identity)


def joins(identity: dict[str, Any], room: str) -> bool:
    """Say whether a permitted join puts the client in `room` (else it is sent the state once).

    Organisers stay out of excursion rooms, which carry a guide's view (see above).
    """
    return not (identity["role"] == "organiser" and room.startswith(EXCURSION_PREFIX))
