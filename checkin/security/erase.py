"""The right to erasure and the purge after the event, as plain functions over the database.

A person's row is kept, emptied of what identifies them (names, e-mail, organisation name,
badge codes), so that their scans, headcounts, working group and excursion figures stay
exactly as they were. City (the delegation) and organisation type stay: the summary's
statistics use them. Their codes, mail and print records go; the log's part is done by
checkin.scans.erase. The purge also reaches the files the product wrote beside the database
(backups, replicas, Litestream's state, print files): see docs/security.md.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from checkin.continuity.backup import replace_backups
from checkin.continuity.replication import (
    remove_tree,
    renew_replica,
    replica_destinations,
    shadow_folders,
)
from checkin.core import clock
from checkin.core.clock import now_iso
from checkin.core.db import get_meta, set_meta, writing
from checkin.core.event import event_day
from checkin.desk.printing import forget_print_files
from checkin.devices import revoke
from checkin.scans.erase import erase_from_log
from checkin.scans.roster import forget_name_secrets

#: How long after the event day `checkin serve` starts reminding to purge.
REMIND_AFTER = timedelta(days=30)
# The meta key listing people who are not real (the demo's): their data needs no purge.
FICTIONAL = "fictional_participants"
# Everything that names a person or leads to them: names, title, e-mail, phone, organisation
# name and the badge code (replaced by a value no scanner reads as a code: the column must be
# unique).
_BLANK = ("first_name = '', last_name = '', title = '', organisation = '', email = NULL, "
          "phone = '', "
          "code = 'erased-' || id, updated_at = :now, erased_at = coalesce(erased_at, :now)")
# Tables beside the log that hold a person's mailbox, code or badge, by participant_id.
_BY_PERSON = ("mailings", "print_jobs", "codes")


def _forget(db: Database, participant_id: int | None, stamp: str) -> int:
    """Erase one person's personal data everywhere in the database, or everyone's with None.

    Run inside a write transaction; returns how many participant rows were emptied.
    """
    one = participant_id is not None
    params = {"pid": participant_id} if one else {}
    rows, linked = ("WHERE id = :pid", "WHERE participant_id = :pid") if one else ("", "")
    count = db.execute(f"UPDATE participants SET {_BLANK} {rows}",  # noqa: S608
                       {"now": stamp, **params}).rowcount
    if one and not count:
        return 0
    for table in _BY_PERSON:
        # Codes are deleted, not revoked: a revoked code still leads from the badge to the
        # person's row and scans. Mails and print jobs hold the address and the code.
        db.execute(f"DELETE FROM {table} {linked}", params)  # noqa: S608
    erase_from_log(db, participant_id)
    forget_name_secrets(db)
    return count


def erase_participant(db: Database, participant_id: int, now: datetime | None = None) -> bool:
    """Erase one person's personal data and codes everywhere; False if there is no such person.

    Their scans stay (anonymous), so every count stays as it was.
    """
    # Freed bytes are overwritten with zeros instead of lingering in the file's free space.
    db.conn.execute("PRAGMA secure_delete = ON")
    with writing(db):
        found = _forget(db, participant_id, now_iso(now))
    if not found:
        return False
    checkpoint(db)
    return True


@dataclass
class Purged:
    """What a purge did in the database: people emptied, devices told to wipe, uploads
    deleted, whether the WAL was emptied."""

    participants: int
    devices: int
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

    Every device is revoked, so that it wipes its stored roster and queue at its next
    contact. Then the file is rewritten (VACUUM) and its write-ahead log emptied, so that the
    old bytes are gone from disk too, and uploads still waiting for confirmation are deleted.
    """
    stamp = now_iso(now)
    db.conn.execute("PRAGMA secure_delete = ON")
    with writing(db):
        count = _forget(db, None, stamp)
        set_meta(db, "purged_at", stamp)
    devices = sum(revoke(db, row[0], now) for row in
                  db.execute("SELECT id FROM devices WHERE revoked_at IS NULL").fetchall())
    checkpoint(db)
    db.conn.execute("VACUUM")
    emptied = checkpoint(db)
    removed = 0
    if uploads is not None and uploads.is_dir():
        for path in uploads.glob("*.upload"):
            path.unlink(missing_ok=True)
            removed += 1
    return Purged(participants=count, devices=devices, uploads=removed, wal_emptied=emptied)


#: What no purge can reach; its output names each, so that the organiser erases them.
OUT_OF_REACH = (
    "a standby laptop's own disk (an event restored there and its backups): purge it there",
    "copies you made: `checkin backup -o`, exports, badge PDFs, paper lists, copied folders",
    "badge mails already delivered (they hold the code and the badge), and the sent-mail "
    "folder of the account that sent them",
    "printed badges, and a printer's own memory of its jobs",
    "devices that never contact the server again (they wipe themselves only when they do)",
)


@dataclass
class Cleaned:
    """What a purge did to the files the product wrote beside the database."""

    backups: int = 0
    replicas: list[str] = field(default_factory=list)
    print_files: int = 0
    problems: list[str] = field(default_factory=list)


def purge_files(db: Database, db_path: Path, cups_jobs: list[str]) -> Cleaned:
    """Replace the backups and replicas of a purged database by copies of it as it is now,
    delete Litestream's local state and the print files; say what could not be reached."""
    done = Cleaned(backups=replace_backups(db_path))
    for destination in replica_destinations(db_path):
        problem = renew_replica(db_path, destination)
        if problem:
            done.problems.append(problem)
        else:
            done.replicas.append(destination)
    if not done.replicas:
        for shadow in shadow_folders(db_path):
            remove_tree(shadow)
    done.print_files, problems = forget_print_files(cups_jobs)
    done.problems += problems
    # Litestream writes its bookkeeping into the database while it copies it.
    checkpoint(db)
    return done


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
    day = event_day(db)
    if day is None:
        return None
    today = today or clock.now().date()
    if today - day <= REMIND_AFTER:
        return None
    if not db.execute("SELECT 1 FROM participants WHERE erased_at IS NULL AND id NOT IN "
                      "(SELECT value FROM json_each(?)) LIMIT 1",
                      [get_meta(db, FICTIONAL) or "[]"]).fetchone():
        return None
    return (f"The event was {(today - day).days} days ago and its participants' personal "
            "data is still here. When the reports are done, erase it with: checkin purge --yes")
