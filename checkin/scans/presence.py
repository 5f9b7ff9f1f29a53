"""Who is where: the `location` projection of the read model, kept current on every write.

A person's row in `location` is their latest effective scan (see checkin.scans.readmodel),
recomputed from the log inside the transaction that changes it, so reading presence at the
door costs one indexed lookup. The counts themselves are defined in the read model; the
names below stay importable from here.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.core.db import writing
from checkin.scans.readmodel import (  # noqa: F401 (the public names of presence)
    checkpoint_headcount,
    expected,
    headcounts,
    history_before,
    in_venue,
    inside,
    latest_scan,
    venue_count,
)

LOCATION_INSERT = (
    "INSERT INTO location (participant_id, scan_seq, checkpoint, direction, sort_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(participant_id) DO UPDATE SET "
    "scan_seq = excluded.scan_seq, checkpoint = excluded.checkpoint, "
    "direction = excluded.direction, sort_at = excluded.sort_at")


def store_location(db: Database, participant_id: int, scan: dict[str, Any] | None) -> None:
    """Write a person's row in `location` from their latest effective scan (None: no row)."""
    if scan is None:
        db.execute("DELETE FROM location WHERE participant_id = ?", [participant_id])
    else:
        db.execute(LOCATION_INSERT, [participant_id, scan["seq"], scan["checkpoint"],
                                     scan["direction"], scan["sort_at"]])


def refresh_location(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Recompute one person's row in `location` from the log; return it (None: no scans)."""
    if not db.conn.in_transaction:
        with writing(db):
            return refresh_location(db, participant_id)
    # Inside the caller's transaction (a scan, a correction): no savepoint of its own, which
    # cost every scan two statements and a random name; a failure rolls the caller back.
    scan = latest_scan(db, participant_id)
    store_location(db, participant_id, scan)
    if scan is None:
        return None
    return {"participant_id": participant_id, "scan_seq": scan["seq"],
            "checkpoint": scan["checkpoint"], "direction": scan["direction"],
            "sort_at": scan["sort_at"]}
