"""What a device may read about people: the encrypted offline roster and name search.

The roster holds one entry per issued code (revoked ones too), keyed by
hex(sha256("checkin-id:" + CODE)) and encrypted with AES-256-GCM under the key
sha256("checkin-key:" + CODE): only someone holding the badge can read its entry, so a lost
tablet does not reveal the participant list.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlite_utils import Database

from checkin.core.db import now_iso
from checkin.scans.access import Actor, roster_excursion
from checkin.scans.day import ASSIGNED_EXCURSION
from checkin.scans.people import PERSON_COLUMNS, PERSON_JOINS, search_people
from checkin.scans.record import ScanInputError, person_public
from checkin.scans.sql import rows
from checkin.security.policy import excursion_returned

MAX_RESULTS = 20
MIN_QUERY = 2


def entry_key(code: str) -> str:
    """Return the roster key of a (normalised) code."""
    return hashlib.sha256(("checkin-id:" + code).encode("utf-8")).hexdigest()


def entry_cipher_key(code: str) -> bytes:
    """Return the AES-256 key that encrypts a (normalised) code's roster entry."""
    return hashlib.sha256(("checkin-key:" + code).encode("utf-8")).digest()


def encrypt_entry(code: str, payload: dict[str, Any]) -> dict[str, str]:
    """Encrypt one roster entry for `code`."""
    iv = os.urandom(12)
    data = AESGCM(entry_cipher_key(code)).encrypt(
        iv, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), None)
    return {"k": entry_key(code), "iv": base64.b64encode(iv).decode("ascii"),
            "d": base64.b64encode(data).decode("ascii")}


def roster(db: Database, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """Return the offline roster the actor may hold (a guide: its excursion's people only)."""
    excursion = roster_excursion(db, actor)
    if excursion is not None and excursion_returned(db, excursion):
        # Back from the trip: the guide's phone needs no list any more, and drops its copy.
        return {"generated_at": now_iso(now), "entries": []}
    # Every issued code (the view's `code` is only the person's current one).
    sql = (f"SELECT c.code AS badge_code, c.revoked_at, {PERSON_COLUMNS} FROM codes c "  # noqa: S608
           f"JOIN participants p ON p.id = c.participant_id {PERSON_JOINS}")
    params: list[Any] = []
    if excursion is not None:
        # The people on the excursion today: the plan with the day's walk-ons applied.
        sql += f" WHERE {ASSIGNED_EXCURSION} = ?"
        params.append(excursion)
    entries = []
    for row in rows(db, sql + " ORDER BY c.code", params):
        code, revoked = row.pop("badge_code"), row.pop("revoked_at")
        entries.append(encrypt_entry(code, {"status": "revoked" if revoked else "valid",
                                            "participant": person_public(row)}))
    return {"generated_at": now_iso(now), "entries": entries}


def find_people(db: Database, actor: Actor, q: str) -> list[dict[str, Any]]:
    """Find up to 20 people by name or organisation for a manual check-in (no e-mail, no code).

    Raises ScanInputError (a ValueError) for a query shorter than 2 characters and Forbidden
    for a display.
    """
    q = (q or "").strip()
    if len(q) < MIN_QUERY or len(q) > 200:
        raise ScanInputError("bad_field.search", n=MIN_QUERY)
    excursion = roster_excursion(db, actor)
    rows = search_people(db, q, excursion=excursion or "", limit=MAX_RESULTS)
    return [{"id": r["id"], "name": f"{r['first_name']} {r['last_name']}",
             "organisation": r["organisation"], "city": r["city"],
             "working_group_title": r["working_group_title"],
             "excursion_title": r["excursion_title"]} for r in rows]
