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

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from checkin.core.assembly import PREFIX as ASSEMBLY
from checkin.core.db import connect, with_database
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
#: How often (at most, s) a room hears a roll call's changes; what comes meanwhile waits for
#: its next push, which carries all of it (the latest numbers, everyone changed since). The
#: crowd of marshals' phones and displays hears them less often than the organisers: each
#: push wakes every phone, and with 20 marshals scanning back to back their wake-ups cost
#: the door's tablet more than the organisers' count gains (measured: scripts/bench --rollcall).
EVERY = 0.1
CROWD_EVERY = 0.5
#: How often the server looks for a roll call started or ended by the command line (s).
ELSEWHERE_EVERY = 1.0
#: With a message queue every push is whole (see Pusher): a roll call's accounts then go out
#: at most this often (s), its start and end at once.
WHOLE_EVERY = 0.5
#: Whom each room reaches, as checkin.rollcall's view_for sees an actor.
AUDIENCES: dict[str, dict[str, Any]] = {ORGANISERS: {"role": ORGANISER},
                                        ROLLCALL_MARSHALS: {"role": "marshal"},
                                        ROLLCALL_DISPLAYS: {"role": "display"}}
CROWDS = (ROLLCALL_MARSHALS, ROLLCALL_DISPLAYS)


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
class Room:
    """What one room last heard of a roll call: its count of pushes, when, and who changed
    since (to go out with its next push)."""

    seq: int = 0
    sent_at: float = float("-inf")
    pending: set[int] = field(default_factory=set)

    def due(self, room: str, now: float) -> float:
        """Return how long until this room may hear a push of changes (0: now)."""
        return max(0.0, self.sent_at + (CROWD_EVERY if room in CROWDS else EVERY) - now)


@dataclass
class Heard:
    """What the rooms last heard of one roll call: the tally, its end, each room's pushes."""

    tally: Tally
    ended_at: str | None
    rooms: dict[str, Room] = field(default_factory=dict)

    def wait(self, now: float) -> float | None:
        """Return how long until a room with changes waiting may hear them, or None."""
        waits = [r.due(room, now) for room, r in self.rooms.items() if r.pending]
        return min(waits) if waits else None


def framed(payload: dict[str, Any], seq: int, full: bool) -> dict[str, Any]:
    """Return a roll call's view as a push: its id, then seq and full, then the rest."""
    return {"id": payload["id"], "seq": seq, "full": full, **payload}


def whole(db: Database, rollcall_id: str, heard: Heard | None, now: float
          ) -> tuple[Heard | None, list[tuple[str, dict[str, Any]]]]:
    """Return the whole roll call for each room that hears it (its start, its end), and
    what they will then have heard; no push and None for a roll call that is gone."""
    row = get_rollcall(db, rollcall_id)
    if row is None:
        return None, []
    tally = Tally.load(db, rollcall_id)
    rooms = heard.rooms if heard else {}
    after = Heard(tally=tally, ended_at=row["ended_at"])
    full = view(db, rollcall_id, names=True, phones=True, tally=tally)
    out = []
    for room, who in _audiences(row["scope"]).items():
        after.rooms[room] = Room(seq=rooms.get(room, Room()).seq + 1, sent_at=now)
        out.append((room, framed(view_as(db, who, full), after.rooms[room].seq, True)))
    return after, out


def changes(db: Database, rollcall_id: str, heard: Heard, now: float
            ) -> list[tuple[str, dict[str, Any]]] | None:
    """Return the pushes of changes for the rooms due one (a room hears the numbers and the
    people changed since its last push), or None when the rooms are due the whole roll call
    instead (it ended, or is gone). Reads only the accounts since the last look."""
    row = get_rollcall(db, rollcall_id)
    if row is None or row["ended_at"] != heard.ended_at:
        return None
    changed = heard.tally.fold(accounts_since(db, rollcall_id, heard.tally.seq))
    audiences = _audiences(row["scope"])
    for room in audiences:
        heard.rooms.setdefault(room, Room()).pending |= changed
    going = [room for room in audiences
             if heard.rooms[room].pending and not heard.rooms[room].due(room, now)]
    if not going:
        return []
    both = view(db, rollcall_id, names=True, phones=True, tally=heard.tally,
                only=set().union(*(heard.rooms[room].pending for room in going)))
    out = []
    for room in going:
        mine = heard.rooms[room]
        shaped = view_as(db, audiences[room], {
            **both, "people": [p for p in both["people"] if p["id"] in mine.pending]})
        if "people" in shaped:
            shaped["changed"] = shaped.pop("people")
        mine.seq, mine.sent_at, mine.pending = mine.seq + 1, now, set()
        out.append((room, framed(shaped, mine.seq, False)))
    return out


def _all_wholes(database: str, asks: list[tuple[str, Heard | None]], now: float
                ) -> list[tuple[str, Heard | None, list[tuple[str, dict[str, Any]]]]]:
    """whole() of several roll calls on a connection of its own (in a thread: see push)."""
    db = connect(database)
    try:
        return [(rollcall_id, *whole(db, rollcall_id, heard, now))
                for rollcall_id, heard in asks]
    finally:
        db.conn.close()


def _same(before: dict[str, Any] | None, payload: dict[str, Any]) -> bool:
    """Say whether a push says what `before` said (its count aside)."""
    return before is not None and {**before, "seq": 0} == {**payload, "seq": 0}


class Pusher:
    """A publisher's roll-call pushes: what each room last heard of each roll call, and when.

    A push after accounts reads only what changed: a few rows, a few milliseconds at 5,000
    people, read on the event loop with the publisher's connection. (In a real thread the
    same read took 80-190 ms under marshals scanning back to back: each row fetched gives
    up the interpreter lock, and the busy loop holds it up to 5 ms before handing it back.)
    The whole roll call (a start, an end: tens of milliseconds) is read in a real thread
    (checkin.core.offload), so the loop keeps answering the door meanwhile. A room hears a
    roll call's changes at most every EVERY (CROWD_EVERY) seconds: a roll call with changes
    waiting is noted again when they are due. With a message queue (`full_always`) every
    push is full: another process's pushes would break the count.
    """

    def __init__(self, database: str, emit: Callable[[str, Any, str], None],
                 renote: Callable[..., None], full_always: bool = False):
        self.database, self.emit, self.renote = database, emit, renote
        self.full_always = full_always
        self.watching = False
        self.heard: dict[str, Heard] = {}
        self.last: dict[str, Any] = {}
        self.waiting: set[str] = set()
        self.lock = threading.Lock()

    def push(self, db: Database, rollcall_ids: set[str], settle: bool) -> None:
        """Emit the changed roll calls to their rooms; a settle check sends only what differs."""
        now = time.monotonic()
        done: list[tuple[str, Heard | None, list[tuple[str, dict[str, Any]]]]] = []
        wholes: list[tuple[str, Heard | None]] = []
        try:
            for found in sorted(rollcall_ids):
                heard = self.heard.get(found)
                if self.full_always and heard is not None and self._whole_later(db, found,
                                                                                heard, now):
                    continue
                # Changes are a few rows, read here (see above); the whole roll call is not.
                pushed = None if heard is None or self.full_always else \
                    changes(db, found, heard, now)
                if pushed is None:
                    wholes.append((found, heard))
                else:
                    done.append((found, heard, pushed))
            if wholes:
                done += run_blocking(_all_wholes, self.database, wholes, now)
        except Exception:
            # The tallies may have folded in what was never sent: start afresh (whole).
            for found in rollcall_ids:
                self.heard.pop(found, None)
            raise
        for rollcall_id, heard, payloads in done:
            if heard is None:
                self.heard.pop(rollcall_id, None)
                continue
            self.heard[rollcall_id] = heard
            for room, payload in payloads:
                key = f"{room}|{rollcall_id}"
                if settle and _same(self.last.get(key), payload):
                    continue
                if self.full_always:  # only a message queue's settle checks look back
                    self.last[key] = payload
                self.emit(EVENT, payload, room)
            self._later(rollcall_id, heard.wait(now))

    def _whole_later(self, db: Database, rollcall_id: str, heard: Heard, now: float) -> bool:
        """Say whether a whole push of accounts waits (one went out within WHOLE_EVERY); if
        it does, the roll call is noted again when the time is up. Its end goes at once."""
        row = get_rollcall(db, rollcall_id)
        last = max((r.sent_at for r in heard.rooms.values()), default=float("-inf"))
        if row is None or row["ended_at"] != heard.ended_at or now - last >= WHOLE_EVERY:
            return False
        self._later(rollcall_id, last + WHOLE_EVERY - now)
        return True

    def _later(self, rollcall_id: str, wait: float | None) -> None:
        """Note a roll call again when a room's waiting changes are due (if any wait)."""
        if wait is None:
            return
        with self.lock:
            if rollcall_id not in self.waiting:
                self.waiting.add(rollcall_id)
                threading.Timer(wait, self._due, [rollcall_id]).start()

    def _due(self, rollcall_id: str) -> None:
        with self.lock:
            self.waiting.discard(rollcall_id)
        self.renote(None, rollcall_id=rollcall_id)

    def watch(self) -> None:
        """Notice within ELSEWHERE_EVERY seconds a venue roll call started or ended by another
        process (`checkin rollcall start`, `end`): its change reaches no signal of this one."""
        if not self.watching:
            self.watching = True
            self._look(sqlite3.connect(self.database, check_same_thread=False), None, None)

    def _look(self, conn: sqlite3.Connection, version: int | None, known: Any) -> None:
        try:
            # data_version moves with every commit of another connection: most seconds of
            # a quiet day cost this one pragma.
            seen = conn.execute("PRAGMA data_version").fetchone()[0]
            if seen != version:
                found = current(Database(conn), VENUE)
                state = (found["id"], found["ended_at"]) if found else None
                if version is not None and state != known:
                    for rollcall_id in {known and known[0], state and state[0]} - {None}:
                        self.renote(None, rollcall_id=rollcall_id)
                version, known = seen, state
        except sqlite3.Error:
            pass  # a moment the file was busy: look again next time
        # A timer, as _due's: a greenlet under gevent (daemon: it never holds an exit).
        timer = threading.Timer(ELSEWHERE_EVERY, self._look, [conn, version, known])
        timer.daemon = True
        timer.start()

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
        # the room's next push (changes since it) follows on.
        seq = heard.rooms[room].seq if heard and room in heard.rooms else 0
        # The whole roll call (about 64 ms at 5,000 expected) is read in a thread on a
        # connection of its own: twenty phones joining at the alarm must not hold the door.
        payload = run_blocking(with_database, self.database, view_for,
                               _audiences(scope)[room], found["id"])
        return [(EVENT, framed(payload, seq, True))]
