"""Who may listen to what on /live: plain functions, testable without Flask or Socket.IO.

Rooms: "headcounts" (displays, scanners, organisers), "excursion:<id>" (that excursion's
guide), "organisers" (organisers only: recent scans, alerts, every excursion's state, roll
calls), "rollcall" (marshals: the venue's roll call, names without phones) and
"rollcall:counts" (displays: its numbers only).
An organiser who joins an excursion's room is sent its state but not put in it: the room
carries what a guide may read (no names once the group has returned), and organisers hear
every change of every excursion in "organisers" anyway.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin import devices
from checkin.core.permissions import (
    ALL,
    COUNTS,
    LIVE_EXCURSION,
    LIVE_HEADCOUNTS,
    LIVE_ORGANISERS,
    LIVE_ROLLCALL,
    ORGANISER,
    OWN,
    is_organiser,
    may,
    scope,
)

HEADCOUNTS = "headcounts"
ORGANISERS = "organisers"
ROLLCALL_MARSHALS = "rollcall"
ROLLCALL_DISPLAYS = "rollcall:counts"
EXCURSION_PREFIX = "excursion:"
#: Whom an excursion's room reaches, as checkin.scans.policy sees an actor: its guide's phones.
EXCURSION_AUDIENCE: dict[str, Any] = {"role": "guide"}
#: The /live actions: a role with none of them is refused on connecting.
LIVE_ACTIONS = (LIVE_HEADCOUNTS, LIVE_EXCURSION, LIVE_ORGANISERS, LIVE_ROLLCALL)


def identify(db: Database, auth: Any, organiser: str | None) -> dict[str, Any] | None:
    """Return who connects: the device holding auth["token"], else the signed-in organiser.

    An identity is {"role", "name", "device", "checkpoint"}; None means refuse, also for a
    role that may hear nothing on /live (a kiosk, a desk).
    """
    token = auth.get("token") if isinstance(auth, dict) else None
    found = None
    if token:
        device = devices.authenticate(db, token)
        if device is not None:
            found = {"role": device["role"], "name": device["name"], "device": device["id"],
                     "checkpoint": device["checkpoint"]}
    if found is None and organiser:
        found = {"role": ORGANISER, "name": organiser, "device": None, "checkpoint": None}
    if found is None or not any(may(found, action) for action in LIVE_ACTIONS):
        return None
    return found


def excursion_room(excursion_id: str) -> str:
    """Return the room that carries one excursion's state."""
    return EXCURSION_PREFIX + excursion_id


def rooms_for(identity: dict[str, Any]) -> list[str]:
    """Return the rooms a client joins on connecting."""
    rooms = []
    if may(identity, LIVE_HEADCOUNTS):
        rooms.append(HEADCOUNTS)
    if may(identity, LIVE_ORGANISERS):
        rooms.append(ORGANISERS)
    reach = scope(identity, LIVE_ROLLCALL)
    # Organisers hear roll calls (with phones) in their own room.
    if reach is not None and not is_organiser(identity):
        rooms.append(ROLLCALL_DISPLAYS if reach == COUNTS else ROLLCALL_MARSHALS)
    if scope(identity, LIVE_EXCURSION) == OWN:
        checkpoint = identity.get("checkpoint") or ""
        # A guide's checkpoint id "excursion:<id>" is also its room's name.
        if checkpoint.startswith(EXCURSION_PREFIX):
            rooms.append(checkpoint)
    return rooms


def may_join(identity: dict[str, Any], room: Any) -> bool:
    """Say whether a client may join `room` later (organisers: any excursion; others: their own)."""
    if not isinstance(room, str):
        return False
    if room.startswith(EXCURSION_PREFIX) and scope(identity, LIVE_EXCURSION) == ALL:
        return True
    return room in rooms_for(identity)


def joins(identity: dict[str, Any], room: str) -> bool:
    """Say whether a permitted join puts the client in `room` (else it is sent the state once).

    Organisers (every excursion's state) stay out of excursion rooms, which carry a guide's
    view (see above).
    """
    return not (room.startswith(EXCURSION_PREFIX) and scope(identity, LIVE_EXCURSION) == ALL)
