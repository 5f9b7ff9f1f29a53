"""Scanning devices: add, pair, list, revoke, and authenticate them by their bearer token.

Only hashes of tokens and pairing codes are stored. A device has at most one valid token at
a time: pairing gives it a fresh token and the previous one stops working, so a re-paired
(lost and replaced) tablet cannot be used twice.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from checkin.core import clock
from checkin.core.clock import now_iso
from checkin.core.db import writing
from checkin.core.errors import DomainError
from checkin.core.permissions import ASSEMBLY, DEVICE_ROLES, DOORS, ENTRANCE, OWN, scan_places
from checkin.core.plaintext import invisible_character

# desk: a scanner that also registers walk-ins and prints badges; kiosk: self check-in.
# The roles are the rows of the permission table.
ROLES = DEVICE_ROLES
PAIRING_MINUTES = 10
# Writing last_seen_at on every request would turn each scan into two write transactions.
LAST_SEEN_EVERY = timedelta(seconds=30)
MAX_NAME = 80
PUBLIC = ("id", "name", "role", "checkpoint")
HEX64 = re.compile(r"[0-9a-fA-F]{64}")


class DeviceError(DomainError, ValueError):
    """A device cannot be added or changed as asked: a catalogue entry (checkin.core.errors)."""


def _hash(secret: str) -> str:
    # surrogatepass: a lone surrogate from JSON must not crash, it just matches nothing.
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def new_token() -> str:
    """Return a fresh device token (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def new_pairing_secret() -> str:
    """Return a fresh one-time pairing code (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def pair_url(base_url: str, code: str) -> str:
    """Return the address a tablet opens to pair with `code`."""
    return base_url.rstrip("/") + "/pair/" + code


def public(device: dict[str, Any]) -> dict[str, Any]:
    """Return what a device may know about itself: id, name, role and checkpoint."""
    return {k: device[k] for k in PUBLIC}


def _check(db: Database, name: str, role: str, checkpoint: str | None) -> str:
    """Check a new device's fields; return the cleaned name or raise DeviceError."""
    name = (name or "").strip()
    if not name:
        raise DeviceError("no_name")
    if len(name) > MAX_NAME or any(ord(ch) < 32 for ch in name) or "<" in name or ">" in name \
            or invisible_character(name) is not None:
        raise DeviceError("bad_name", n=MAX_NAME)
    if role not in ROLES:
        raise DeviceError("bad_role")
    kind = None
    if checkpoint:
        row = db.execute("SELECT kind FROM checkpoints WHERE id = ?", [checkpoint]).fetchone()
        if row is None:
            raise DeviceError("unknown_checkpoint.device", checkpoint=checkpoint)
        kind = row[0]
    # Its checkpoint must be one the role's scans may land at (permissions.scan_places).
    where = scan_places({"role": role})
    if where == OWN and kind != "excursion":
        raise DeviceError("guide_needs_excursion")
    if where == ENTRANCE and kind not in (None, "entrance"):
        raise DeviceError("kiosk_at_entrance")
    if where == DOORS and kind == "excursion":
        raise DeviceError("scanner_not_at_excursion")
    # Assembly points are the marshals' alone, and a marshal's phone works nowhere else.
    if (where == ASSEMBLY) != (kind == "assembly") and kind is not None:
        raise DeviceError("assembly_for_marshals")
    return name


def add_device(db: Database, name: str, role: str, checkpoint: str | None = None,
               now: datetime | None = None) -> dict[str, Any]:
    """Add a device; return its id, token and pairing code (shown once, stored only hashed)."""
    name = _check(db, name, role, checkpoint)
    token, code = new_token(), new_pairing_secret()
    moment = _now(now)
    expires = now_iso(moment + timedelta(minutes=PAIRING_MINUTES))
    with writing(db):
        while True:
            device_id = "d" + secrets.token_hex(4)
            if not db.execute("SELECT 1 FROM devices WHERE id = ?", [device_id]).fetchone():
                break
        db.execute(
            "INSERT INTO devices (id, name, role, checkpoint, token_hash, pair_hash, "
            "pair_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [device_id, name, role, checkpoint or None, _hash(token), _hash(code), expires,
             now_iso(moment)])
    return {"id": device_id, "name": name, "role": role, "checkpoint": checkpoint or None,
            "token": token, "pairing_code": code, "pair_expires_at": expires}


def new_pairing_code(db: Database, device_id: str,
                     now: datetime | None = None) -> tuple[str, str]:
    """Give a device a new pairing code (the old one stops working); return it and its expiry."""
    code = new_pairing_secret()
    expires = now_iso(_now(now) + timedelta(minutes=PAIRING_MINUTES))
    with writing(db):
        changed = db.execute(
            "UPDATE devices SET pair_hash = ?, pair_expires_at = ? "
            "WHERE id = ? AND revoked_at IS NULL", [_hash(code), expires, device_id]).rowcount
    if not changed:
        raise DeviceError("unknown_device", device=device_id)
    return code, expires


def pair(db: Database, code: str, now: datetime | None = None
         ) -> tuple[str, dict[str, Any]] | None:
    """Exchange a pairing code for a fresh token; None if the code is unknown, used or expired."""
    if not isinstance(code, str) or not 8 <= len(code) <= 100:
        return None
    token = new_token()
    stamp = now_iso(_now(now))
    with writing(db):
        # The UPDATE clears the code in the same statement that checks it: it works once.
        row = db.execute(
            "UPDATE devices SET token_hash = ?, pair_hash = NULL, pair_expires_at = NULL, "
            "paired_at = ? WHERE pair_hash = ? AND pair_expires_at > ? AND revoked_at IS NULL "
            "RETURNING id, name, role, checkpoint",
            [_hash(token), stamp, _hash(code), stamp]).fetchall()
    if not row:
        return None
    return token, dict(zip(PUBLIC, row[0], strict=True))


def holds_active_token(db: Database, token: str | None = None,
                       token_hash: str | None = None) -> bool:
    """Say whether a token (or the SHA-256 hex of one) belongs to an active device.

    Reads only: the socket guard asks it at every handshake that offers one, so it must not
    write `last_seen_at` as `authenticate` does.
    """
    if isinstance(token, str) and 20 <= len(token) <= 200:
        token_hash = _hash(token)
    if not isinstance(token_hash, str) or not HEX64.fullmatch(token_hash):
        return False
    return db.execute("SELECT 1 FROM devices WHERE token_hash = ? AND revoked_at IS NULL",
                      [token_hash.lower()]).fetchone() is not None


def authenticate(db: Database, token: str, now: datetime | None = None) -> dict[str, Any] | None:
    """Return the active device holding `token` (id, name, role, checkpoint), or None."""
    if not isinstance(token, str) or not 20 <= len(token) <= 200:
        return None
    # Looking up the hash, not the token, keeps timing independent of how much of it matches.
    row = db.execute(
        "SELECT id, name, role, checkpoint, last_seen_at FROM devices "
        "WHERE token_hash = ? AND revoked_at IS NULL", [_hash(token)]).fetchone()
    if row is None:
        return None
    moment = _now(now)
    stale = now_iso(moment - LAST_SEEN_EVERY)
    if row[4] is None or row[4] < stale:
        with writing(db):
            db.execute("UPDATE devices SET last_seen_at = ? WHERE id = ? AND "
                       "(last_seen_at IS NULL OR last_seen_at < ?)",
                       [now_iso(moment), row[0], stale])
    return dict(zip(PUBLIC, row[:4], strict=True))


def revoke(db: Database, device_id: str, now: datetime | None = None) -> bool:
    """Revoke a device: its token and pairing code stop working at once; False if unknown."""
    with writing(db):
        changed = db.execute(
            "UPDATE devices SET revoked_at = ?, token_hash = NULL, pair_hash = NULL, "
            "pair_expires_at = NULL WHERE id = ? AND revoked_at IS NULL",
            [now_iso(_now(now)), device_id]).rowcount
    return bool(changed)


def status(device: dict[str, Any]) -> str:
    """Say where a device stands: 'revoked', 'paired' or 'waiting' (for pairing)."""
    if device.get("revoked_at"):
        return "revoked"
    if device.get("paired_at"):
        return "paired"
    return "waiting"


def get_device(db: Database, device_id: str) -> dict[str, Any] | None:
    """Return one device (without hashes) with its checkpoint's name and its status."""
    found = list_devices(db, device_id=device_id)
    return found[0] if found else None


def list_devices(db: Database, device_id: str | None = None) -> list[dict[str, Any]]:
    """Return every device (without hashes), newest first, with checkpoint name and status."""
    sql = ("SELECT d.id, d.name, d.role, d.checkpoint, c.name AS checkpoint_name, "
           "d.created_at, d.paired_at, d.revoked_at, d.last_seen_at, d.pair_expires_at "
           "FROM devices d LEFT JOIN checkpoints c ON c.id = d.checkpoint")
    params: list[Any] = []
    if device_id is not None:
        sql += " WHERE d.id = ?"
        params.append(device_id)
    sql += " ORDER BY d.revoked_at IS NOT NULL, d.created_at DESC, d.id"
    rows = list(db.query(sql, params))
    for row in rows:
        row["status"] = status(row)
    return rows
