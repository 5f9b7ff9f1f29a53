"""Badge codes: random, opaque, revocable; the QR holds only the code, never personal data."""

from __future__ import annotations

import secrets
from typing import Any

from sqlite_utils import Database

from checkin.core.clock import now_iso
from checkin.core.db import writing

# No look-alikes (0/O, 1/I/L, U/V) and no Y or Z: a hand scanner set to a US layout types
# those two swapped on a German keyboard. 28 symbols x 22 = 105.8 bits of randomness.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWX"
LENGTH = 22


def new_code() -> str:
    """Return a fresh random code of LENGTH symbols from ALPHABET."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str) -> str | None:
    """Return the code in `text` in canonical form, or None if it cannot be a badge code."""
    if not isinstance(text, str) or len(text) > 200:
        return None
    # Hand scanners may add spaces or newlines; people may type lower case.
    code = "".join(text.split()).upper()
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def issue_code(db: Database, participant_id: int) -> str:
    """Issue a new code to a participant and record it (the caller updates participants.code)."""
    while True:
        code = new_code()
        if not db.execute("SELECT 1 FROM codes WHERE code = ?", [code]).fetchone():
            break
    db.execute("INSERT INTO codes(code, participant_id, issued_at) VALUES (?, ?, ?)",
               [code, participant_id, now_iso()])
    return code


def reissue(db: Database, participant_id: int) -> str:
    """Give a participant a new code; the old one stops working at once.

    Raises LookupError for an unknown person and for an erased one (an erased person has no
    badge that works).
    """
    with writing(db):
        row = db.execute("SELECT code FROM participants WHERE id = ? AND erased_at IS NULL",
                         [participant_id]).fetchone()
        if row is None:
            raise LookupError(f"no participant {participant_id} with personal data")
        db.execute("UPDATE codes SET revoked_at = ? WHERE participant_id = ? "
                   "AND revoked_at IS NULL", [now_iso(), participant_id])
        code = issue_code(db, participant_id)
        db.execute("UPDATE participants SET code = ?, updated_at = ? WHERE id = ?",
                   [code, now_iso(), participant_id])
    return code


def resolve(db: Database, text: str) -> tuple[str, dict[str, Any] | None]:
    """Say what a scanned text is: valid or revoked (with the person), unknown or invalid."""
    code = normalise(text)
    if code is None:
        return "invalid", None
    rows = list(db.query(
        "SELECT c.revoked_at AS code_revoked_at, p.* FROM codes c "
        "JOIN participants p ON p.id = c.participant_id WHERE c.code = ?", [code]))
    if not rows:
        return "unknown", None
    person = rows[0]
    revoked = person.pop("code_revoked_at")
    return ("revoked" if revoked else "valid"), person
