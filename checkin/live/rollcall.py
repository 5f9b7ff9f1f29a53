"""Roll calls on /live: which view of a roll call each room hears, and only what changed.

A venue roll call goes to organisers (all of it, phones too, in "organisers"), to marshals
(room "rollcall") and to displays (numbers only, room "rollcall:counts"); an excursion's roll
call goes to organisers and to that excursion's guide (its room "excursion:<id>"). What each
role may read is checkin.rollcall's view of the roll call for that role (see access.py for
who joins which room).

A push is `full` (the whole roll call, as GET /api/v1/rollcall gives it) when a roll call
starts or ends and to a newcomer of a room; after accounts it carries the numbers and only
the people whose counting account changed since the last push (`changed`), so its cost
follows the change, not the list. `seq` counts a roll call's pushes: a client that sees a
gap, or a change to a roll call it does not hold, reads the roll call again (docs/live.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from checkin.core.assembly import PREFIX as ASSEMBLY
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
from checkin.scans.rollcall import VENUE, Tally, accounts_since, current, get_rollcall

EVENT = "rollcall"
#: A roll call's changes go out at most this often (s); what comes meanwhile waits for the
#: next push, which carries all of it (the latest numbers, everyone changed since).
EVERY = 0.2
#: Whom each room reaches, as checkin.rollcall's view_for sees an actor.
AUDIENCES: dict[str, dict[str, Any]] = {ORGANISERS: {"role": ORGANISER},
                                        ROLLCALL_MARSHALS: {"role": "marshal"},
                                        ROLLCALL_DISPLAYS: {"role": "display"}}


def only_accounts(scans: list[dict[str, Any]]) -> bool:
    """Say whether stored scans were all made at assembly points: they account for people in
    a roll call (pushed on its own signal) and move no one, so headcounts and alerts stay."""
    return bool(scans) and all(str(s.get("checkpoint") or "").startswith(ASSEMBLY)
                               for s in scans)


def _audiences(scope: str) -> dict[str, dict[str, Any]]:
    """The rooms that hear a roll call of `scope`, with the actor each room's view is for."""
    if scope.startswith(EXCURSION_PREFIX):
        # The excursion's room is its guide's: the guide's checkpoint is the room's name.
        return {ORGANISERS: AUDIENCES[ORGANISERS],
                scope: {"role": "guide", "checkpoint": scope}}
    return AUDIENCES


@dataclass
class Heard:
    """What the rooms last heard of one roll call: its push count, tally and end."""

    seq: int
    tally: Tally
    ended_at: str | None


def framed(payload: dict[str, Any], seq: int, full: bool) -> dict[str, Any]:
    """Return a roll call's view as a push: its id, then seq and full, then the rest."""
    return {"id": payload["id"], "seq": seq, "full": full, **payload}


def pushes(db: Database, rollcall_id: str, heard: Heard | None,
           full: bool = False) -> tuple[Heard | None, list[tuple[str, dict[str, Any]]]]:
    """Return what the rooms hear next of one roll call, and what they will then have heard.

    Full when they heard nothing of it yet, when it ended, or when asked; else the numbers
    and the people whose counting account changed since `heard` (no push if none did).
    """
    row = get_rollcall(db, rollcall_id)
    if row is None:
        return None, []
    if heard is not None and not full and heard.ended_at == row["ended_at"]:
        changed = heard.tally.fold(accounts_since(db, rollcall_id, heard.tally.seq))
        if not changed:
            return heard, []
        heard.seq += 1
        whole = view(db, rollcall_id, names=True, phones=True, tally=heard.tally,
                     only=changed)
        out = []
        for room, who in _audiences(row["scope"]).items():
            shaped = view_as(db, who, whole)
            if "people" in shaped:
                shaped["changed"] = shaped.pop("people")
            out.append((room, framed(shaped, heard.seq, False)))
        return heard, out
    tally = Tally.load(db, rollcall_id)
    heard = Heard(seq=(heard.seq if heard else 0) + 1, tally=tally, ended_at=row["ended_at"])
    whole = view(db, rollcall_id, names=True, phones=True, tally=tally)
    return heard, [(room, framed(view_as(db, who, whole), heard.seq, True))
                   for room, who in _audiences(row["scope"]).items()]


def changes(db: Database, rollcall_id: str, heard: Heard
            ) -> list[tuple[str, dict[str, Any]]] | None:
    """Return the pushes of what changed since `heard` (no list at all when nothing did), or
    None when the rooms are due the whole roll call instead (it ended, or is gone)."""
    row = get_rollcall(db, rollcall_id)
    if row is None or row["ended_at"] != heard.ended_at:
        return None
    return pushes(db, rollcall_id, heard)[1]


def _all_pushes(database: str, asks: list[tuple[str, Heard | None]], full: bool
                ) -> list[tuple[str, Heard | None, list[tuple[str, dict[str, Any]]]]]:
    """pushes() of several roll calls on a connection of its own (in a thread: see push)."""
    db = connect(database)
    try:
        return [(rollcall_id, *pushes(db, rollcall_id, heard, full))
                for rollcall_id, heard in asks]
    finally:
        db.conn.close()


def _same(before: dict[str, Any] | None, payload: dict[str, Any]) -> bool:
    """Say whether a push says what `before` said (its count aside)."""
    return before is not None and {**before, "seq": 0} == {**payload, "seq": 0}


class Pusher:
    """A publisher's roll-call pushes: what the rooms heard last of each roll call, and when.

    A push after accounts reads only what changed: a few rows, a few milliseconds at 5,000
    people, read on the event loop with the publisher's connection. (In a real thread the
    same read took 80-190 ms under marshals scanning back to back: each row fetched gives
    up the interpreter lock, and the busy loop holds it up to 5 ms before handing it back.)
    The whole roll call (a start, an end: tens of milliseconds) is read in a real thread
    (checkin.core.offload), so the loop keeps answering the door meanwhile. A roll call is
    pushed at most every EVERY seconds: changes within that time are noted again when it is
    up and go out together. With a message queue (`full_always`) every push is full:
    another process's pushes would break the count.
    """

    def __init__(self, database: str, emit: Callable[[str, Any, str], None],
                 renote: Callable[..., None], full_always: bool = False):
        self.database, self.emit, self.renote = database, emit, renote
        self.full_always = full_always
        self.heard: dict[str, Heard] = {}
        self.last: dict[str, Any] = {}
        self.sent_at: dict[str, float] = {}
        self.waiting: set[str] = set()
        self.lock = threading.Lock()

    def push(self, db: Database, rollcall_ids: set[str], settle: bool) -> None:
        """Emit the changed roll calls to their rooms; a settle check sends only what differs."""
        due = [found for found in sorted(rollcall_ids) if not self._later(found)]
        if not due:
            return
        done: list[tuple[str, Heard | None, list[tuple[str, dict[str, Any]]]]] = []
        whole: list[tuple[str, Heard | None]] = []
        try:
            for found in due:
                heard = self.heard.get(found)
                # Changes are a few rows, read here (see above); the whole roll call is not.
                pushed = None if heard is None or self.full_always else changes(db, found, heard)
                if pushed is None:
                    whole.append((found, heard))
                else:
                    done.append((found, heard, pushed))
            if whole:
                done += run_blocking(_all_pushes, self.database, whole, self.full_always)
        except Exception:
            # The tallies may have folded in what was never sent: start afresh (full).
            for found in due:
                self.heard.pop(found, None)
            raise
        for rollcall_id, heard, payloads in done:
            if heard is None:
                self.heard.pop(rollcall_id, None)
                continue
            self.heard[rollcall_id] = heard
            if payloads:
                self.sent_at[rollcall_id] = time.monotonic()
            for room, payload in payloads:
                key = f"{room}|{rollcall_id}"
                if settle and _same(self.last.get(key), payload):
                    continue
                if self.full_always:  # only a message queue's settle checks look back
                    self.last[key] = payload
                self.emit(EVENT, payload, room)

    def _later(self, rollcall_id: str) -> bool:
        """Say whether a roll call waits (pushed within EVERY seconds); if it does, it is
        noted again when the wait is over. One never heard goes at once (its start)."""
        if rollcall_id not in self.heard:
            return False
        wait = self.sent_at.get(rollcall_id, 0.0) + EVERY - time.monotonic()
        if wait <= 0:
            return False
        with self.lock:
            if rollcall_id not in self.waiting:
                self.waiting.add(rollcall_id)
                threading.Timer(wait, self._due, [rollcall_id]).start()
        return True

    def _due(self, rollcall_id: str) -> None:
        with self.lock:
            self.waiting.discard(rollcall_id)
        self.renote(None, rollcall_id=rollcall_id)

    def room_state(self, db: Database, room: str) -> list[tuple[str, Any]]:
        """Return what a newcomer to `room` is sent: the current roll call it may read, in
        full, with the seq of the last push of it (the next one follows on)."""
        scope = room if room.startswith(EXCURSION_PREFIX) else VENUE
        if scope == VENUE and room not in AUDIENCES:
            return []
        found = current(db, scope)
        if found is None:
            return []
        heard = self.heard.get(found["id"])
        # The count is taken before the read: the read then holds all that push had, and
        # the next push (changes since it) follows on.
        seq = heard.seq if heard else 0
        payload = view_for(db, _audiences(scope)[room], found["id"])
        return [(EVENT, framed(payload, seq, True))]
