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
    effective_sql,
    expected,
    headcounts,
    history_before,
    in_venue,
    inside,
    latest_scan,
    venue_count,
)


def refresh_location(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Recompute one person's row in `location` from the log; return it (None: no scans)."""
    if not db.conn.in_transaction:
        with writing(db):
            return refresh_location(db, participant_id)
    # Inside the caller's transaction (a scan, a correction): no savepoint of its own, which
    # cost every scan two statements and a random name; a failure rolls the caller back.
    scan = latest_scan(db, participant_id)
    if scan is None:
        db.execute("DELETE FROM location WHERE participant_id = ?", [participant_id])
        return None
    db.execute(
        "INSERT INTO location (participant_id, scan_seq, checkpoint, direction, sort_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(participant_id) DO UPDATE SET "
        "scan_seq = excluded.scan_seq, checkpoint = excluded.checkpoint, "
        "direction = excluded.direction, sort_at = excluded.sort_at",
        [participant_id, scan["seq"], scan["checkpoint"], scan["direction"],
         scan["sort_at"]])
    return {"participant_id": participant_id, "scan_seq": scan["seq"],
            "checkpoint": scan["checkpoint"], "direction": scan["direction"],
            "sort_at": scan["sort_at"]}


def rebuild_locations(db: Database) -> int:
    """Rebuild the whole `location` table from the log; return how many people it places."""
    with writing(db):
        db.execute("DELETE FROM location")
        db.execute(
            "INSERT INTO location (participant_id, scan_seq, checkpoint, direction, sort_at) "  # noqa: S608
            "SELECT participant_id, seq, checkpoint, direction, sort_at FROM ("
            " SELECT e.*, row_number() OVER (PARTITION BY e.participant_id "
            " ORDER BY e.sort_at DESC, e.seq DESC) AS n FROM (" + effective_sql() + ") e"
            ") WHERE n = 1")
        return db.execute("SELECT count(*) FROM location").fetchone()[0]
