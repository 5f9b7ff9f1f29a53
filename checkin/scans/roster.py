"""What a device may read about people: the encrypted offline roster and name search.

The roster holds one entry per issued code (revoked ones too), keyed by
hex(sha256("checkin-id:" + CODE)) and encrypted with AES-256-GCM under the key
sha256("checkin-key:" + CODE): only someone holding the badge can read its entry, so a lost
tablet does not reveal the participant list.

The name index (for a name search without the network) holds one entry per normalised last
name, keyed and encrypted by a slow hash of that name: PBKDF2-HMAC-SHA256 with the event's
salt and NAME_ITERATIONS rounds gives a secret, sha256("checkin-name-id:" + secret) is the
entry's key and sha256("checkin-name-key:" + secret) its AES-256-GCM key. The tablet finds
the people whose full last name the volunteer types, and cannot list anyone: every guess
costs the slow hash (docs/security.md says what that buys and what it does not).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets
import unicodedata
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlite_utils import Database

from checkin.core.clock import now_iso
from checkin.core.db import get_meta, set_meta, with_database, writing
from checkin.scans.access import Actor, roster_excursion
from checkin.scans.day import ASSIGNED_EXCURSION
from checkin.scans.people import PERSON_COLUMNS, PERSON_JOINS, search_people
from checkin.scans.policy import excursion_returned
from checkin.scans.record import ScanInputError, person_public
from checkin.scans.sql import rows

MAX_RESULTS = 20
MIN_QUERY = 2
# PBKDF2 rounds per guessed name: about 0.05 s on a laptop or tablet per name (the server
# pays it once per last name and process, the tablet once per search).
NAME_ITERATIONS = 100_000
NAME_SALT = "name_salt"
# Each entry's plain text is padded to a multiple of this, so its length tells little.
NAME_PAD = 1024
# Names derived between two writes of their secrets (see name_secrets).
DERIVE_CHUNK = 50


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


def normalise_last_name(text: str) -> str:
    """Return a last name as the offline search keys it: lower case, no accents, letters only.

    The scanner's JavaScript (scanner-store.js, normaliseName) applies the same rule, so
    "Kröger", "KROGER" and "van der Veen" / "Van der veen" meet.
    """
    folded = unicodedata.normalize("NFKD", text or "").lower().replace("ß", "ss")
    return "".join(ch for ch in folded if ch.isalnum() and not unicodedata.combining(ch))


def name_salt(db: Database) -> bytes:
    """Return the event's salt for the name index (made once; a slow hash per event)."""
    found = get_meta(db, NAME_SALT)
    if found is None:
        with writing(db):
            found = get_meta(db, NAME_SALT)
            if found is None:
                found = secrets.token_hex(16)
                set_meta(db, NAME_SALT, found)
    return bytes.fromhex(found)


def name_secret(salt: bytes, name: str, iterations: int = NAME_ITERATIONS) -> bytes:
    """Return the slow hash of a normalised last name."""
    return hashlib.pbkdf2_hmac("sha256", name.encode("utf-8"), salt, iterations)


def _stored_secrets(db: Database, salt: bytes, names: list[str]) -> dict[str, bytes]:
    """Return the stored slow hashes of these names (those derived already)."""
    return dict(db.execute(
        "SELECT name, secret FROM name_secrets WHERE salt = ? AND iterations = ? "
        "AND name IN (SELECT value FROM json_each(?))",
        [salt, NAME_ITERATIONS, json.dumps(names)]).fetchall())


def name_secrets(db: Database, salt: bytes, names: list[str]) -> dict[str, bytes]:
    """Return each name's slow hash: stored in the event (`name_secrets`) once derived.

    A 5,000-person event has some 3,500 last names, about 90 s of PBKDF2: paid once per
    event, by the pool worker that meets a name first, and kept for every process, restart
    and standby. Workers deriving at the same time take the names in their own random order
    and store them 50 at a time, so that they mostly share the work rather than repeat it.
    """
    found = _stored_secrets(db, salt, names)
    missing = [n for n in names if n not in found]
    random.shuffle(missing)
    while missing:
        chunk, missing = missing[:DERIVE_CHUNK], missing[DERIVE_CHUNK:]
        chunk = [n for n in chunk if n not in _stored_secrets(db, salt, chunk)]
        derived = {n: name_secret(salt, n) for n in chunk}
        with writing(db):
            db.conn.executemany(
                "INSERT OR IGNORE INTO name_secrets(name, salt, iterations, secret) "
                "VALUES (?, ?, ?, ?)",
                [(n, salt, NAME_ITERATIONS, secret) for n, secret in derived.items()])
        found.update(_stored_secrets(db, salt, list(derived)))
    return found


def forget_name_secrets(db: Database, borne: list[str] | None = None) -> None:
    """Delete the stored slow hashes of last names no one (not erased) bears any more
    (`borne`: those still borne, if the caller knows them): they are derived from a person's
    name, so an erasure, or a re-import that removes the person, takes them too."""
    if borne is None:
        borne = sorted({normalise_last_name(r[0]) for r in db.execute(
            "SELECT last_name FROM participants WHERE erased_at IS NULL")})
    stale = "FROM name_secrets WHERE name NOT IN (SELECT value FROM json_each(?))"
    if db.execute(f"SELECT 1 {stale} LIMIT 1", [json.dumps(borne)]).fetchone():  # noqa: S608
        with writing(db):
            db.execute(f"DELETE {stale}", [json.dumps(borne)])  # noqa: S608


def name_entry_key(secret: bytes) -> str:
    """Return the name index's key of an entry from its name's slow hash."""
    return hashlib.sha256(b"checkin-name-id:" + secret).hexdigest()


def name_cipher_key(secret: bytes) -> bytes:
    """Return the AES-256 key of a name index entry from its name's slow hash."""
    return hashlib.sha256(b"checkin-name-key:" + secret).digest()


def _hit(row: dict[str, Any]) -> dict[str, Any]:
    """Return what a name search shows of a person (online or offline): no e-mail, no code."""
    return {"id": row["id"], "name": f"{row['first_name']} {row['last_name']}",
            "organisation": row["organisation"], "city": row["city"],
            # Ids too: the page shows the titles in its own language (its event names).
            "working_group": row["working_group"],
            "working_group_title": row["working_group_title"],
            "excursion": row["excursion"], "excursion_title": row["excursion_title"]}


def name_index(db: Database) -> dict[str, Any]:
    """Return the offline name index: the salt, the rounds and one sealed entry per last name."""
    salt = name_salt(db)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in rows(db, f"SELECT {PERSON_COLUMNS} FROM participants p "  # noqa: S608
                        f"{PERSON_JOINS} WHERE p.erased_at IS NULL ORDER BY p.id"):
        name = normalise_last_name(row["last_name"])
        if name:
            by_name.setdefault(name, []).append(_hit(row))
    # The slow hashes: derived once per event (the API makes the roster in a pool worker).
    forget_name_secrets(db, list(by_name))
    derived = name_secrets(db, salt, list(by_name))
    entries = []
    for name, found in by_name.items():
        secret = derived[name]
        plain = json.dumps({"people": found}, ensure_ascii=False,
                           separators=(",", ":")).encode("utf-8")
        plain += b" " * (-len(plain) % NAME_PAD)  # JSON ignores trailing blanks
        iv = os.urandom(12)
        entries.append({"k": name_entry_key(secret), "iv": base64.b64encode(iv).decode("ascii"),
                        "d": base64.b64encode(AESGCM(name_cipher_key(secret)).encrypt(
                            iv, plain, None)).decode("ascii")})
    entries.sort(key=lambda e: e["k"])  # the order of the keys says nothing about the names
    return {"salt": base64.b64encode(salt).decode("ascii"), "iterations": NAME_ITERATIONS,
            "entries": entries}


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
    answer: dict[str, Any] = {"generated_at": now_iso(now), "entries": entries}
    if excursion is None:
        # A door's name search offline; a guide's phone holds its group's names already.
        answer["names"] = name_index(db)
    return answer


def roster_json(database: str, actor: Actor) -> bytes:
    """Return the actor's roster as the API sends it (JSON), read on a connection of its own.

    At 5,000 people sealing every entry costs about 0.15 s of CPU: the API runs this in a
    pool worker (checkin.core.pool), and only the finished bytes cross to the door's loop.
    """
    found = with_database(database, roster, actor)
    return json.dumps(found, separators=(",", ":")).encode("utf-8")


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
    return [_hit(r) for r in rows]
