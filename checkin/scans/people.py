"""The people view: a participant with their working group, today's excursion and presence.

Every page, list, export and mail that shows people reads them here, so that "a person's
excursion" means the same everywhere: the one they are on today (the day's latest walk-on,
else the plan; docs/counting.md). The titles are the event's plain texts (what exports keep);
a reader asks in_language() for them in its reader's language. Columns:

- the participant's own: id, title, first_name, last_name, organisation, organisation_type,
  city, email, language, role, code, working_group, created_at, updated_at, erased_at,
  walk_in_at, walk_in_by; `planned_excursion` is the plan's excursion (only what edits or
  round-trips the plan reads it);
- working group: working_group_title, working_group_area, working_group_room (its name),
  working_group_room_id;
- excursion (assigned today): excursion (its id), excursion_title, excursion_place,
  excursion_departs_at;
- presence, from the `location` projection: arrived (0/1: has an effective scan),
  location_checkpoint and location_direction (their latest effective scan).
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.core.texts import all_texts, localized
from checkin.scans.day import ASSIGNED_EXCURSION
from checkin.scans.sql import rows

# The view's columns and joins over the participant `p`, for the scan path that selects by
# code (checkin.scans.record) and for people() below. ASSIGNED_EXCURSION is a constant.
PERSON_COLUMNS = (
    "p.id, p.title, p.first_name, p.last_name, p.organisation, p.organisation_type, p.city, "
    "p.email, p.language, p.role, p.code, p.working_group, p.created_at, p.updated_at, "
    "p.erased_at, p.walk_in_at, p.walk_in_by, p.excursion AS planned_excursion, "
    "w.title AS working_group_title, w.area AS working_group_area, "
    "r.name AS working_group_room, w.room AS working_group_room_id, x.id AS excursion, "
    "x.title AS excursion_title, "
    "x.departure_place AS excursion_place, x.departs_at AS excursion_departs_at, "
    "l.participant_id IS NOT NULL AS arrived, l.checkpoint AS location_checkpoint, "
    "l.direction AS location_direction")
PERSON_JOINS = (
    "LEFT JOIN working_groups w ON w.id = p.working_group LEFT JOIN rooms r ON r.id = w.room "
    f"LEFT JOIN excursions x ON x.id = {ASSIGNED_EXCURSION} "
    "LEFT JOIN location l ON l.participant_id = p.id")
_VIEW = f"SELECT {PERSON_COLUMNS} FROM participants p {PERSON_JOINS}"  # noqa: S608
# What the columns may be grouped by (people_by).
GROUPABLE = ("city", "organisation_type", "working_group", "excursion")
BY_NAME = "v.last_name COLLATE NOCASE, v.first_name COLLATE NOCASE"


def _where(where: str) -> str:
    return f"SELECT v.* FROM ({_VIEW}) v" + (f" WHERE {where}" if where else "")  # noqa: S608


def people(db: Database, where: str = "", params: list[Any] | None = None,
           order: str = "v.id", limit: int = -1, offset: int = 0) -> list[dict[str, Any]]:
    """Return the people view's rows (see the module) matching `where` over its columns `v`.

    `where` and `order` are the caller's SQL over the view's columns (never input: values go
    in `params`); limit -1 means all, from the `offset`th row on.
    """
    return rows(db, _where(where) + f" ORDER BY {order} LIMIT ? OFFSET ?",
                [*(params or []), limit, offset])


# The view's titles that the event file may give in several languages: (column, kind in
# checkin.core.texts, the column holding the item's id).
TRANSLATED = (("working_group_title", "working_group", "working_group"),
              ("working_group_room", "room", "working_group_room_id"),
              ("excursion_title", "excursion", "excursion"),
              ("excursion_place", "departure_place", "excursion"))


def in_language(db: Database, found: list[dict[str, Any]],
                lang: str | None = None) -> list[dict[str, Any]]:
    """Give the rows' titles (in place) in `lang`, or each person's own language when None."""
    texts = all_texts(db)
    if not texts:
        return found
    for row in found:
        reader = lang if lang is not None else row.get("language")
        for column, kind, ident in TRANSLATED:
            if column in row:
                row[column] = localized(texts, kind, row.get(ident), reader, row[column])
    return found


def people_count(db: Database, where: str = "", params: list[Any] | None = None) -> int:
    """Count the people view's rows matching `where` (as in people())."""
    return db.execute(f"SELECT count(*) FROM ({_where(where)})",  # noqa: S608
                      params or []).fetchone()[0]


def person(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Return one person's row of the people view, or None."""
    found = people(db, "v.id = ?", [participant_id])
    return found[0] if found else None


def name_matches(words: list[str], fields: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Return conditions (and their values) that every word is in one of the view's `fields`."""
    # instr on casefolded text: LIKE would treat % and _ in the query as wildcards.
    text = " || ' ' || ".join(f"v.{f}" for f in fields)
    return [f"instr(casefold({text}), ?) > 0" for _ in words], [w.casefold() for w in words]


def _search(q: str, city: str, working_group: str, excursion: str) -> tuple[str, list[Any]]:
    """The condition (and its values) of a search: every word of `q`, and the filters."""
    where, params = name_matches(q.split()[:5], ("first_name", "last_name", "organisation"))
    for column, value in (("city", city), ("working_group", working_group),
                          ("excursion", excursion)):
        if value:
            where.append(f"v.{column} = ?")
            params.append(value)
    return " AND ".join(where), params


def search_people(db: Database, q: str = "", *, city: str = "", working_group: str = "",
                  excursion: str = "", limit: int = 500, offset: int = 0
                  ) -> list[dict[str, Any]]:
    """Find people whose name or organisation contains every word of `q`, with filters.

    The excursion filter is the person's excursion today (walk-ons over the plan).
    """
    where, params = _search(q, city, working_group, excursion)
    return people(db, where, params, BY_NAME, limit, offset)


def search_count(db: Database, q: str = "", *, city: str = "", working_group: str = "",
                 excursion: str = "") -> int:
    """Count what search_people finds with no limit (a page's total, without its rows)."""
    where, params = _search(q, city, working_group, excursion)
    return people_count(db, where, params)


def people_by(db: Database, column: str) -> list[dict[str, Any]]:
    """Return registered and arrived people per value of a view column, largest first."""
    if column not in GROUPABLE:
        raise ValueError(f"cannot group by {column!r}")
    found = db.execute(
        f"SELECT coalesce(v.{column}, ''), count(*), sum(v.arrived) FROM ({_VIEW}) v "  # noqa: S608
        "GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    return [{"key": key, "registered": registered, "arrived": arrived}
            for key, registered, arrived in found]
