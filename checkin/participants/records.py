"""Participant rows: the columns, checking one row, importing a checked list, searching."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from checkin.core.clock import now_iso
from checkin.core.codes import issue_code
from checkin.core.db import writing
from checkin.core.delegations import city_map
from checkin.core.errors import Text, field_label, say
from checkin.core.plaintext import describe, invisible_character
from checkin.core.pool import progress
from checkin.scans import people
from checkin.scans.projections import refresh_people

COLUMNS = ("first_name", "last_name", "organisation", "organisation_type", "city", "email",
           "language", "working_group", "excursion", "role", "title", "phone")
ORGANISATION_TYPES = ("administration", "university", "institution", "company", "other")
LANGUAGES = ("de", "nl", "en")
ROLES = ("participant", "speaker", "organiser", "guide")
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}$")
# A phone number as people write it: +49 421 361-0, (050) 367 91 11, 0049/421/3610.
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{2,39}$")
MAX_LENGTH = 200
#: Problems listed on the upload page and the command line; the rest are only counted.
SHOWN_PROBLEMS = 200


@dataclass
class Problem:
    """One thing wrong with an input row, with the line it came from."""

    line: int
    message: Text | str

    def __str__(self) -> str:
        return say("row.line", line=self.line, message=self.message).render()


@dataclass
class Checked:
    """Rows that passed every check, and every problem found in the others."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Told, by line, but imported all the same (a city that is none of the delegations).
    warnings: list[Problem] = field(default_factory=list)


def _text_problem(column: str, value: str) -> Text | None:
    """Say what is wrong with a text cell, if anything (naming the field by its label)."""
    label = field_label(column)
    if len(value) > MAX_LENGTH:
        return say("row.too_long", column=label, n=MAX_LENGTH)
    if "<" in value or ">" in value:
        return say("row.markup", column=label, value=repr(value))
    if any(ord(ch) < 32 for ch in value):
        return say("row.control", column=label)
    if (hidden := invisible_character(value)) is not None:
        # A right-to-left override makes "\u202eGroningen" print as "negninorG".
        return say("row.invisible", column=label, char=describe(hidden))
    # "+49 421 …" is a phone number (the export writes it as text, with an apostrophe).
    if value[:1] in ("=", "+", "@") and not (column == "phone" and PHONE.match(value)):
        # A cell starting like this becomes a formula when the export is opened in Excel.
        return say("row.formula", column=label, char=repr(value[0]))
    return None


def _not_one_of(column: str, value: str, allowed: tuple[str, ...]) -> Text:
    """Say that a cell holds none of the allowed values."""
    return say("row.not_one_of", column=field_label(column), value=repr(value),
               allowed=", ".join(allowed))


def check_rows(db: Database, rows: list[tuple[int, dict[str, str]]]) -> Checked:
    """Check raw rows (line number, column -> text) against the event; collect every problem."""
    groups = {r[0] for r in db.execute("SELECT id FROM working_groups").fetchall()}
    excursions = {r[0] for r in db.execute("SELECT id FROM excursions").fetchall()}
    out = Checked()
    cities = city_map(db)
    seen: dict[str, int] = {}
    for line, raw in rows:
        row = {c: (raw.get(c) or "").strip() for c in COLUMNS}
        # Our export writes "+49 …" as "'+49 …" (text, never a formula): read back, it is the
        # number again.
        row["phone"] = row["phone"].removeprefix("'")
        bad = []
        for col in ("first_name", "last_name"):
            if not row[col]:
                bad.append(say("row.missing", column=field_label(col)))
        for col, value in row.items():
            if value and (msg := _text_problem(col, value)):
                bad.append(msg)
        row["organisation_type"] = row["organisation_type"].lower() or "other"
        if row["organisation_type"] not in ORGANISATION_TYPES:
            bad.append(_not_one_of("organisation_type", row["organisation_type"],
                                   ORGANISATION_TYPES))
        row["language"] = row["language"].lower() or "en"
        if row["language"] not in LANGUAGES:
            bad.append(_not_one_of("language", row["language"], LANGUAGES))
        row["role"] = row["role"].lower() or "participant"
        if row["role"] not in ROLES:
            bad.append(_not_one_of("role", row["role"], ROLES))
        if row["email"] and not EMAIL.match(row["email"]):
            bad.append(say("row.email", column=field_label("email"), value=repr(row["email"])))
        if row["phone"] and not PHONE.match(row["phone"]):
            bad.append(say("row.phone", column=field_label("phone"), value=repr(row["phone"])))
        if row["working_group"] and row["working_group"] not in groups:
            bad.append(say("row.not_in_event", column=field_label("working_group"),
                           value=repr(row["working_group"])))
        if row["excursion"] and row["excursion"] not in excursions:
            bad.append(say("row.not_in_event", column=field_label("excursion"),
                           value=repr(row["excursion"])))
        key = identity(row)
        if key in seen:
            bad.append(say("row.same_person", line=seen[key]))
        else:
            seen[key] = line
        row["email"] = row["email"] or None
        row["working_group"] = row["working_group"] or None
        row["excursion"] = row["excursion"] or None
        if bad:
            out.problems.extend(Problem(line, msg) for msg in bad)
            continue
        if cities is not None and row["city"]:
            # The event file names the delegations: the city becomes the one it means.
            delegation, known = cities.delegation(row["city"])
            if not known:
                out.warnings.append(Problem(line, say(
                    "row.unknown_delegation", column=field_label("city"),
                    value=repr(row["city"]), other=delegation)))
            row["city"] = delegation
        out.rows.append((line, row))
    return out


def identity(row: dict[str, Any]) -> str:
    """The key a re-import matches a person by: e-mail, else name and organisation."""
    if row.get("email"):
        return "email:" + row["email"].lower()
    return "name:" + "\x1f".join(
        (row.get(k) or "").casefold() for k in ("first_name", "last_name", "organisation"))


class _Matcher:
    """Finds the stored participant a row describes: by e-mail, else by name and organisation."""

    def __init__(self, db: Database):
        # One read of the table instead of a query per row: imports of thousands stay fast.
        self.by_email: dict[str, dict[str, Any]] = {}
        self.by_name: dict[str, list[dict[str, Any]]] = {}
        for person in db.query("SELECT * FROM participants"):
            self.add(person)

    def add(self, person: dict[str, Any]) -> None:
        """Remember a stored (or just stored) participant."""
        if person.get("email"):
            self.by_email[person["email"].lower()] = person
        self.by_name.setdefault(identity({**person, "email": None}), []).append(person)

    def find(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """Return the participant `row` describes, if any."""
        if row.get("email") and (found := self.by_email.get(row["email"].lower())):
            return found
        for person in self.by_name.get(identity({**row, "email": None}), []):
            # Same name and organisation but two different e-mails are two people.
            if not person.get("email") or not row.get("email"):
                return person
        return None


def find_existing(db: Database, row: dict[str, Any]) -> dict[str, Any] | None:
    """Return the stored participant this row describes, if any."""
    return _Matcher(db).find(row)


class _Rollback(Exception):
    """Raised to undo a dry run's transaction."""


def save_rows(db: Database, rows: list[dict[str, Any]], dry_run: bool = False) -> dict[str, int]:
    """Create or update checked rows in one transaction; existing people keep their codes.

    With dry_run the same work is done and rolled back, so the counts are exactly those a real
    import would report.
    """
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    try:
        with writing(db):
            matcher = _Matcher(db)
            changed: list[int] = []
            for n, row in enumerate(rows):
                progress(n, len(rows))  # an import running as a job shows how far it is
                values = {c: row[c] for c in COLUMNS}
                old = matcher.find(values)
                if old is None:
                    stamp = now_iso()
                    pid = db["participants"].insert(
                        {**values, "code": "pending", "created_at": stamp, "updated_at": stamp}
                    ).last_pk
                    code = issue_code(db, pid)
                    db.execute("UPDATE participants SET code = ? WHERE id = ?", [code, pid])
                    matcher.add({**values, "id": pid})
                    changed.append(pid)
                    counts["created"] += 1
                elif any(old[c] != values[c] for c in COLUMNS):
                    db["participants"].update(old["id"], {**values, "updated_at": now_iso()})
                    old.update(values)
                    changed.append(old["id"])
                    counts["updated"] += 1
                else:
                    counts["unchanged"] += 1
            # A new person counts as registered; a changed group or excursion moves their
            # counts (the projections are kept in the same transaction as the plan).
            refresh_people(db, changed)
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return counts


def add_participant(db: Database, **fields: Any) -> dict[str, Any]:
    """Check and save one participant given as keyword arguments; return the stored row."""
    checked = check_rows(db, [(1, {k: str(v) if v is not None else "" for k, v in fields.items()})])
    if checked.problems:
        raise ValueError("; ".join(str(p.message) for p in checked.problems))
    save_rows(db, [checked.rows[0][1]])
    found = find_existing(db, checked.rows[0][1])
    assert found is not None
    return found


def get_participant(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Return one participant as the people view has them (group, today's excursion, presence)."""
    return people.person(db, participant_id)


def search(db: Database, q: str = "", *, city: str = "", working_group: str = "",
           excursion: str = "", limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
    """Find participants by every word of `q` and the filters (see checkin.scans.people)."""
    return people.search_people(db, q, city=city, working_group=working_group,
                                excursion=excursion, limit=limit, offset=offset)


def search_count(db: Database, q: str = "", *, city: str = "", working_group: str = "",
                 excursion: str = "") -> int:
    """Count the participants search() finds with no limit."""
    return people.search_count(db, q, city=city, working_group=working_group,
                               excursion=excursion)
