"""Erasure in the scan log: the one place allowed to rewrite it, and only what identifies.

The log stays append-only for everything else. Erasing a person (or, after the event, every
person) blanks the badge codes the scans carry and organisers' free-text notes on them:
a code is printed on the badge and sits in the person's mailbox, so a code left in the log
would lead from the badge back to every scan. Who, where, when, the verdicts and the
corrections' actions stay, so every count stays exactly as it was.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlite_utils import Database

from checkin.codes import normalise


def _unmatched_scans_of(db: Database, codes: Collection[str]) -> list[int]:
    """Return the seq of scans that name none of the people but carry one of `codes`.

    Such scans were stored as typed (lower case, spaces), so the match is by normal form;
    they are few (unknown or invalid codes), so reading them is cheap.
    """
    wanted = set(codes)
    if not wanted:
        return []
    return [seq for seq, code in db.execute(
        "SELECT seq, code FROM scans WHERE participant_id IS NULL AND code != ''")
        if normalise(code) in wanted]


def erase_from_log(db: Database, participant_id: int | None, codes: Collection[str]) -> int:
    """Blank the codes and notes in the log of one person, or of everyone when the id is None.

    One person's are the scans that name them and the scans of any of their `codes` that
    matched nobody (scanned after the code was erased). Run it inside the caller's write
    transaction. Returns how many scans were changed.
    """
    if participant_id is None:
        changed = db.execute("UPDATE scans SET code = '' WHERE code != ''").rowcount
        db.execute("UPDATE corrections SET note = NULL WHERE note IS NOT NULL")
        return changed
    seqs = _unmatched_scans_of(db, codes)
    # One statement for both kinds, so that notes follow exactly the scans that were blanked.
    mine = "(participant_id = ? OR seq IN (SELECT value FROM json_each(?)))"
    params = [participant_id, "[" + ",".join(map(str, seqs)) + "]"]
    db.execute("UPDATE corrections SET note = NULL WHERE note IS NOT NULL AND "  # noqa: S608
               f"scan_id IN (SELECT id FROM scans WHERE {mine})", params)
    return db.execute(f"UPDATE scans SET code = '' WHERE code != '' AND {mine}",  # noqa: S608
                      params).rowcount
