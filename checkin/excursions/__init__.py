"""Excursions: who is on the bus, departures, returns and walk-ons, as plain functions over the
database (the guide API and the live layer only translate these to HTTP and Socket.IO).

An excursion's state is derived, never stored: confirmations are scans at its checkpoint
(`excursion:<id>`), and departures, returns and walk-ons are rows in the append-only table
`excursion_events`, each keyed by an id the guide's device chose, so a re-sent event is
stored once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from checkin.codes import resolve
from checkin.db import now_iso, writing
from checkin.scans.presence import EFFECTIVE

ACTIONS = ("depart", "return", "walk_on")
MAX_ID = 64


class EventError(ValueError):
    """An excursion event cannot be stored; `code` says why for machines, the text for people."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


def checkpoint_of(excursion_id: str) -> str:
    """Return the checkpoint id where people are confirmed for an excursion."""
    return f"excursion:{excursion_id}"


def excursion_of(checkpoint: str | None) -> str | None:
    """Return the excursion id of an excursion checkpoint, or None for any other checkpoint."""
    if checkpoint and checkpoint.startswith("excursion:"):
        return checkpoint.split(":", 1)[1]
    return None


def parse_time(value: Any) -> str | None:
    """Return an ISO 8601 time with a zone as a sortable UTC string, or None if it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return now_iso(moment) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):  # year 1 at +01:00 cannot be moved to UTC
        return None


def latest_scans_at(db: Database, checkpoint: str) -> dict[int, dict[str, Any]]:
    """Return, per person, their latest effective scan at `checkpoint` (voids and moves
    applied exactly as the presence projection applies them)."""
    # Only scans made at the checkpoint or moved to it can count: the index on
    # scans(checkpoint) finds them without reading the whole log.
    sql = ("SELECT participant_id, direction, sort_at, seq FROM ("  # noqa: S608
           " SELECT e.participant_id, e.direction, e.sort_at, e.seq, row_number() OVER ("
           "  PARTITION BY e.participant_id ORDER BY e.sort_at DESC, e.seq DESC) AS n"
           " FROM (" + EFFECTIVE + " AND (s.checkpoint = :cp OR s.id IN (SELECT scan_id FROM"
           "  corrections WHERE action = 'move' AND checkpoint = :cp))) e"
           " WHERE e.checkpoint = :cp) WHERE n = 1")
    rows = db.execute(sql, {"cp": checkpoint}).fetchall()
    return {r[0]: {"direction": r[1], "sort_at": r[2], "seq": r[3]} for r in rows}


def _events(db: Database, excursion_id: str) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM excursion_events WHERE excursion = ? ORDER BY seq",
                         [excursion_id]))


def excursion_state(db: Database, excursion_id: str) -> dict[str, Any] | None:
    """Return an excursion with its status, roster (confirmed or missing) and counts; None if
    there is no such excursion."""
    row = db.execute(
        "SELECT id, title, departure_place, departs_at, returns_at, capacity, guide "
        "FROM excursions WHERE id = ?", [excursion_id]).fetchone()
    if row is None:
        return None
    keys = ("id", "title", "departure_place", "departs_at", "returns_at", "capacity", "guide")
    excursion: dict[str, Any] = dict(zip(keys, row, strict=True))
    events = _events(db, excursion_id)
    departed = next((e for e in events if e["action"] == "depart"), None)
    returned = next((e for e in events if e["action"] == "return"), None)
    excursion["status"] = "returned" if returned else "departed" if departed else "boarding"
    excursion["departed_at"] = departed["at"] if departed else None
    excursion["returned_at"] = returned["at"] if returned else None

    latest = latest_scans_at(db, checkpoint_of(excursion_id))
    confirmed = {pid: s for pid, s in latest.items() if s["direction"] == "in"}
    walk_ons = {e["participant_id"] for e in events if e["action"] == "walk_on"}
    # The roster: everyone assigned, plus anyone confirmed here who is assigned elsewhere.
    people = {r["id"]: r for r in db.query(
        "SELECT id, first_name, last_name, organisation, city, excursion FROM participants "
        "WHERE excursion = ? OR id IN (SELECT value FROM json_each(?))",
        [excursion_id, json.dumps(sorted(confirmed))])}
    roster = []
    for p in sorted(people.values(),
                    key=lambda p: (p["last_name"].casefold(), p["first_name"].casefold(), p["id"])):
        assigned = p["excursion"] == excursion_id
        scan = confirmed.get(p["id"])
        roster.append({
            "id": p["id"], "name": f"{p['first_name']} {p['last_name']}",
            "first_name": p["first_name"], "last_name": p["last_name"],
            "organisation": p["organisation"], "city": p["city"],
            "status": "confirmed" if scan else "missing",
            "walk_on": assigned and p["id"] in walk_ons,
            # Scanned here although assigned elsewhere (and not added): the guide decides.
            "assigned": assigned,
            "confirmed_at": scan["sort_at"] if scan else None,
        })
    counts = {
        "expected": sum(1 for r in roster if r["assigned"]),
        "confirmed": sum(1 for r in roster if r["status"] == "confirmed"),
        "missing": sum(1 for r in roster if r["assigned"] and r["status"] == "missing"),
        "walk_ons": sum(1 for r in roster if r["walk_on"]),
    }
    return {"excursion": excursion, "roster": roster, "counts": counts}


def all_excursion_states(db: Database) -> list[dict[str, Any]]:
    """Return the state of every excursion, in order of departure."""
    ids = [r[0] for r in db.execute(
        "SELECT id FROM excursions ORDER BY departs_at IS NULL, departs_at, title").fetchall()]
    return [s for s in (excursion_state(db, i) for i in ids) if s is not None]


def _stored(db: Database, event_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM excursion_events WHERE id = ?", [event_id]))
    return rows[0] if rows else None


def _check(db: Database, excursion_id: str, item: Any) -> dict[str, Any]:
    """Check an event as a device sent it; return its clean fields or raise EventError."""
    if not isinstance(item, dict):
        raise EventError("bad_json", "The event must be a JSON object.")
    event_id = item.get("id")
    if not isinstance(event_id, str) or not 8 <= len(event_id) <= MAX_ID \
            or not event_id.isprintable():
        raise EventError("bad_field", f"id must be a text of 8 to {MAX_ID} characters.")
    action = item.get("action")
    if action not in ACTIONS:
        raise EventError("bad_field", f"action must be one of {', '.join(ACTIONS)}.")
    at = parse_time(item.get("at"))
    if at is None:
        raise EventError("bad_field", "at must be an ISO 8601 time with a time zone.")
    participant = None
    code = None
    if action == "walk_on":
        participant = item.get("participant")
        code = item.get("code")
        if participant is None and isinstance(code, str):
            # Offline, a guide's phone knows only its own roster: it sends the scanned code.
            status, person = resolve(db, code)
            if status != "valid" or person is None:
                raise EventError("unknown_code", "This badge code is not valid.")
            participant = person["id"]
        if not isinstance(participant, int) or isinstance(participant, bool):
            raise EventError("bad_field", "A walk_on needs participant (an id) or code.")
        if not db.execute("SELECT 1 FROM participants WHERE id = ?", [participant]).fetchone():
            raise EventError("unknown_participant", f"There is no participant {participant}.",
                             404)
    return {"id": event_id, "action": action, "at": at, "participant": participant}


def record_event(db: Database, excursion_id: str, item: Any, device_id: str | None = None,
                 now: datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Store one excursion event exactly once; return (stored row, duplicate?) or raise
    EventError (nothing stored)."""
    if not db.execute("SELECT 1 FROM excursions WHERE id = ?", [excursion_id]).fetchone():
        raise EventError("not_found", f"There is no excursion {excursion_id!r}.", 404)
    received = now_iso(now or datetime.now(UTC))
    with writing(db):
        # isprintable() also refuses a lone surrogate, which SQLite cannot even look up.
        if isinstance(item, dict) and isinstance(item.get("id"), str) \
                and item["id"].isprintable():
            earlier = _stored(db, item["id"])
            if earlier is not None:
                return earlier, True
        ev = _check(db, excursion_id, item)
        # A device with a fast clock cannot put an event in the future.
        at = min(ev["at"], received)
        actions = {r[0] for r in db.execute(
            "SELECT action FROM excursion_events WHERE excursion = ?", [excursion_id])}
        detail: dict[str, Any] = {}
        if ev["action"] == "depart":
            if "depart" in actions:
                raise EventError("already_departed", "This excursion has already departed.",
                                 409)
            state = excursion_state(db, excursion_id)
            assert state is not None
            detail = {
                "came": [r["id"] for r in state["roster"] if r["status"] == "confirmed"],
                "missing": [r["id"] for r in state["roster"]
                            if r["assigned"] and r["status"] == "missing"],
            }
        elif ev["action"] == "return":
            if "depart" not in actions:
                raise EventError("not_departed", "The excursion has not departed yet.", 409)
            if "return" in actions:
                raise EventError("already_returned", "This excursion has already returned.",
                                 409)
        else:
            old = db.execute("SELECT excursion FROM participants WHERE id = ?",
                             [ev["participant"]]).fetchone()[0]
            if old == excursion_id:
                raise EventError("already_assigned",
                                 "This person is already on this excursion.", 409)
            detail = {"from": old, "to": excursion_id}
            db.execute("UPDATE participants SET excursion = ?, updated_at = ? WHERE id = ?",
                       [excursion_id, received, ev["participant"]])
        db.execute(
            "INSERT INTO excursion_events (id, excursion, action, participant_id, at, "
            "received_at, device_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [ev["id"], excursion_id, ev["action"], ev["participant"], at, received, device_id,
             json.dumps(detail)])
        stored = _stored(db, ev["id"])
    assert stored is not None
    return stored, False


def event_detail(row: dict[str, Any]) -> dict[str, Any]:
    """Return an event row's detail as a dict."""
    return json.loads(row.get("detail") or "{}")
