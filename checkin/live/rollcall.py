"""Roll calls on /live: which view of a roll call each room hears, each computed once a push.

A venue roll call goes to organisers (all of it, phones too, in "organisers"), to marshals
(room "rollcall") and to displays (numbers only, room "rollcall:counts"); an excursion's roll
call goes to organisers and to that excursion's guide (its room "excursion:<id>"). What each
role may read is checkin.rollcall's view of the roll call for that role (see access.py for
who joins which room).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from checkin.core.permissions import ORGANISER
from checkin.live.access import (
    EXCURSION_PREFIX,
    ORGANISERS,
    ROLLCALL_DISPLAYS,
    ROLLCALL_MARSHALS,
)
from checkin.rollcall import view_for
from checkin.scans.rollcall import VENUE, current, get_rollcall

EVENT = "rollcall"
#: Whom each room reaches, as checkin.rollcall's view_for sees an actor.
AUDIENCES: dict[str, dict[str, Any]] = {ORGANISERS: {"role": ORGANISER},
                                        ROLLCALL_MARSHALS: {"role": "marshal"},
                                        ROLLCALL_DISPLAYS: {"role": "display"}}


def _audiences(scope: str) -> dict[str, dict[str, Any]]:
    """The rooms that hear a roll call of `scope`, with the actor each room's view is for."""
    if scope.startswith(EXCURSION_PREFIX):
        # The excursion's room is its guide's: the guide's checkpoint is the room's name.
        return {ORGANISERS: AUDIENCES[ORGANISERS],
                scope: {"role": "guide", "checkpoint": scope}}
    return AUDIENCES


def pushes(db: Database, rollcall_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Return (room, payload) for every room that hears one roll call."""
    row = get_rollcall(db, rollcall_id)
    if row is None:
        return []
    return [(room, view_for(db, who, row["id"]))
            for room, who in _audiences(row["scope"]).items()]


def push(db: Database, rollcall_ids: set[str], last: dict[str, Any], settle: bool,
         emit: Callable[[str, Any, str], None]) -> None:
    """Emit the changed roll calls to their rooms; a settle check sends only what differs."""
    for rollcall_id in sorted(rollcall_ids):
        for room, payload in pushes(db, rollcall_id):
            key = f"{room}|{payload['id']}"
            if not settle or last.get(key) != payload:
                last[key] = payload
                emit(EVENT, payload, room)


def room_state(db: Database, room: str) -> list[tuple[str, Any]]:
    """Return what a newcomer to `room` is sent: the current roll call it may read, if any."""
    scope = room if room.startswith(EXCURSION_PREFIX) else VENUE
    if scope == VENUE and room not in AUDIENCES:
        return []
    found = current(db, scope)
    return [(EVENT, view_for(db, _audiences(scope)[room], found["id"]))] if found else []
