"""Organisers' corrections of scans: void one, or move it to the right checkpoint.

The scan log is never edited: checkin.scans.correct_scan stores the correction as a new row
in `corrections` and recomputes the person's location from the log. This module adds the
rules for an organiser's form on top of it, so that a pointless correction is refused with
a clear reason and stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from checkin.core.errors import DomainError
from checkin.scans.readmodel import correction_state
from checkin.scans.record import correct_scan, get_scan


class CorrectionError(DomainError, ValueError):
    """A correction is refused: a catalogue entry (`code` for machines, the text for people)."""


MAX_NOTE = 200


def scan_state(db: Database, scan_id: str) -> dict[str, Any]:
    """Return whether a scan is voided and where moves put it now."""
    return correction_state(db, scan_id)


def corrections_of(db: Database, scan_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Return each given scan's corrections, oldest first, with the moved-to checkpoint's name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for c in db.query(
            "SELECT c.*, coalesce(k.name, c.checkpoint) AS checkpoint_name FROM corrections c "
            "LEFT JOIN checkpoints k ON k.id = c.checkpoint "
            "WHERE c.scan_id IN (SELECT value FROM json_each(?)) ORDER BY c.seq",
            [json.dumps(sorted(set(scan_ids)))]):
        found.setdefault(c["scan_id"], []).append(c)
    return found


def correct(db: Database, scan_id: str, action: str, organiser: str, *,
            checkpoint: str | None = None, note: str | None = None,
            correction_id: str | None = None,
            now: datetime | None = None) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """Void a scan or move it to `checkpoint`; return (correction, scan, new).

    Raises CorrectionError (nothing stored) for an unknown scan, an unknown action or
    checkpoint, a scan already voided, a move of a rejected scan or to where it already is.
    A correction id already stored returns the stored correction with new = False.
    """
    scan = get_scan(db, scan_id)
    if scan is None:
        raise CorrectionError("unknown_scan.correction")
    if action not in ("void", "move"):
        raise CorrectionError("bad_action")
    if correction_id:
        stored = list(db.query("SELECT * FROM corrections WHERE id = ?", [correction_id]))
        if stored:
            return stored[0], scan, False
    note = (note or "").strip()[:MAX_NOTE] or None
    state = scan_state(db, scan_id)
    if state["voided"]:
        raise CorrectionError("already_voided")
    if action == "move":
        if scan["status"] == "rejected":
            raise CorrectionError("rejected_scan")
        if not checkpoint or db.execute("SELECT 1 FROM checkpoints WHERE id = ?",
                                        [checkpoint]).fetchone() is None:
            raise CorrectionError("unknown_checkpoint.correction")
        if checkpoint == (state["moved_to"] or scan["checkpoint"]):
            raise CorrectionError("same_checkpoint")
    correction, new = correct_scan(db, scan_id, action,
                                   checkpoint=checkpoint if action == "move" else None,
                                   organiser=organiser, note=note,
                                   correction_id=correction_id, now=now)
    return correction, scan, new
