"""Roll calls on /live: which view of a roll call each room hears, each computed once a push.

A venue roll call goes to organisers (all of it, phones too, in "organisers"), to marshals
(room "rollcall") and to displays (numbers only, room "rollcall:counts"); an excursion's roll
call goes to organisers and to that excursion's guide (its room "excursion:<id>"). What each
role may read is checkin.rollcall's view of the roll call for that role (see access.py for
who joins which room).
"""

from __future__ import annotations

import threading
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
#: Marshals hear a roll call's accounts at most this often (s); see Pusher.
MARSHALS_EVERY = 1.0
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


class Pusher:
    """A publisher's roll-call pushes: what each room heard last, and when.

    Reading a roll call of thousands of people takes a tenth of a second: that is done in a
    real thread (checkin.core.offload), so the event loop keeps answering the door meanwhile.
    Sending it costs the loop too, a megabyte to each marshal: marshals hear a roll call's
    accounts at most every MARSHALS_EVERY seconds (its start and end at once; the rest of
    the change follows when the time is up), and after a push that took longer than
    REST_AFTER the publisher rests REST times as long (its changes pile up for the next
    push), so that pushes take at most a third of the loop's time while marshals scan back
    to back: the door comes first. Organisers and displays hear every push.
    """

    def __init__(self, database: str, emit: Callable[[str, Any, str], None],
                 renote: Callable[[str], None]):
        self.database, self.emit, self.renote = database, emit, renote
        self.last: dict[str, Any] = {}
        self.sent_at: dict[str, float] = {}
        self.waiting: set[str] = set()
        self.lock = threading.Lock()

    def push(self, rollcall_ids: set[str], settle: bool) -> None:
        """Emit the changed roll calls to their rooms; a settle check sends only what differs."""
        if not rollcall_ids:
            return
        started = time.monotonic()
        for room, payload in run_blocking(_all_pushes, self.database, sorted(rollcall_ids)):
            key = f"{room}|{payload['id']}"
            if (settle and self.last.get(key) == payload) or \
                    (room == ROLLCALL_MARSHALS and self._later(key, payload)):
                continue
            self.last[key], self.sent_at[key] = payload, time.monotonic()
            self.emit(EVENT, payload, room)
        took = time.monotonic() - started
        if took > REST_AFTER:
            time.sleep(REST * took)

    def _later(self, key: str, payload: dict[str, Any]) -> bool:
        """Say whether this push to marshals waits (accounts within MARSHALS_EVERY of the
        last push); if it does, the roll call is noted again when the wait is over."""
        before = self.last.get(key)
        if before is None or before["ended_at"] != payload["ended_at"]:
            return False
        wait = self.sent_at[key] + MARSHALS_EVERY - time.monotonic()
        if wait <= 0:
            return False
        with self.lock:
            if key not in self.waiting:
                self.waiting.add(key)
                threading.Timer(wait, self._due, [key, payload["id"]]).start()
        return True

    def _due(self, key: str, rollcall_id: str) -> None:
        with self.lock:
            self.waiting.discard(key)
        self.renote(rollcall_id)


def room_state(db: Database, room: str) -> list[tuple[str, Any]]:
    """Return what a newcomer to `room` is sent: the current roll call it may read, if any."""
    scope = room if room.startswith(EXCURSION_PREFIX) else VENUE
    if scope == VENUE and room not in AUDIENCES:
        return []
    found = current(db, scope)
    return [(EVENT, view_for(db, _audiences(scope)[room], found["id"]))] if found else []
