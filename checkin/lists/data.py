"""What the paper lists show, read once: people A–Z, each excursion's and working group's people.

One read of the people view (O(participants): the answer itself) and one pass that files each
person under their excursion and working group; every output of the lists (the PDF, the
walk-on check) reads list_data().
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlite_utils import Database

from checkin.core.event import event_info, event_zone
from checkin.core.texts import all_texts, event_in, localized
from checkin.scans.people import in_language
from checkin.scans.people import people as view_people

# Name particles a Dutch or German list files under the main name: "van den Berg" under B.
PARTICLES = {"van", "von", "de", "der", "den", "ter", "ten", "te", "'t", "’t", "het", "zu",
             "zum", "zur", "vom", "in", "op", "la", "le", "di", "da"}


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def sort_key(person: dict[str, Any]) -> tuple[str, str, int]:
    """A–Z by last name without its particles, then first name; Ä beside A, as eyes search."""
    words = (person["last_name"] or "").split()
    while len(words) > 1 and words[0].casefold() in PARTICLES:
        words = words[1:]
    return _plain(" ".join(words)), _plain(person["first_name"]), person["id"]


def list_data(db: Database, arrived: bool = False, language: str = "en") -> dict[str, Any]:
    """Return what the lists show: people A–Z, excursions and working groups with their
    people, every title in `language`."""
    # The people view: each excursion's roster lists the people on it today (a walk-on under
    # its new bus), and "arrived" is an effective scan, as everywhere.
    people = in_language(db, sorted(view_people(db), key=sort_key), language)
    on_excursion: dict[str, list[dict[str, Any]]] = {}
    in_group: dict[str, list[dict[str, Any]]] = {}
    for p in people:
        p["code4"] = (p["code"] or "")[-4:]
        p["arrived"] = arrived and bool(p["arrived"])
        # Filed in A–Z order, so every roster is A–Z too.
        on_excursion.setdefault(p["excursion"], []).append(p)
        in_group.setdefault(p["working_group"], []).append(p)
    texts = all_texts(db)
    rooms = {r["id"]: localized(texts, "room", r["id"], language, r["name"])
             for r in db.query("SELECT id, name FROM rooms")}
    excursions = [dict(x, title=localized(texts, "excursion", x["id"], language, x["title"]),
                       departure_place=localized(texts, "departure_place", x["id"], language,
                                                 x["departure_place"]),
                       people=on_excursion.get(x["id"], []))
                  for x in db.query("SELECT * FROM excursions ORDER BY departs_at, title")]
    groups = [dict(g, title=localized(texts, "working_group", g["id"], language, g["title"]),
                   room_name=rooms.get(g["room"] or "", g["room"] or ""),
                   people=in_group.get(g["id"], []))
              for g in db.query("SELECT * FROM working_groups ORDER BY area, title")]
    return {"event": event_in(event_info(db) or {}, texts, language), "people": people,
            "excursions": excursions, "groups": groups, "arrived": arrived,
            "zone": event_zone(db)}
