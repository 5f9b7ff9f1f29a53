"""Roll calls: who was present when it started, and who has been accounted for since.

A roll call freezes its expected people when it starts: for the venue everyone present in
it (`location`, read as the read model's `in_venue`), each with the room and time they were
last seen; for an excursion those who departed with the bus. Accounts (a marshal's badge
scan at an assembly point, a tap on a name, "seen elsewhere", "left earlier") are events,
stored exactly once by their id; a person's first account (by its time) is the one that
counts. missing = expected − accounted. One venue roll call runs at a time, and one per
excursion. Scans at an assembly point account for people and never move presence: the
effective log leaves them out (checkin.scans.log).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from checkin.core.assembly import PREFIX
from checkin.core.clock import now_iso
from checkin.core.db import writing
from checkin.core.errors import DomainError
from checkin.scans.excursion import excursion_state
from checkin.scans.log import in_venue
from checkin.scans.sql import rows

VENUE = "venue"
EXCURSION_PREFIX = "excursion:"
HOWS = ("scan", "tap", "elsewhere", "left")
# What starting did (start's answer).
STARTED, DUPLICATE, RUNNING = "started", "duplicate", "running_already"


class RollcallError(DomainError, ValueError):
    """A roll call cannot be started, found or changed as asked (the catalogue says why)."""


def excursion_scope(excursion_id: str) -> str:
    """Return the scope of an excursion's roll call."""
    return EXCURSION_PREFIX + excursion_id


def get_rollcall(db: Database, rollcall_id: str) -> dict[str, Any] | None:
    """Return one roll call's row, or None."""
    found = rows(db, "SELECT * FROM rollcalls WHERE id = ?", [rollcall_id])
    return found[0] if found else None


def running(db: Database, scope: str = VENUE) -> dict[str, Any] | None:
    """Return the roll call of `scope` that has not ended, or None."""
    found = rows(db, "SELECT * FROM rollcalls WHERE scope = ? AND ended_at IS NULL "
                     "ORDER BY started_at DESC LIMIT 1", [scope])
    return found[0] if found else None


def current(db: Database, scope: str = VENUE) -> dict[str, Any] | None:
    """Return the running roll call of `scope`, else its latest one, else None."""
    found = rows(db, "SELECT * FROM rollcalls WHERE scope = ? "
                     "ORDER BY ended_at IS NULL DESC, started_at DESC LIMIT 1", [scope])
    return found[0] if found else None


def all_rollcalls(db: Database) -> list[dict[str, Any]]:
    """Return every roll call's row in the order they started."""
    return rows(db, "SELECT * FROM rollcalls ORDER BY started_at, id")


def present_now(db: Database) -> list[dict[str, Any]]:
    """Return everyone present in the venue now, with where and when they were last seen."""
    found = rows(db, "SELECT l.participant_id, l.checkpoint AS last_checkpoint, "
                     "l.sort_at AS last_seen_at, l.direction, c.kind FROM location l "
                     "JOIN participants p ON p.id = l.participant_id "
                     "LEFT JOIN checkpoints c ON c.id = l.checkpoint "
                     "WHERE p.erased_at IS NULL ORDER BY l.participant_id")
    return [{k: r[k] for k in ("participant_id", "last_checkpoint", "last_seen_at")}
            for r in found if in_venue(r["kind"], r["direction"])]


def departed_with_bus(db: Database, excursion_id: str) -> list[dict[str, Any]]:
    """Return who departed with an excursion's bus (confirmed aboard), or refuse before it
    departed."""
    state = excursion_state(db, excursion_id)
    if state is None:
        raise RollcallError("not_found.excursion")
    if state["excursion"].get("status") != "departed":
        raise RollcallError("rollcall.not_departed")
    checkpoint = f"excursion:{excursion_id}"
    return [{"participant_id": r["id"], "last_checkpoint": checkpoint,
             "last_seen_at": r["confirmed_at"]}
            for r in state["roster"] if r["status"] == "confirmed"]


def _known(db: Database, ids: list[int]) -> set[int]:
    """Return which of `ids` are participants whose data was not erased."""
    return {r[0] for r in db.execute(
        "SELECT id FROM participants WHERE erased_at IS NULL AND id IN "
        "(SELECT value FROM json_each(?))", [json.dumps(ids)]).fetchall()}


def start(db: Database, *, scope: str, started_by: str, rollcall_id: str | None = None,
          point: str | None = None, started_at: str | None = None,
          expected: list[dict[str, Any]] | None = None,
          now: datetime | None = None) -> tuple[dict[str, Any], str]:
    """Start a roll call of `scope` and freeze who is expected; return it and what happened:
    STARTED, DUPLICATE (its id was started before: the same roll call) or RUNNING (another
    one of the scope runs: that one is returned).

    `expected` is a phone's list from its snapshot (an offline start); without it the server
    freezes who is present now (`present_now`), or for an excursion who departed with the
    bus. Unknown or erased people in a phone's list are left out, unknown checkpoints
    forgotten.
    """
    received = now_iso(now)
    with writing(db):
        if rollcall_id is not None and (same := get_rollcall(db, rollcall_id)) is not None:
            return same, DUPLICATE
        if (already := running(db, scope)) is not None:
            return already, RUNNING
        if expected is None:
            expected = (present_now(db) if scope == VENUE else
                        departed_with_bus(db, scope[len(EXCURSION_PREFIX):]))
        else:
            known = _known(db, [e["participant_id"] for e in expected])
            places = {r[0] for r in db.execute("SELECT id FROM checkpoints")}
            # A phone's list names only people and places the event has.
            expected = [{**e, "last_checkpoint": e.get("last_checkpoint")
                         if e.get("last_checkpoint") in places else None}
                        for e in expected if e["participant_id"] in known]
        row = {"id": rollcall_id or str(uuid.uuid4()), "scope": scope, "point": point,
               "started_at": min(started_at or received, received), "started_by": started_by,
               "received_at": received, "ended_at": None, "ended_by": None}
        db.execute("INSERT INTO rollcalls (id, scope, point, started_at, started_by, "
                   "received_at) VALUES (:id, :scope, :point, :started_at, :started_by, "
                   ":received_at)", row)
        seen: set[int] = set()
        for item in expected:
            if item["participant_id"] in seen:
                continue
            seen.add(item["participant_id"])
            db.execute("INSERT INTO rollcall_expected (rollcall_id, participant_id, "
                       "last_checkpoint, last_seen_at) VALUES (?, ?, ?, ?)",
                       [row["id"], item["participant_id"], item.get("last_checkpoint"),
                        item.get("last_seen_at")])
    return row, STARTED


def end(db: Database, rollcall_id: str, ended_by: str, ended_at: str | None = None,
        now: datetime | None = None) -> dict[str, Any]:
    """End a roll call at `ended_at` (a phone's time, never later than now nor before its
    start; default now); ending it again changes nothing. Return its row."""
    received = now_iso(now)
    with writing(db):
        rollcall = get_rollcall(db, rollcall_id)
        if rollcall is None:
            raise RollcallError("rollcall.not_found")
        moment = max(min(ended_at or received, received), rollcall["started_at"])
        db.execute("UPDATE rollcalls SET ended_at = ?, ended_by = ? "
                   "WHERE id = ? AND ended_at IS NULL", [moment, ended_by, rollcall_id])
        return get_rollcall(db, rollcall_id) or {}


def _open_at(rollcall: dict[str, Any], moment: str) -> bool:
    """Say whether an account made at `moment` falls within the roll call (not after its end)."""
    return rollcall["ended_at"] is None or moment <= rollcall["ended_at"]


def add_accounts(db: Database, rollcall_id: str, accounts: list[dict[str, Any]], by: str,
                 now: datetime | None = None) -> list[dict[str, Any]]:
    """Store checked accounts exactly once by their id; return {id, status} for each.

    status is 'stored', 'duplicate' (its id was stored before) or 'not_expected' (stored,
    but the person was not present when the roll call started, so it counts for nobody).
    Raises RollcallError for an unknown roll call, an unknown person or an account made after
    the roll call ended; then nothing is stored.
    """
    received = now_iso(now)
    with writing(db):
        rollcall = get_rollcall(db, rollcall_id)
        if rollcall is None:
            raise RollcallError("rollcall.not_found")
        ids = [a["participant_id"] for a in accounts]
        missing = set(ids) - _known(db, ids)
        if missing:
            raise RollcallError("rollcall.unknown_participant", participant=min(missing))
        if not all(_open_at(rollcall, a["at"]) for a in accounts):
            raise RollcallError("rollcall.ended")
        expected = _expected_ids(db, rollcall_id)
        return [_store_account(db, rollcall_id, a, by, received, expected) for a in accounts]


def _expected_ids(db: Database, rollcall_id: str) -> set[int]:
    """Return who a roll call expects."""
    return {r[0] for r in db.execute("SELECT participant_id FROM rollcall_expected "
                                     "WHERE rollcall_id = ?", [rollcall_id]).fetchall()}


def _store_account(db: Database, rollcall_id: str, account: dict[str, Any], by: str,
                   received: str, expected: set[int]) -> dict[str, Any]:
    """Store one account unless its id is stored; return its result."""
    new = db.execute(
        "INSERT INTO rollcall_accounts (id, rollcall_id, participant_id, how, point, reason, "
        "by, at, received_at) VALUES (:id, :rollcall_id, :participant_id, :how, :point, "
        ":reason, :by, :at, :received_at) ON CONFLICT(id) DO NOTHING",
        {"rollcall_id": rollcall_id, "by": by, "received_at": received, "point": None,
         "reason": "", **account}).rowcount == 1
    if not new:
        return {"id": account["id"], "status": "duplicate"}
    status = "stored" if account["participant_id"] in expected else "not_expected"
    return {"id": account["id"], "status": status}


def account_scan(db: Database, scan: dict[str, Any], by: str) -> tuple[str | None, str | None]:
    """Account for the person of a stored assembly scan in the venue roll call whose time
    contains the scan; return (roll call id, reason) where reason None means accounted,
    'no_rollcall' or 'not_expected' say why not. Run inside the scan's write transaction."""
    moment = min(scan["at"], scan["received_at"])
    found = rows(db, "SELECT * FROM rollcalls WHERE scope = ? AND started_at <= ? AND "
                     "(ended_at IS NULL OR ended_at >= ?) ORDER BY started_at DESC LIMIT 1",
                 [VENUE, moment, moment])
    if not found:
        return None, "no_rollcall"
    rollcall = found[0]
    account = {"id": "scan:" + scan["id"], "participant_id": scan["participant_id"],
               "how": "scan", "point": scan["checkpoint"][len(PREFIX):], "at": moment}
    # One primary-key lookup: this runs inside the scan's write transaction.
    expected = {pid for (pid,) in db.execute(
        "SELECT participant_id FROM rollcall_expected WHERE rollcall_id = ? AND "
        "participant_id = ?", [rollcall["id"], scan["participant_id"]])}
    result = _store_account(db, rollcall["id"], account, by, scan["received_at"], expected)
    return rollcall["id"], "not_expected" if result["status"] == "not_expected" else None


class Tally:
    """A roll call's counting accounts and numbers, kept by folding its accounts in.

    Each expected person's counting account is their first, by when it happened (then by
    arrival, `seq`); later ones are kept in the log but count for nothing. Loading reads the
    whole roll call once; folding in the accounts stored since (`accounts_since`) costs only
    what changed, so /live's pushes need not read thousands of people again.
    """

    def __init__(self, rooms: dict[int, str | None]):
        self.rooms = rooms  # expected person -> last-seen checkpoint (frozen at the start)
        self.first: dict[int, dict[str, Any]] = {}
        self.seq = 0  # the last account folded in
        self.by_room: dict[str | None, dict[str, int]] = {}
        for room in rooms.values():
            self.by_room.setdefault(room, {"expected": 0, "accounted": 0})["expected"] += 1
        self.by_point: dict[str | None, int] = {}

    @classmethod
    def load(cls, db: Database, rollcall_id: str) -> Tally:
        """Return the tally of a roll call as stored now."""
        tally = cls({r["participant_id"]: r["last_checkpoint"]
                     for r in _expected(db, rollcall_id)})
        tally.fold(accounts_since(db, rollcall_id, 0))
        return tally

    def fold(self, accounts: list[dict[str, Any]]) -> set[int]:
        """Fold in accounts (rows of `accounts_since`); return whose counting account changed."""
        changed = set()
        for account in accounts:
            self.seq = max(self.seq, account["seq"])
            pid = account["participant_id"]
            if pid not in self.rooms:
                continue  # not expected: it counts for nobody
            before = self.first.get(pid)
            if before is not None and (before["at"], before["seq"]) <= \
                    (account["at"], account["seq"]):
                continue
            self.first[pid] = {k: account[k] for k in ACCOUNT_COLUMNS}
            if before is None:
                self.by_room[self.rooms[pid]]["accounted"] += 1
            else:
                self.by_point[before["point"]] -= 1
            self.by_point[account["point"]] = self.by_point.get(account["point"], 0) + 1
            changed.add(pid)
        return changed

    def accounts(self, only: set[int] | None = None) -> dict[int, dict[str, Any]]:
        """Return each accounted person's (or `only` those's) counting account (how, point,
        reason, by, at)."""
        found = self.first if only is None else \
            {pid: self.first[pid] for pid in only if pid in self.first}
        return {pid: {k: v for k, v in a.items() if k != "seq"} for pid, a in found.items()}

    def numbers(self) -> dict[str, Any]:
        """Return the numbers without names: per last-seen checkpoint (expected, accounted),
        per assembly point (accounted), and when everyone was accounted for (None while
        anyone is missing, or nobody was expected)."""
        done = max(a["at"] for a in self.first.values()) \
            if self.rooms and len(self.first) == len(self.rooms) else None
        return {"by_room": {room: dict(n) for room, n in self.by_room.items()},
                "by_point": {point: n for point, n in self.by_point.items() if n},
                "everyone_accounted_at": done}


ACCOUNT_COLUMNS = ("seq", "how", "point", "reason", "by", "at")


def accounts_since(db: Database, rollcall_id: str, after: int) -> list[dict[str, Any]]:
    """Return a roll call's accounts stored after the account `after` (its seq), in order."""
    return rows(db, "SELECT seq, participant_id, how, point, reason, by, at "
                    # `+`: along the log's order (its key), not the index of people.
                    "FROM rollcall_accounts WHERE seq > ? AND +rollcall_id = ? ORDER BY seq",
                [after, rollcall_id])


def _expected(db: Database, rollcall_id: str, columns: str = "", joins: str = "",
              only: list[int] | None = None) -> list[dict[str, Any]]:
    """Return a roll call's expected rows `e` (with `columns` of `joins`), or only `only`'s."""
    where = "" if only is None else \
        " AND e.participant_id IN (SELECT value FROM json_each(?))"
    return rows(db, f"SELECT e.participant_id, e.last_checkpoint, e.last_seen_at {columns} "  # noqa: S608
                    f"FROM rollcall_expected e {joins} WHERE e.rollcall_id = ?{where}",
                [rollcall_id] + ([] if only is None else [json.dumps(sorted(only))]))


def people(db: Database, rollcall_id: str, tally: Tally | None = None,
           only: set[int] | None = None) -> list[dict[str, Any]]:
    """Return everyone a roll call expects (or `only` those), with their last sighting and
    their counting account (None: missing), sorted by name; `tally` saves reading it again."""
    first = (tally or Tally.load(db, rollcall_id)).accounts(only)
    out = [{"id": r["participant_id"], "title": r["title"], "first_name": r["first_name"],
            "last_name": r["last_name"], "organisation": r["organisation"],
            "phone": r["phone"],
            "last_seen": {"checkpoint": r["last_checkpoint"], "at": r["last_seen_at"]},
            "account": first.get(r["participant_id"])}
           for r in _expected(db, rollcall_id, ", p.title, p.first_name, p.last_name, "
                              "p.organisation, p.phone",
                              "JOIN participants p ON p.id = e.participant_id",
                              None if only is None else sorted(only))]
    out.sort(key=lambda p: (p["last_name"].casefold(), p["first_name"].casefold(), p["id"]))
    return out


def clear_rollcalls(db: Database) -> None:
    """Delete every roll call (a rehearsal's, by `checkin reset --scans`); run it inside the
    caller's write transaction."""
    for table in ("rollcall_accounts", "rollcall_expected", "rollcalls"):
        db.execute(f"DELETE FROM {table}")  # noqa: S608


def snapshot(db: Database) -> list[dict[str, Any]]:
    """Return who is present now, with names, last sighting and the SHA-256 (hex) of each of
    their valid badge codes in canonical form: a marshal's phone's offline list."""
    present = {p["participant_id"]: p for p in present_now(db)}
    ids = json.dumps(sorted(present))
    codes: dict[int, list[str]] = {}
    for pid, code in db.execute("SELECT participant_id, code FROM codes WHERE revoked_at IS "
                                "NULL AND participant_id IN (SELECT value FROM json_each(?))",
                                [ids]).fetchall():
        codes.setdefault(pid, []).append(hashlib.sha256(code.encode()).hexdigest())
    found = rows(db, "SELECT id, title, first_name, last_name, organisation FROM participants "
                     "WHERE id IN (SELECT value FROM json_each(?)) "
                     "ORDER BY casefold(last_name), casefold(first_name), id", [ids])
    return [{**p, "last_seen": {"checkpoint": present[p["id"]]["last_checkpoint"],
                                "at": present[p["id"]]["last_seen_at"]},
             "codes": sorted(codes.get(p["id"], []))} for p in found]
