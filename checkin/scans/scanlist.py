"""The log as organisers read it, row by row: every stored scan, rejected and voided ones too.

The counts of the day come from the effective log (checkin.scans.log); these rows are what
the overview's tables, a person's page, the alerts and the tools show of the raw log, each
with what corrections made of it (`voided`, `moved_to`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from checkin.scans.log import MOVED_TO, VOIDED
from checkin.scans.sql import rows

# One scan as organisers see it: who, where, which device, what it meant, and its corrections.
_SCAN_VIEW = f"""
SELECT s.seq, s.id, s.participant_id, s.checkpoint, s.direction, s.at, s.received_at,
  s.sort_at, s.device_id, s.source, s.status, s.reason, s.detail,
  p.first_name || ' ' || p.last_name AS participant_name,
  c.name AS checkpoint_name, coalesce(d.name, s.device_id) AS device_name,
  {VOIDED} AS voided, {MOVED_TO} AS moved_to
FROM scans s
LEFT JOIN participants p ON p.id = s.participant_id
LEFT JOIN checkpoints c ON c.id = s.checkpoint
LEFT JOIN devices d ON d.id = s.device_id
"""  # noqa: S608 (VOIDED and MOVED_TO are constants, not input)


def scan_rows_by_seq(db: Database, seqs: list[int]) -> list[dict[str, Any]]:
    """Return the given scans (by seq) with who, where, device and corrections, oldest first."""
    if not seqs:
        return []
    return rows(db, _SCAN_VIEW + " WHERE s.seq IN (SELECT value FROM json_each(?)) "  # noqa: S608
                "ORDER BY s.seq", [json.dumps(sorted(set(seqs)))])


def scan_rows_since(db: Database, since: int, limit: int = 200) -> list[dict[str, Any]]:
    """Return the scans stored after seq `since` (the newest `limit` of them), oldest first."""
    found = rows(db, _SCAN_VIEW + " WHERE s.seq > ? ORDER BY s.seq DESC LIMIT ?",  # noqa: S608
                 [since, limit])
    return list(reversed(found))


def scan_rows_of(db: Database, participant_id: int) -> list[dict[str, Any]]:
    """Return every stored scan of one person, in the order they happened."""
    return rows(db, _SCAN_VIEW + " WHERE s.participant_id = ? "  # noqa: S608
                "ORDER BY s.sort_at, s.seq", [participant_id])


def latest_seq(db: Database) -> int:
    """Return the seq of the newest stored scan (0 when there is none)."""
    return db.execute("SELECT coalesce(max(seq), 0) FROM scans").fetchone()[0]


def log_totals(db: Database) -> dict[str, Any]:
    """Return how many scans are stored (rejected and voided too) and when the last arrived."""
    # Both without reading the log: its size is kept by triggers (schema m023l), and the
    # last stored scan is the last received (the server stamps each as it stores it).
    count = db.execute("SELECT scans FROM log_size").fetchone()[0]
    last = db.execute("SELECT received_at FROM scans ORDER BY seq DESC LIMIT 1").fetchone()
    return {"scans": count, "last_received": last[0] if last else None}


def bad_code_scans(db: Database, since: str, until: str, limit: int) -> list[dict[str, Any]]:
    """Return scans of unknown or revoked badges received in [since, until], not voided,
    newest first."""
    return rows(db, _SCAN_VIEW + "WHERE s.reason IN ('unknown_code', 'revoked_code') "  # noqa: S608
                f"AND s.received_at >= ? AND s.received_at <= ? AND NOT {VOIDED} "
                "ORDER BY s.seq DESC LIMIT ?", [since, until, limit])


def scans_not_by_devices_named(db: Database, prefix: str) -> int:
    """Count the stored scans that no device whose name starts with `prefix` made."""
    return db.execute(
        "SELECT count(*) FROM scans s LEFT JOIN devices d ON d.id = s.device_id "
        "WHERE d.name IS NULL OR d.name NOT LIKE ? || '%'", [prefix]).fetchone()[0]
