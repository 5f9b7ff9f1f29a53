"""What organisers must look at now: a plain function over the database and the time.

Each alert is a dict with a stable `id` (the same situation keeps its id while it lasts, so
a screen can tell new alerts from old ones), a `kind`, a `severity` ("bad" or "warn") and
the numbers and names that describe it; the pages word it in the reader's language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from checkin.core import clock
from checkin.core.clock import now_iso, to_utc
from checkin.core.places import place_state
from checkin.excursions import all_excursion_states
from checkin.scans import headcounts
from checkin.scans.scanlist import bad_code_scans

# An excursion still boarding this close to its departure with people missing needs a call.
DUE_WITHIN = timedelta(minutes=10)
# An unknown or revoked badge matters while the person may still be at the door.
BAD_CODE_WITHIN = timedelta(minutes=30)
BAD_CODES_SHOWN = 10
# A device that made requests and then stopped for this long may be lost, flat or offline.
SILENT_AFTER = timedelta(minutes=10)
# ...but one quiet for hours was put away (end of the day): that is no longer news.
SILENT_FORGET = timedelta(hours=3)
# An excursion that never recorded its departure stops being "due" this long after it.
OVERDUE_FORGET = timedelta(hours=3)


def _minutes(delta: timedelta) -> int:
    """Whole minutes of a time difference, rounded towards zero."""
    return int(delta.total_seconds() // 60) if delta >= timedelta(0) \
        else -int(-delta.total_seconds() // 60)


# A room's fullness (checkin.core.places) that organisers are warned of, and how strongly.
ROOM_ALERTS = {"near": ("near_capacity", "warn"), "full": ("at_capacity", "warn"),
               "over": ("over_capacity", "bad")}


def capacity_alerts(db: Database) -> list[dict[str, Any]]:
    """Rooms (and the venue, if it has a capacity) nearly full, full or over capacity."""
    out = []
    for cp in headcounts(db)["checkpoints"]:
        if cp["kind"] == "excursion":
            continue
        found = ROOM_ALERTS.get(place_state(cp["inside"], cp["capacity"]))
        if found:
            kind, severity = found
            out.append({"id": f"{kind}:{cp['id']}", "kind": kind,
                        "severity": severity, "checkpoint": cp["id"], "name": cp["name"],
                        "inside": cp["inside"], "capacity": cp["capacity"]})
    return out


def seat_alerts(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Excursions not yet back with more people (expected or aboard) than seats."""
    return [{"id": f"excursion_over_seats:{s['excursion']['id']}",
             "kind": "excursion_over_seats", "severity": "bad",
             "excursion": s["excursion"]["id"], "title": s["excursion"]["title"],
             "people": s["seats"]["people"], "capacity": s["seats"]["capacity"]}
            for s in states
            if s["seats"]["state"] == "over" and s["excursion"]["status"] != "returned"]


def excursion_alerts(db: Database, now: datetime,
                     states: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Excursions still boarding, due to leave within 10 minutes (or late), with people missing."""
    out = []
    for state in all_excursion_states(db) if states is None else states:
        x = state["excursion"]
        if x["status"] != "boarding" or not x["departs_at"] or not state["counts"]["missing"]:
            continue
        departs = to_utc(x["departs_at"])
        until = departs - now
        forget = to_utc(x["returns_at"]) if x["returns_at"] else departs + OVERDUE_FORGET
        if until > DUE_WITHIN or now >= forget:
            continue
        missing = [r["name"] for r in state["roster"]
                   if r.get("assigned", True) and r["status"] == "missing"]
        out.append({"id": f"excursion_due:{x['id']}", "kind": "excursion_due",
                    "severity": "bad" if until <= timedelta(0) else "warn",
                    "excursion": x["id"], "title": x["title"], "departs_at": x["departs_at"],
                    "minutes": _minutes(until), "missing": state["counts"]["missing"],
                    "expected": state["counts"]["expected"],
                    "confirmed": state["counts"]["confirmed"], "names": missing[:8]})
    return out


def bad_code_alerts(db: Database, now: datetime) -> list[dict[str, Any]]:
    """Unknown or revoked badges scanned in the last 30 minutes (not voided), newest first."""
    rows = bad_code_scans(db, now_iso(now - BAD_CODE_WITHIN), now_iso(now), BAD_CODES_SHOWN)
    out = []
    for r in rows:
        device = r["device_name"] or ""
        out.append({"id": f"bad_code:{r['id']}", "kind": r["reason"], "severity": "warn",
                    "scan": r["id"], "seq": r["seq"], "checkpoint": r["checkpoint"],
                    "name": r["checkpoint_name"] or r["checkpoint"],
                    "device_name": device.split(":", 1)[1] if device.startswith("organiser:")
                    else device,
                    "participant_name": r["participant_name"], "at": r["sort_at"]})
    return out


def silent_device_alerts(db: Database, now: datetime) -> list[dict[str, Any]]:
    """Paired devices that made requests and then went quiet for more than 10 minutes."""
    rows = db.query(
        "SELECT d.id, d.name, d.role, d.checkpoint, c.name AS checkpoint_name, d.last_seen_at "
        "FROM devices d LEFT JOIN checkpoints c ON c.id = d.checkpoint "
        "WHERE d.revoked_at IS NULL AND d.last_seen_at IS NOT NULL "
        "AND d.last_seen_at < ? AND d.last_seen_at >= ? ORDER BY d.last_seen_at, d.name",
        [now_iso(now - SILENT_AFTER), now_iso(now - SILENT_FORGET)])
    return [{"id": f"device_silent:{r['id']}", "kind": "device_silent", "severity": "warn",
             "device": r["id"], "name": r["name"], "role": r["role"],
             "checkpoint": r["checkpoint"], "checkpoint_name": r["checkpoint_name"],
             "last_seen_at": r["last_seen_at"],
             "minutes": _minutes(now - to_utc(r["last_seen_at"]))} for r in rows]


def alerts(db: Database, now: datetime | None = None) -> list[dict[str, Any]]:
    """Return every current alert, the most urgent ('bad') first."""
    now = to_utc(now or clock.now())
    states = all_excursion_states(db)
    found = (capacity_alerts(db) + seat_alerts(states) + excursion_alerts(db, now, states)
             + bad_code_alerts(db, now) + silent_device_alerts(db, now))
    # sorted() is stable: within a severity the order above (rooms, buses, badges, devices).
    return sorted(found, key=lambda a: a["severity"] != "bad")
