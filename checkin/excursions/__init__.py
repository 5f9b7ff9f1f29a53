"""Excursions: who is on the bus, departures, returns and walk-ons, as plain functions over the
database (the guide API and the live layer only translate these to HTTP and Socket.IO).

An excursion's state is derived from the logs (checkin.scans.readmodel; its roster and
counts are read from the projections the writes keep current): confirmations are scans at
its checkpoint, and departures, returns and walk-ons are rows in the append-only
table `excursion_events`, each keyed by an id the guide's device chose, so a re-sent event
is stored once. A walk-on is a day event layered over the plan: it never changes
`participants.excursion`, so re-importing the plan cannot undo it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from checkin.core.clock import device_iso, now_iso
from checkin.core.codes import resolve
from checkin.core.db import writing
from checkin.core.errors import DomainError
from checkin.scans.day import excursion_actions, stored_event
from checkin.scans.events import store_event
from checkin.scans.readmodel import (  # noqa: F401 (the excursions' public read names)
    all_excursion_states,
    assigned_excursion,
    excursion_state,
    excursion_statuses,
    latest_scans_at,
)

ACTIONS = ("depart", "return", "walk_on")
MAX_ID = 64


class EventError(DomainError, ValueError):
    """An excursion event cannot be stored: a catalogue entry (checkin.core.errors)."""


def excursion_of(db: Database, checkpoint: str | None) -> str | None:
    """Return the excursion id of an excursion checkpoint, or None for any other checkpoint."""
    found = db.execute("SELECT ref FROM checkpoints WHERE id = ? AND kind = 'excursion'",
                       [checkpoint]).fetchone() if checkpoint else None
    return found[0] if found else None


def _check(db: Database, excursion_id: str, item: Any) -> dict[str, Any]:
    """Check an event as a device sent it; return its clean fields or raise EventError."""
    if not isinstance(item, dict):
        raise EventError("bad_json.event")
    event_id = item.get("id")
    if not isinstance(event_id, str) or not 8 <= len(event_id) <= MAX_ID \
            or not event_id.isprintable():
        raise EventError("bad_field.event_id", limit=MAX_ID)
    action = item.get("action")
    if action not in ACTIONS:
        raise EventError("bad_field.action", allowed=", ".join(ACTIONS))
    at = device_iso(item.get("at"))
    if at is None:
        raise EventError("bad_field.event_time")
    participant = None
    code = None
    if action == "walk_on":
        participant = item.get("participant")
        code = item.get("code")
        if participant is None and isinstance(code, str):
            # Offline, a guide's phone knows only its own roster: it sends the scanned code.
            status, person = resolve(db, code)
            if status != "valid" or person is None:
                raise EventError("unknown_code")
            participant = person["id"]
        if not isinstance(participant, int) or isinstance(participant, bool):
            raise EventError("bad_field.walk_on")
        if not db.execute("SELECT 1 FROM participants WHERE id = ?", [participant]).fetchone():
            raise EventError("unknown_participant.event", participant=participant)
    return {"id": event_id, "action": action, "at": at, "participant": participant}


def record_event(db: Database, excursion_id: str, item: Any, device_id: str | None = None,
                 now: datetime | None = None) -> tuple[dict[str, Any], bool]:
    """Store one excursion event exactly once; return (stored row, duplicate?) or raise
    EventError (nothing stored)."""
    if not db.execute("SELECT 1 FROM excursions WHERE id = ?", [excursion_id]).fetchone():
        raise EventError("not_found.excursion_id", excursion=excursion_id)
    received = now_iso(now)
    with writing(db):
        # isprintable() also refuses a lone surrogate, which SQLite cannot even look up.
        if isinstance(item, dict) and isinstance(item.get("id"), str) \
                and item["id"].isprintable():
            earlier = stored_event(db, item["id"])
            if earlier is not None:
                return earlier, True
        ev = _check(db, excursion_id, item)
        # A device with a fast clock cannot put an event in the future.
        at = min(ev["at"], received)
        actions = excursion_actions(db, excursion_id)
        detail: dict[str, Any] = {}
        if ev["action"] == "depart":
            if "depart" in actions:
                raise EventError("already_departed")
            state = excursion_state(db, excursion_id)
            assert state is not None
            detail = {
                "came": [r["id"] for r in state["roster"] if r["status"] == "confirmed"],
                "missing": [r["id"] for r in state["roster"] if r["status"] == "missing"],
            }
        elif ev["action"] == "return":
            if "depart" not in actions:
                raise EventError("not_departed")
            if "return" in actions:
                raise EventError("already_returned")
        else:
            # A day event over the plan: the plan (participants.excursion) stays as it was.
            old = assigned_excursion(db, ev["participant"])
            if old == excursion_id:
                raise EventError("already_assigned")
            detail = {"from": old, "to": excursion_id}
        store_event(db, {"id": ev["id"], "excursion": excursion_id, "action": ev["action"],
                         "participant_id": ev["participant"], "at": at, "received_at": received,
                         "device_id": device_id, "detail": json.dumps(detail)})
        stored = stored_event(db, ev["id"])
    assert stored is not None
    return stored, False


def event_detail(row: dict[str, Any]) -> dict[str, Any]:
    """Return an event row's detail as a dict."""
    return json.loads(row.get("detail") or "{}")


def departures(db: Database) -> list[dict[str, Any]]:
    """Return the departure board: every excursion's times, status, counts and seats, no names."""
    board = []
    for state in all_excursion_states(db):
        x = state["excursion"]
        board.append({key: x[key] for key in ("id", "title", "departure_place", "departs_at",
                                              "returns_at", "status", "departed_at",
                                              "returned_at")}
                     | {"counts": state["counts"], "seats": state["seats"]})
    return board
