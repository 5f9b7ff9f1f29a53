"""Who gets a badge, in which order, in the wearer's language."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from checkin.core.errors import UnknownChoice
from checkin.core.texts import all_texts, venue_in
from checkin.scans.people import in_language
from checkin.scans.people import people as view_people

# --- Queries ----------------------------------------------------------------------------

def _letters(text: str) -> str:
    """Text without accents, case-folded: Ö sorts with O, as on a printed list."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text or "")
                   if not unicodedata.combining(ch)).casefold()


def sort_key(person: dict[str, Any]) -> tuple[str, str, str, int]:
    """Order badges for handing out: by delegation, then by family name as people look it
    up, without the lower-case particles in front ("van der Veen" under V, "von Hammerstein"
    under H)."""
    words = (person.get("last_name") or "").split()
    while len(words) > 1 and (words[0][:1].islower() or words[0][:1] in "'’"):  # van 't Hof
        words.pop(0)
    return (_letters(person.get("city") or ""), _letters(" ".join(words)),
            _letters(person.get("first_name") or ""), person.get("id") or 0)


def people(db: Database, participant_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Return badge rows: everyone in `sort_key` order, or the given ids in the given order."""
    if participant_ids is None:
        return _in_wearers_language(db, sorted(view_people(db), key=sort_key))
    ids = [int(i) for i in participant_ids]
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):  # below SQLite's limit on parameters
        chunk = ids[start:start + 500]
        rows = view_people(db, f"v.id IN ({', '.join('?' * len(chunk))})", chunk)
        found.update({row["id"]: row for row in rows})
    missing = [i for i in ids if i not in found]
    if missing:
        raise LookupError(f"no participant with id {', '.join(map(str, missing[:10]))}")
    return _in_wearers_language(db, [found[i] for i in ids])


def _in_wearers_language(db: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each badge its titles and venue in the wearer's language (unknown: plain text)."""
    texts = all_texts(db)
    for row in rows:
        row["venue"] = venue_in(texts, row.get("language"), None)
    return in_language(db, rows)


def select_participants(db: Database, only: Iterable[str] = (), cities: Iterable[str] = (),
                        working_groups: Iterable[str] = (), excursions: Iterable[str] = ()
                        ) -> list[int]:
    """Return the ids of participants matching every given filter, in `sort_key` order.

    `only` holds ids, e-mail addresses or codes; the other filters hold cities, working
    group ids and excursion ids; within one filter any value matches. Unknown people,
    groups or excursions raise UnknownChoice (a LookupError) naming them.
    """
    from checkin.core.codes import find_by_reference

    where: list[str] = []
    params: list[Any] = []
    only = [o.strip() for o in only if o.strip()]
    if only:
        ids, unknown = [], []
        for item in only:
            pid = find_by_reference(db, item)
            (ids if pid is not None else unknown).append(pid if pid is not None else item)
        if unknown:
            raise UnknownChoice("unknown_choice.participant",
                                items=", ".join(map(repr, unknown)))
        where.append(f"v.id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    cities = [c.strip().casefold() for c in cities if c.strip()]
    if cities:
        where.append(f"casefold(v.city) IN ({', '.join('?' * len(cities))})")
        params.extend(cities)
    for column, table, values in (("working_group", "working_groups", working_groups),
                                  ("excursion", "excursions", excursions)):
        values = [v.strip() for v in values if v.strip()]
        if not values:
            continue
        known = {r[0] for r in db.execute(f"SELECT id FROM {table}")}  # noqa: S608
        unknown = [v for v in values if v not in known]
        if unknown:
            raise UnknownChoice(f"unknown_choice.{column}", items=", ".join(map(repr, unknown)),
                                known=", ".join(sorted(known)))
        # The view's excursion selects the people on it today (walk-ons over the plan).
        where.append(f"v.{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)
    return [p["id"] for p in sorted(view_people(db, " AND ".join(where), params),
                                    key=sort_key)]
