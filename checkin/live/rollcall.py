"""Roll calls on /live: which view of a roll call each room hears, each computed once a push.

A venue roll call goes to organisers (all of it, phones too, in "organisers"), to marshals
(room "rollcall") and to displays (numbers only, room "rollcall:counts"); an excursion's roll
call goes to organisers and to that excursion's guide (its room "excursion:<id>"). What each
role may read is checkin.rollcall's view of the roll call for that role (see access.py for
who joins which room).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from checkin.core.db import connect
from checkin.core.offload import run_blocking
from checkin.core.permissions import ORGANISER
from checkin.live.access import (
    EXCURSION_PREFIX,
    ORGANISERS,
    ROLLCALL_DISPLAYS,
    ROLLCALL_MARSHALS,
)
from checkin.rollcall import view, view_as, view_for
from checkin.scans.rollcall import VENUE, current, get_rollcall

EVENT = "rollcall"
#: A push that took longer than REST_AFTER seconds is followed by a rest REST times as long.
REST_AFTER = 0.05
REST = 2.0
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
    """Return (room, payload) for every room that hears one roll call, read once."""
    if get_rollcall(db, rollcall_id) is None:
        return []
    full = view(db, rollcall_id, names=True, phones=True)
    return [(room, view_as(db, who, full)) for room, who in _audiences(full["scope"]).items()]


def _all_pushes(database: str, rollcall_ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """pushes() of several roll calls on a connection of its own (in a thread: see push)."""
    db = connect(database)
    try:
        return [found for rollcall_id in rollcall_ids for found in pushes(db, rollcall_id)]
    finally:
        db.conn.close()


def push(database: str, rollcall_ids: set[str], last: dict[str, Any], settle: bool,
         emit: Callable[[str, Any, str], None]) -> None:
    """Emit the changed roll calls to their rooms; a settle check sends only what differs.

    Reading a roll call of thousands of people takes a tenth of a second: that is done in a
    real thread (checkin.core.offload), so the event loop keeps answering the door meanwhile.
    Sending a megabyte to each marshal costs the loop too: after a push that took longer than
    the publisher's coalescing window, the publisher rests REST times as long (its changes
    pile up for the next push), so that pushes take at most a third of the loop's time while
    marshals scan back to back, and the door comes first.
    """
    if not rollcall_ids:
        return
    started = time.monotonic()
    for room, payload in run_blocking(_all_pushes, database, sorted(rollcall_ids)):
        key = f"{room}|{payload['id']}"
        if not settle or last.get(key) != payload:
            last[key] = payload
            emit(EVENT, payload, room)
    took = time.monotonic() - started
    if took > REST_AFTER:
        time.sleep(REST * took)


def room_state(db: Database, room: str) -> list[tuple[str, Any]]:
    """Return what a newcomer to `room` is sent: the current roll call it may read, if any."""
    scope = room if room.startswith(EXCURSION_PREFIX) else VENUE
    if scope == VENUE and room not in AUDIENCES:
        return []
    found = current(db, scope)
    return [(EVENT, view_for(db, _audiences(scope)[room], found["id"]))] if found else []
