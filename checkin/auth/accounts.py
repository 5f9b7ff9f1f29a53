"""Organiser accounts and the one-time setup link, as plain functions over the database."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from checkin.core import clock
from checkin.core.clock import now_iso
from checkin.core.db import get_meta, set_meta, writing
from checkin.core.errors import DomainError
from checkin.core.pool import run_pooled

MIN_PASSWORD = 10
SETUP_HOURS = 24
# Checked against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not-a-password-" + secrets.token_hex(8))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountError(DomainError, ValueError):
    """An organiser account cannot be made as asked: a catalogue entry (checkin.core.errors)."""


def check_account(username: str, password: str) -> None:
    """Raise AccountError if the username or the new password cannot be used."""
    if len(password) < MIN_PASSWORD:
        raise AccountError("short_password", n=MIN_PASSWORD)
    if not username.strip() or len(username.strip()) > 80:
        raise AccountError("bad_username")


def add_organiser(db: Database, username: str, password: str) -> int:
    """Create an organiser account (or set a new password for an existing one); raise
    AccountError for a username or password that cannot be used."""
    check_account(username, password)
    username = username.strip()
    # Hashing is slow on purpose (about 0.13 s of scrypt): done in a pool worker, at the
    # lowest CPU priority, and before the write lock is taken, so that neither the door's
    # event loop nor its writes wait for it. (A thread was not enough: four sign-ins at
    # once took both cores from the door.)
    password_hash = run_pooled(generate_password_hash, password)
    with writing(db):
        db.execute(
            "INSERT INTO organisers(username, password_hash, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash",
            [username, password_hash, now_iso()])
        organiser_id = db.execute("SELECT id FROM organisers WHERE username = ?",
                                  [username]).fetchone()[0]
        # A new password ends every session of the account (a stolen cookie too).
        db.execute("DELETE FROM organiser_sessions WHERE organiser_id = ?", [organiser_id])
        return organiser_id


def check_login(db: Database, username: str, password: str) -> bool:
    """Return whether the username and password belong to an organiser."""
    row = db.execute("SELECT password_hash FROM organisers WHERE username = ?",
                     [username.strip()]).fetchone()
    # In a pool worker, as in add_organiser: a sign-in must not hold the door.
    ok = run_pooled(check_password_hash, row[0] if row else _DUMMY_HASH, password)
    return bool(row) and ok


def has_organisers(db: Database) -> bool:
    """Return whether any organiser account exists yet."""
    return db.execute("SELECT 1 FROM organisers LIMIT 1").fetchone() is not None


def new_setup_token(db: Database) -> str:
    """Create a one-time setup token for the first organiser account; it replaces older ones."""
    token = secrets.token_urlsafe(24)
    expires = clock.now() + timedelta(hours=SETUP_HOURS)
    with writing(db):
        set_meta(db, "setup_hash", _digest(token))
        set_meta(db, "setup_expires_at", now_iso(expires))
    return token


def use_setup_token(db: Database, token: str, username: str, password: str) -> bool:
    """Create an organiser with a valid setup token, which then stops working."""
    with writing(db):
        stored = get_meta(db, "setup_hash")
        expires = get_meta(db, "setup_expires_at")
        if not stored or not expires or expires < now_iso():
            return False
        if not hmac.compare_digest(stored, _digest(token)):
            return False
        add_organiser(db, username, password)
        db.execute("DELETE FROM meta WHERE key IN ('setup_hash', 'setup_expires_at')")
        # Kept (hashed) so that opening the link again can say "already used", not "unknown".
        set_meta(db, "setup_used_hash", stored)
    return True


def setup_token_used(db: Database, token: str) -> bool:
    """Return whether `token` is the setup token that already created an account."""
    used = get_meta(db, "setup_used_hash")
    return bool(used and hmac.compare_digest(used, _digest(token)))


def setup_token_valid(db: Database, token: str) -> bool:
    """Return whether a setup token would be accepted now."""
    stored = get_meta(db, "setup_hash")
    expires = get_meta(db, "setup_expires_at")
    return bool(stored and expires and expires >= now_iso()
                and hmac.compare_digest(stored, _digest(token)))
