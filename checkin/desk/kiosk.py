"""The self check-in kiosk: a badge code, or last name and e-mail, checks a person in at the
entrance; the kiosk learns only what it needs to greet them, never anyone else's data."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.desk import arrive
from checkin.scans.access import Actor

MAX_FIELD = 200


def find_by_name_and_email(db: Database, last_name: str, email: str) -> int | None:
    """Return the id of the one person with exactly this last name and e-mail, or None."""
    last_name, email = (last_name or "").strip(), (email or "").strip()
    if not last_name or not email or len(last_name) > MAX_FIELD or len(email) > MAX_FIELD:
        return None
    # Exact, apart from letter case: an e-mail alone could be guessed from a staff page,
    # the pair is what the person knows.
    rows = db.execute("SELECT id FROM participants WHERE lower(email) = lower(?) "
                      "AND casefold(last_name) = ?", [email, last_name.casefold()]).fetchall()
    return rows[0][0] if len(rows) == 1 else None


def check_in(db: Database, actor: Actor, code: str | None = None,
             participant_id: int | None = None) -> dict[str, Any]:
    """Check a person in at the kiosk's entrance; return what the kiosk may show.

    The answer holds the scan's status and reason and, for a known person, only their
    first and last name and language: no organisation, no e-mail, no code.
    """
    recorded = arrive(db, actor, code=code, participant_id=participant_id)
    if recorded is None:
        return {"status": "rejected", "reason": "no_entrance", "person": None, "scan": None}
    result = recorded.results[0]
    person = None
    if result["participant"] is not None and result["status"] != "rejected":
        row = db.execute("SELECT id, first_name, last_name, language FROM participants "
                         "WHERE id = ?", [result["participant"]["id"]]).fetchone()
        person = dict(zip(("id", "first_name", "last_name", "language"), row, strict=True))
    return {"status": result["status"], "reason": result["reason"], "person": person,
            "scan": result["id"], "stored": recorded.stored}
