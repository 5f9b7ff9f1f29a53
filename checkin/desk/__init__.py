"""The registration desk: walk-ins registered at the door (with the import's checks) and
checked in at the entrance as they register, and who was one. Printing is in
checkin.desk.printing, the kiosk's look-up in checkin.desk.kiosk."""

from __future__ import annotations

import uuid
from typing import Any

from sqlite_utils import Database

from checkin.core.clock import now_iso
from checkin.core.db import writing
from checkin.core.errors import Text, say
from checkin.participants.records import COLUMNS, check_rows, find_existing, save_rows
from checkin.scans import Recorded, record_scans
from checkin.scans.access import Actor, actor_ref

# Filled in for each field checked alone, so that a problem names only the field it is about.
_NEUTRAL = {"first_name": "Walk", "last_name": "In"}


class WalkInInvalid(ValueError):
    """Some fields of a walk-in are wrong: `problems` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, Text | str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


class AlreadyRegistered(ValueError):
    """The walk-in is someone already on the list: `person` says who (no second person)."""

    def __init__(self, person: dict[str, Any], by: str):
        super().__init__(f"already registered ({by})")
        self.person, self.by = person, by


def check_walk_in(db: Database, body: dict[str, Any]) -> dict[str, Any]:
    """Check a walk-in's fields exactly as an import row; return the cleaned row.

    Raises WalkInInvalid naming every bad field: unknown fields, non-text values, and each
    field the import's row check refuses.
    """
    problems: dict[str, Text | str] = {}
    raw: dict[str, str] = {}
    for key, value in body.items():
        if key not in COLUMNS:
            problems[str(key)[:40]] = say("bad_fields.unknown", allowed=", ".join(COLUMNS))
        elif value is not None and not isinstance(value, str):
            problems[key] = say("bad_fields.not_text")
        else:
            raw[key] = value or ""
    # The import's check names a column in each message; checking each field alone (beside
    # harmless neighbours) tells which field a problem belongs to, with the import's words.
    for key in COLUMNS:
        if key in problems:
            continue
        alone = {**_NEUTRAL, key: raw.get(key, "")}
        found = check_rows(db, [(1, alone)]).problems
        if found:
            problems[key] = "; ".join(str(p.message) for p in found)
    if problems:
        raise WalkInInvalid(problems)
    checked = check_rows(db, [(1, raw)])
    if checked.problems:  # a problem of the row as a whole
        raise WalkInInvalid({"row": "; ".join(str(p.message) for p in checked.problems)})
    return checked.rows[0][1]


def who(person: dict[str, Any]) -> dict[str, Any]:
    """Return what a desk may be told about an existing person: id, name, organisation."""
    return {"id": person["id"], "first_name": person["first_name"],
            "last_name": person["last_name"], "organisation": person["organisation"],
            "city": person["city"]}


def entrance(db: Database, actor: Actor) -> str | None:
    """Return where a desk or kiosk checks people in: its checkpoint, else the first entrance."""
    if actor.get("checkpoint"):
        return actor["checkpoint"]
    row = db.execute("SELECT id FROM checkpoints WHERE kind = 'entrance' "
                     "ORDER BY position, id LIMIT 1").fetchone()
    return row[0] if row else None


def arrive(db: Database, actor: Actor, *, code: str | None = None,
           participant_id: int | None = None) -> Recorded | None:
    """Check a person in at the actor's entrance as one scan of its own; None without one.

    The scan goes through the one record path, so the headcount, the summary and the exports
    count the person as any badge scanned at the door.
    """
    checkpoint = entrance(db, actor)
    if checkpoint is None:
        return None
    item: dict[str, Any] = {"id": f"{actor['role']}-{uuid.uuid4().hex}",
                            "checkpoint": checkpoint, "direction": "in",
                            "at": now_iso().replace("+00:00", "Z")}
    if participant_id is not None:
        item["participant"] = participant_id
    else:
        item["code"] = code
    return record_scans(db, actor, [item])


def register_walk_in(db: Database, body: dict[str, Any],
                     actor: Actor) -> tuple[dict[str, Any], Recorded | None]:
    """Create a person who arrived without being on the list, with a code, and check them in.

    Returns the person and their entrance scan (None if the event has no entrance): a walk-in
    stands in the venue, so they are arrived at once, by a scan of the registering device.
    Raises WalkInInvalid for bad fields and AlreadyRegistered when the e-mail (or, without
    one, the name and organisation) is someone's already: a desk never makes a second person.
    """
    row = check_walk_in(db, body)
    by = actor_ref(actor)
    with writing(db):
        existing = find_existing(db, row)
        if existing is not None:
            by_what = ("email" if row.get("email") and existing.get("email")
                       and existing["email"].lower() == row["email"].lower() else "name")
            raise AlreadyRegistered(existing, by_what)
        save_rows(db, [row])
        person = find_existing(db, row)
        assert person is not None
        stamp = now_iso()
        db.execute("UPDATE participants SET walk_in_at = ?, walk_in_by = ? WHERE id = ?",
                   [stamp, by, person["id"]])
        # In the same transaction: nobody sees a walk-in who is registered but not arrived.
        scanned = arrive(db, actor, code=person["code"])
    return {**person, "walk_in_at": stamp, "walk_in_by": by}, scanned


def walk_in_count(db: Database) -> int:
    """Return how many people were registered at the door."""
    return db.execute("SELECT count(*) FROM participants WHERE walk_in_at IS NOT NULL"
                      ).fetchone()[0]
