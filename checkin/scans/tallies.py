"""Reading the `tallies` projection: how many people count in a key now (see projections)."""

from __future__ import annotations

import json

from sqlite_utils import Database


def tally(db: Database, what: str, key: str = "") -> int:
    """Return one tally: how many people count in (what, key) now."""
    found = db.execute("SELECT n FROM tallies WHERE what = ? AND key = ?",
                       [what, key]).fetchone()
    return found[0] if found else 0


def tallies_of(db: Database, *whats: str) -> dict[str, dict[str, int]]:
    """Return the tallies of these kinds: what -> key -> how many (kinds without any: {})."""
    out: dict[str, dict[str, int]] = {w: {} for w in whats}
    for what, key, n in db.execute(
            "SELECT what, key, n FROM tallies WHERE what IN (SELECT value FROM json_each(?)) "
            "AND n != 0", [json.dumps(whats)]).fetchall():
        out[what][key] = n
    return out
