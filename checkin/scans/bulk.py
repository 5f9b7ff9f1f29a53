"""Appending many already-judged log rows at once: a large event's day built in one go.

`record_scans` judges each scan against the person's history, which is right at the door
and far too slow for 150,000 scans made up by `checkin.demo.scale`. These rows come judged
(status, reason, sort_at): they are inserted with executemany in one transaction, and every
projection is then recomputed from the log by `rebuild_projections`, so the projections
cannot disagree with what was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from checkin.core.db import writing
from checkin.scans.rebuild import rebuild_projections

SCAN_COLUMNS = ("id", "code", "participant_id", "checkpoint", "direction", "at",
                "received_at", "sort_at", "device_id", "source", "status", "reason", "detail")
CORRECTION_COLUMNS = ("id", "scan_id", "action", "checkpoint", "organiser", "note", "at")
EVENT_COLUMNS = ("id", "excursion", "action", "participant_id", "at", "received_at",
                 "device_id", "detail")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    """Return the INSERT of one row of `table` with named parameters for `columns`."""
    return (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join(':' + c for c in columns)})")


def append_log(db: Database, scans: Iterable[dict[str, Any]],
               corrections: Iterable[dict[str, Any]] = (),
               events: Iterable[dict[str, Any]] = ()) -> dict[str, int]:
    """Append judged scans, corrections and excursion events in one transaction, then
    recompute every projection; return the rows per table written or rebuilt.

    Rows go in in the given order (scans' seq is that order). Raises ValueError, writing
    nothing, for a checkpoint the event does not have: the read model would count it nowhere.
    """
    scans, corrections, events = list(scans), list(corrections), list(events)
    with writing(db):
        known = {r[0] for r in db.execute("SELECT id FROM checkpoints")}
        unknown = {r["checkpoint"] for r in scans} | {
            r["checkpoint"] for r in corrections if r["checkpoint"] is not None}
        if unknown - known:
            raise ValueError(f"unknown checkpoints: {sorted(unknown - known)[:5]}")
        db.conn.executemany(_insert("scans", SCAN_COLUMNS), scans)
        db.conn.executemany(_insert("corrections", CORRECTION_COLUMNS), corrections)
        db.conn.executemany(_insert("excursion_events", EVENT_COLUMNS), events)
        rebuilt = rebuild_projections(db)
    return {"scans": len(scans), "corrections": len(corrections),
            "excursion_events": len(events), **rebuilt}
