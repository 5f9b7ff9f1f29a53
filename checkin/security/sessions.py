"""Organiser sessions kept server-side: start, look up, end one, end all of an organiser's.

The cookie carries only a random id (signed by Flask); the database keeps its hash, who it
belongs to and when it was last used. Signing out deletes the row, so a copy of the cookie
stops working too; removing an organiser or changing their password deletes all of theirs.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlite_utils import Database

from checkin.core import clock
from checkin.core.clock import now_iso
from checkin.core.db import writing

#: A session unused for this long has ended.
IDLE = timedelta(hours=12)
# Writing last_seen_at on every page view would make every read a write transaction.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(db: Database, username: str, now: datetime | None = None) -> str:
    """Start a session for an existing organiser and return its id (for the cookie)."""
    session_id = secrets.token_urlsafe(32)
    stamp = now_iso(now)
    with writing(db):
        row = db.execute("SELECT id FROM organisers WHERE username = ?", [username]).fetchone()
        if row is None:
            raise LookupError(f"no organiser {username!r}")
        db.execute("INSERT INTO organiser_sessions (id_hash, organiser_id, created_at, "
                   "last_seen_at) VALUES (?, ?, ?, ?)", [_hash(session_id), row[0], stamp, stamp])
        # Sessions idle past their end are of no use to anyone: forget them now and then.
        db.execute("DELETE FROM organiser_sessions WHERE last_seen_at < ?",
                   [now_iso((now or clock.now()) - IDLE)])
    return session_id


def session_user(db: Database, session_id: object, now: datetime | None = None) -> str | None:
    """Return the username of a live session (used within the last 12 hours), else None."""
    if not isinstance(session_id, str) or not 20 <= len(session_id) <= 100:
        return None
    moment = now or clock.now()
    row = db.execute(
        "SELECT o.username, s.last_seen_at FROM organiser_sessions s "
        "JOIN organisers o ON o.id = s.organiser_id WHERE s.id_hash = ?",
        [_hash(session_id)]).fetchone()
    if row is None or row[1] < now_iso(moment - IDLE):
        return None
    if row[1] < now_iso(moment - TOUCH_EVERY):
        with writing(db):
            db.execute("UPDATE organiser_sessions SET last_seen_at = ? WHERE id_hash = ?",
                       [now_iso(moment), _hash(session_id)])
    return row[0]


def end_session(db: Database, session_id: object) -> None:
    """End one session, for every copy of its cookie."""
    if isinstance(session_id, str):
        with writing(db):
            db.execute("DELETE FROM organiser_sessions WHERE id_hash = ?", [_hash(session_id)])


def end_all_sessions(db: Database, username: str) -> int:
    """End every session of an organiser; return how many were open."""
    with writing(db):
        return db.execute(
            "DELETE FROM organiser_sessions WHERE organiser_id IN "
            "(SELECT id FROM organisers WHERE username = ?)", [username]).rowcount


def remove_organiser(db: Database, username: str) -> bool:
    """Delete an organiser account and end all its sessions; False if there is none."""
    with writing(db):
        end_all_sessions(db, username)
        return db.execute("DELETE FROM organisers WHERE username = ?",
                          [username]).rowcount == 1
