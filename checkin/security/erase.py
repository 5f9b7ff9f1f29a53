"""The right to erasure and the purge after the event, as plain functions over the database.

A person's row is kept, emptied of what identifies them (names, e-mail, organisation name),
so that their scans, headcounts, working group and excursion figures stay exactly as they
were. City (the delegation) and organisation type stay: the summary's statistics use them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from checkin.db import get_meta, now_iso, set_meta, writing
from checkin.event import event_info

#: How long after the event day `checkin serve` starts reminding to purge.
REMIND_AFTER = timedelta(days=30)
# The meta key listing people who are not real (the demo's): their data needs no purge.
FICTIONAL = "fictional_participants"
_BLANK = ("first_name = '', last_name = '', organisation = '', email = NULL, "
          "updated_at = :now, erased_at = coalesce(erased_at, :now)")


def erase_participant(db: Database, participant_id: int, now: datetime | None = None) -> bool:
    """Erase one person's personal data and revoke their codes; False if there is no such person.

    Their scans stay (anonymous), so every count stays as it was.
    """
    stamp = now_iso(now)
    # Freed bytes are overwritten with zeros instead of lingering in the file's free space.
    db.conn.execute("PRAGMA secure_delete = ON")
    with writing(db):
        found = db.execute(f"UPDATE participants SET {_BLANK} WHERE id = :id",  # noqa: S608
                           {"now": stamp, "id": participant_id}).rowcount
        if not found:
            return False
        db.execute("UPDATE codes SET revoked_at = ? WHERE participant_id = ? "
                   "AND revoked_at IS NULL", [stamp, participant_id])
        # Organisers' notes on the person's scans may name them.
        db.execute("UPDATE corrections SET note = NULL WHERE scan_id IN "
                   "(SELECT id FROM scans WHERE participant_id = ?)", [participant_id])
    checkpoint(db)
    return True


@dataclass
class Purged:
    """What a purge did: people emptied, upload files deleted, whether the WAL was emptied."""

    participants: int
    uploads: int
    wal_emptied: bool


def checkpoint(db: Database) -> bool:
    """Copy the write-ahead log into the database and empty it; False if a reader held it."""
    try:
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError:
        return False
    return busy == 0


def purge(db: Database, uploads: Path | None = None, now: datetime | None = None) -> Purged:
    """Erase every participant's personal data; every statistic stays exactly as it was.

    Then rewrite the file (VACUUM) and empty its write-ahead log, so that the old bytes are
    gone from disk too, and delete uploads still waiting for confirmation.
    """
    stamp = now_iso(now)
    db.conn.execute("PRAGMA secure_delete = ON")
    with writing(db):
        count = db.execute(f"UPDATE participants SET {_BLANK}",  # noqa: S608
                           {"now": stamp}).rowcount
        db.execute("UPDATE corrections SET note = NULL")
        set_meta(db, "purged_at", stamp)
    checkpoint(db)
    db.conn.execute("VACUUM")
    emptied = checkpoint(db)
    removed = 0
    if uploads is not None and uploads.is_dir():
        for path in uploads.glob("*.upload"):
            path.unlink(missing_ok=True)
            removed += 1
    return Purged(participants=count, uploads=removed, wal_emptied=emptied)


def mark_fictional(db: Database, participant_ids: Iterable[int]) -> None:
    """Record people as fictional (the demo's), so that no purge is asked for them alone."""
    with writing(db):
        known = set(json.loads(get_meta(db, FICTIONAL) or "[]"))
        set_meta(db, FICTIONAL, json.dumps(sorted(known | set(participant_ids))))


def purge_reminder(db: Database, today: date | None = None) -> str | None:
    """Return a reminder to purge when the event is over 30 days past, not purged, and holds
    real people's data (the demo's fictional people alone need none)."""
    if get_meta(db, "purged_at"):
        return None
    try:
        day = date.fromisoformat((event_info(db) or {}).get("date") or "")
    except ValueError:
        return None
    today = today or datetime.now(UTC).date()
    if today - day <= REMIND_AFTER:
        return None
    if not db.execute("SELECT 1 FROM participants WHERE erased_at IS NULL AND id NOT IN "
                      "(SELECT value FROM json_each(?)) LIMIT 1",
                      [get_meta(db, FICTIONAL) or "[]"]).fetchone():
        return None
    return (f"The event was {(today - day).days} days ago and its participants' personal "
            "data is still here. When the reports are done, erase it with: checkin purge --yes")
