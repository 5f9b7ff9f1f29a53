"""Roll calls as the API, the command line and the record see them: checked input, who may
do what, and a roll call's JSON (counts, per assembly point, per last-seen room, people).

The rules and the SQL are in checkin.scans.rollcall; this module checks what callers send
and shapes what each caller may read (a display: counts only; phone numbers: organisers).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from checkin.core.assembly import PREFIX, marshals_may_start
from checkin.core.clock import device_iso, to_utc
from checkin.core.permissions import (
    ALL,
    COUNTS,
    IF_ALLOWED,
    OWN,
    ROLLCALL,
    ROLLCALL_ACCOUNT,
    ROLLCALL_RUN,
    Actor,
    Forbidden,
    is_organiser,
    require,
)
from checkin.core.permissions import VENUE as VENUE_ONLY
from checkin.core.plaintext import invisible_character
from checkin.core.texts import checkpoint_names
from checkin.scans import rollcall as rules
from checkin.scans.access import roster_excursion
from checkin.scans.policy import time_allowed
from checkin.scans.rollcall import VENUE, RollcallError, excursion_scope

__all__ = ["RollcallError", "account", "assembly_points", "end", "excursion_rollcall",
           "read", "record", "snapshot_people", "start", "view"]

ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
MAX_ACCOUNTS = 500
MAX_EXPECTED = 100_000
MAX_REASON = 200
#: Who started or ended a roll call from the command line.
COMMAND_LINE = "command line"


def by_name(actor: Actor | None) -> str:
    """Return how the record names who did something: the device's or organiser's name."""
    if actor is None:
        return COMMAND_LINE
    return actor["name"] if not is_organiser(actor) else "organiser:" + actor["name"]


# --------------------------------------------------------------------------- checking input

def _bad(field: str) -> RollcallError:
    return RollcallError("bad_field.rollcall", field=field)


def _id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not ID.match(value):
        raise _bad(field)
    return value


def _participant(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**62:
        raise _bad(field)
    return value


def _time(value: Any, field: str, db: Database | None = None) -> str:
    stored = device_iso(value)
    # A device's clock gone wrong (a day or more off) must not place an act out of the day.
    if stored is None or (db is not None and not time_allowed(db, to_utc(stored))):
        raise _bad(field)
    return stored


def assembly_points(db: Database) -> dict[str, str]:
    """Return the event's assembly points: id (without `assembly:`) -> checkpoint name."""
    return {r[0]: r[1] for r in db.execute(
        "SELECT ref, name FROM checkpoints WHERE kind = 'assembly' ORDER BY position, id")}


def check_point(db: Database, value: Any) -> str | None:
    """Return an assembly point's id (`car-park` or `assembly:car-park`), None for none, or
    refuse an unknown one."""
    if value is None or value == "":
        return None
    point = value[len(PREFIX):] if isinstance(value, str) and value.startswith(PREFIX) \
        else value
    if not isinstance(point, str) or point not in assembly_points(db):
        raise RollcallError("rollcall.unknown_point", point=str(value)[:80])
    return point


def _expected(value: Any) -> list[dict[str, Any]] | None:
    """Check a phone's expected list (from its snapshot)."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_EXPECTED:
        raise _bad("expected")
    out = []
    for n, item in enumerate(value):
        where = f"expected[{n}]"
        if not isinstance(item, dict):
            raise _bad(where)
        seen_at = item.get("last_seen_at")
        checkpoint = item.get("last_checkpoint")
        if checkpoint is not None and (not isinstance(checkpoint, str) or len(checkpoint) > 80):
            raise _bad(where + ".last_checkpoint")
        out.append({"participant_id": _participant(item.get("participant_id"),
                                                   where + ".participant_id"),
                    "last_checkpoint": checkpoint,
                    "last_seen_at": None if seen_at is None else
                    _time(seen_at, where + ".last_seen_at")})
    return out


def _reason(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_REASON or \
            any(ord(ch) < 32 for ch in value) or invisible_character(value) is not None:
        raise _bad(field)
    return value.strip()


def check_accounts(db: Database, value: Any) -> list[dict[str, Any]]:
    """Check a batch of accounts: [{id, participant_id, how, point?, reason?, at}]."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_ACCOUNTS:
        raise RollcallError("bad_field.accounts", limit=MAX_ACCOUNTS)
    out = []
    for n, item in enumerate(value):
        where = f"accounts[{n}]"
        if not isinstance(item, dict):
            raise _bad(where)
        if item.get("how") not in rules.HOWS:
            raise _bad(where + ".how")
        out.append({"id": _id(item.get("id"), where + ".id"),
                    "participant_id": _participant(item.get("participant_id"),
                                                   where + ".participant_id"),
                    "how": item["how"], "point": check_point(db, item.get("point")),
                    "reason": _reason(item.get("reason"), where + ".reason"),
                    "at": _time(item.get("at"), where + ".at", db)})
    return out


# --------------------------------------------------------------------------- who may

def _guide_excursion(db: Database, actor: Actor) -> str:
    """Return the excursion a guide's phone belongs to (refused without one)."""
    found = roster_excursion(db, actor)
    if found is None:
        raise Forbidden("forbidden.no_excursion")
    return found


def _may_touch(db: Database, actor: Actor | None, action: str, rollcall: dict[str, Any]) -> str:
    """Return the actor's scope for `action` on this roll call, or refuse it: a guide only
    its excursion's, a marshal only the venue's where the event file allows. The command
    line (None) may do everything."""
    if actor is None:
        return ALL
    reach = require(actor, action)
    if reach == OWN and rollcall["scope"] != excursion_scope(_guide_excursion(db, actor)):
        raise Forbidden("forbidden.excursion")
    if reach in (VENUE_ONLY, IF_ALLOWED) and rollcall["scope"] != VENUE:
        raise Forbidden()
    if reach == IF_ALLOWED and not marshals_may_start(db):
        raise Forbidden("forbidden.marshal_start")
    return reach


def _found(db: Database, rollcall_id: Any) -> dict[str, Any]:
    found = rules.get_rollcall(db, rollcall_id) if isinstance(rollcall_id, str) else None
    if found is None:
        raise RollcallError("rollcall.not_found")
    return found


# --------------------------------------------------------------------------- what callers read

def view(db: Database, rollcall_id: str, language: str = "en", names: bool = True,
         phones: bool = False, tally: rules.Tally | None = None,
         only: set[int] | None = None) -> dict[str, Any]:
    """Return a roll call as JSON: counts, per assembly point, per last-seen room and (with
    `names`) its people, missing first, or `only` those; `phones` adds phone numbers
    (organisers only). A `tally` already read (checkin.live.rollcall keeps one) saves
    reading the roll call's accounts again."""
    row = _found(db, rollcall_id)
    where = checkpoint_names(db, language)
    points = assembly_points(db)
    tally = tally or rules.Tally.load(db, rollcall_id)
    tallies = tally.numbers()
    out = {k: row[k] for k in ("id", "scope", "point", "started_at", "started_by", "ended_at",
                               "ended_by")}
    out["point_name"] = where.get(PREFIX + row["point"]) if row["point"] else None
    rooms = [{"checkpoint": cp, "name": where.get(cp, cp) if cp else None,
              "expected": n["expected"], "accounted": n["accounted"],
              "missing": n["expected"] - n["accounted"]}
             for cp, n in tallies["by_room"].items()]
    expected = sum(r["expected"] for r in rooms)
    accounted = sum(r["accounted"] for r in rooms)
    out["counts"] = {"expected": expected, "accounted": accounted,
                     "missing": expected - accounted}
    out["everyone_accounted_at"] = tallies["everyone_accounted_at"]
    by_point = tallies["by_point"]
    out["by_point"] = [{"point": point, "name": where.get(PREFIX + point, name),
                        "accounted": by_point.get(point, 0)} for point, name in points.items()]
    if by_point.get(None):
        out["by_point"].append({"point": None, "name": None, "accounted": by_point[None]})
    out["by_room"] = sorted(rooms, key=lambda r: (-r["missing"], r["name"] or ""))
    if names:
        out["people"] = _people(db, rollcall_id, where, points, phones, tally, only)
    return out


def _people(db: Database, rollcall_id: str, where: dict[str, str], points: dict[str, str],
            phones: bool, tally: rules.Tally, only: set[int] | None) -> list[dict[str, Any]]:
    """Return a roll call's people with names of places, missing first (the marshals'
    question), each part by name."""
    people = rules.people(db, rollcall_id, tally, only)
    for p in people:
        cp = p["last_seen"]["checkpoint"]
        p["last_seen"]["name"] = where.get(cp, cp) if cp else None
        if p["account"] is not None and p["account"]["point"]:
            point = p["account"]["point"]
            p["account"]["point_name"] = where.get(PREFIX + point, points.get(point, point))
        if not phones:
            del p["phone"]
    return ([p for p in people if p["account"] is None]
            + [p for p in people if p["account"] is not None])


def _reads(db: Database, actor: Actor | None, rollcall: dict[str, Any]) -> tuple[bool, bool]:
    """Return whether `actor` may read a roll call's names, and its phone numbers (or refuse)."""
    reach = _may_touch(db, actor, ROLLCALL, rollcall)
    return reach != COUNTS, actor is None or is_organiser(actor)


def view_for(db: Database, actor: Actor | None, rollcall_id: str, language: str = "en",
             only: set[int] | None = None) -> dict[str, Any]:
    """Return a roll call as `actor` may read it (None: the command line, everything), its
    people or `only` those."""
    names, phones = _reads(db, actor, _found(db, rollcall_id))
    return view(db, rollcall_id, language, names=names, phones=phones, only=only)


def view_as(db: Database, actor: Actor, full: dict[str, Any]) -> dict[str, Any]:
    """Return what `actor` may read of a roll call's full view (`view` with names and phones)
    without reading the roll call again: /live sends one roll call to several roles at once."""
    names, phones = _reads(db, actor, full)
    out = {k: v for k, v in full.items() if k != "people"}
    if names:
        out["people"] = full["people"] if phones else \
            [{k: v for k, v in p.items() if k != "phone"} for p in full["people"]]
    return out


def read(db: Database, actor: Actor | None, rollcall_id: str | None = None,
         language: str = "en") -> dict[str, Any] | None:
    """Return the roll call `rollcall_id`, else the running venue roll call, else the latest
    venue roll call, as `actor` may read it; None when there is none."""
    if actor is not None and require(actor, ROLLCALL) == OWN and rollcall_id is None:
        raise Forbidden()  # a guide reads its excursion's roll call (excursion_rollcall)
    if rollcall_id is None:
        found = rules.current(db, VENUE)
        if found is None:
            return None
        rollcall_id = found["id"]
    return view_for(db, actor, rollcall_id, language)


def excursion_rollcall(db: Database, actor: Actor, excursion_id: str,
                       language: str = "en") -> dict[str, Any] | None:
    """Return an excursion's running (else latest) roll call as `actor` may read it."""
    _may_touch(db, actor, ROLLCALL, {"scope": excursion_scope(excursion_id)})
    if not db.execute("SELECT 1 FROM excursions WHERE id = ?", [excursion_id]).fetchone():
        raise RollcallError("not_found.excursion")
    found = rules.current(db, excursion_scope(excursion_id))
    return None if found is None else view_for(db, actor, found["id"], language)


def snapshot_people(db: Database, actor: Actor, language: str = "en") -> list[dict[str, Any]]:
    """Return who is present now with where they were last seen and their badge codes'
    SHA-256, for a marshal's phone's offline start and look-up."""
    if require(actor, ROLLCALL) not in (ALL, VENUE_ONLY):
        raise Forbidden()
    where = checkpoint_names(db, language)
    return [{**p, "last_seen": {**p["last_seen"], "name": where.get(p["last_seen"]["checkpoint"])}}
            for p in rules.snapshot(db)]


# --------------------------------------------------------------------------- acts

def start(db: Database, actor: Actor | None, body: dict[str, Any], *,
          excursion_id: str | None = None,
          now: datetime | None = None) -> tuple[dict[str, Any], str]:
    """Start the venue roll call (or an excursion's) as `body` asks; return its row and what
    happened (checkin.scans.rollcall.start). The command line's actor is None."""
    if excursion_id is not None:
        scope = excursion_scope(excursion_id)
        _may_touch(db, actor, ROLLCALL_RUN, {"scope": scope})
    else:
        scope = VENUE
        if _may_touch(db, actor, ROLLCALL_RUN, {"scope": scope}) == OWN:
            raise Forbidden()  # a guide runs only its excursion's roll call
    rollcall_id = body.get("id")
    return rules.start(
        db, scope=scope, started_by=by_name(actor),
        rollcall_id=None if rollcall_id is None else _id(rollcall_id, "id"),
        point=check_point(db, body.get("point")),
        started_at=None if body.get("started_at") is None else
        _time(body["started_at"], "started_at", db),
        expected=_expected(body.get("expected")), now=now)


def account(db: Database, actor: Actor | None, rollcall_id: Any, body: dict[str, Any],
            now: datetime | None = None) -> list[dict[str, Any]]:
    """Store a batch of accounts in a roll call, exactly once each; return their results."""
    rollcall = _found(db, rollcall_id)
    _may_touch(db, actor, ROLLCALL_ACCOUNT, rollcall)
    accounts = check_accounts(db, body.get("accounts"))
    return rules.add_accounts(db, rollcall["id"], accounts, by_name(actor), now)


def end(db: Database, actor: Actor | None, rollcall_id: Any, body: dict[str, Any] | None = None,
        now: datetime | None = None) -> dict[str, Any]:
    """End a roll call (a marshal only where it may start one) at `body`'s `at` (a phone's
    time; default now); return its row."""
    rollcall = _found(db, rollcall_id)
    _may_touch(db, actor, ROLLCALL_RUN, rollcall)
    moment = (body or {}).get("at")
    return rules.end(db, rollcall["id"], by_name(actor),
                     None if moment is None else _time(moment, "at", db), now)



def record(db: Database) -> list[dict[str, Any]]:
    """Return every roll call's record for the summary: when and by whom it started, how
    many were expected, how long until everyone was accounted for (seconds) or how many
    were still missing, and how many each marshal (or guide, organiser) accounted for."""
    out = []
    for row in rules.all_rollcalls(db):
        tally = rules.Tally.load(db, row["id"])
        people = rules.people(db, row["id"], tally)
        done = tally.numbers()["everyone_accounted_at"]
        by = Counter(p["account"]["by"] for p in people if p["account"] is not None)
        out.append({
            **{k: row[k] for k in ("id", "scope", "point", "started_at", "started_by",
                                   "ended_at")},
            "expected": len(people),
            "missing": sum(p["account"] is None for p in people),
            "everyone_accounted_at": done,
            "seconds_to_all": None if done is None else
            max(0, round((to_utc(done) - to_utc(row["started_at"])).total_seconds())),
            "by": [{"by": name, "accounted": n} for name, n in sorted(by.items())]})
    return out
