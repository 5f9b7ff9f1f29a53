"""Erasure in the scan log: the one place allowed to rewrite it, and only what identifies.

The log stays append-only for everything else. Erasing a person (or, after the event, every
person) blanks the badge codes their scans carry, organisers' free-text notes on those
scans and marshals' reasons in roll calls: a code is printed on the badge and sits in the
person's mailbox, so a code left in the log would lead from the badge back to every scan.
Who (the anonymous participant row), where, when, the verdicts, the corrections' actions and
who was accounted for in a roll call stay, so every count stays exactly as it was.
"""

from __future__ import annotations

from sqlite_utils import Database


def erase_from_log(db: Database, participant_id: int | None) -> int:
    """Blank the codes and notes in the log of one person, or of everyone when the id is None.

    Run it inside the caller's write transaction. Returns how many scans were changed.
    """
    # Every scan of a known code names its person; a scan that names nobody carries an unknown
    # code (or one scanned after its person was erased), which only the purge blanks.
    mine, params = ("participant_id = ?", [participant_id]) if participant_id is not None \
        else ("1", [])
    db.execute("UPDATE corrections SET note = NULL WHERE note IS NOT NULL AND "  # noqa: S608
               f"scan_id IN (SELECT id FROM scans WHERE {mine})", params)
    # A roll call's "left earlier" or "seen elsewhere" carries a marshal's free text.
    db.execute("UPDATE rollcall_accounts SET reason = '' WHERE reason != '' AND "  # noqa: S608
               + mine, params)
    return db.execute(f"UPDATE scans SET code = '' WHERE code != '' AND {mine}",  # noqa: S608
                      params).rowcount
